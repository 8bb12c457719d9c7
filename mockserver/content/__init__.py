"""The content of a completed report: its structured report and the documents drawn from it."""
