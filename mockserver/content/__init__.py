"""The content of a completed report: what it says, and the one model every rendering lays out.

- :mod:`~mockserver.content.structured_report` and :mod:`~mockserver.content.narratives`:
  the structured report (``output.report``) derived from a case profile; the wire JSON.
- :mod:`~mockserver.content.model`: the content model (blocks with inline emphasis, tables
  with typed cells, charts with their geometry) and :func:`~mockserver.content.model.
  format_number`, the one spelling of a number.
- :mod:`~mockserver.content.reading`, :mod:`~mockserver.content.markdown` and
  :mod:`~mockserver.content.geometry`: a structured report read into that model, once.
- Thin writers that only lay the model out: :mod:`~mockserver.content.pdf_writer` (fpdf2),
  :mod:`~mockserver.content.docx_writer` (python-docx), :mod:`~mockserver.content.png_writer`
  (Pillow, the charts the documents embed) and :mod:`~mockserver.content.html_writer` (the
  inspector's escaped HTML and SVG charts).

Pure: no Flask, no clock, no files; writers return bytes or str. Import a writer's module
directly: this package imports none of them, so the server starts without fpdf2 and
python-docx until the first download.
"""

__all__: list[str] = []
