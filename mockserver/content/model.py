"""One content model of a report: ordered blocks, typed table cells, charts with their geometry.

:func:`mockserver.content.reading.report_content` builds it once from a structured report;
every writer (PDF, DOCX, PNG, HTML) only lays it out. Numbers are formatted here, once, by
:func:`format_number`, and a chart's axis and bar positions are computed once
(:mod:`mockserver.content.geometry`), so the inspector page and the documents cannot show
the same report differently. Frozen dataclasses and plain strings: nothing here knows a
writer, escapes for one, or does any I/O.
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Literal

__all__ = [
    "DOCUMENT_AUTHOR",
    "DOCUMENT_DATE",
    "DOCUMENT_TITLE",
    "UNAVAILABLE_TEXT",
    "Bar",
    "Block",
    "Cell",
    "CellKind",
    "Chart",
    "Heading",
    "Line",
    "ListBlock",
    "Paragraph",
    "Preformatted",
    "ReportContent",
    "Rule",
    "Section",
    "Series",
    "Span",
    "Table",
    "Tick",
    "cell_of",
    "format_number",
    "plain_text",
]

DOCUMENT_TITLE = "Expert Accident Reconstruction Report"
DOCUMENT_AUTHOR = "Silent Witness (mock)"
#: Every document claims this creation date, so renders never depend on the wall clock.
DOCUMENT_DATE = datetime(2000, 1, 1, tzinfo=UTC)
UNAVAILABLE_TEXT = "The structured content of this report is unavailable."


# --- numbers and cells -------------------------------------------------------------------------


def format_number(value: float) -> str:
    """The one spelling of a number in every writer.

    A whole number shows no decimals whether the JSON carried ``39`` or ``39.0`` (a JSON reader
    cannot tell them apart); other numbers show their shortest exact decimal (``9.4``). No
    thousands separators: the narratives quote ``1000 lbf`` and the tables must match them.
    """
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return str(value)
    if not math.isfinite(value):
        return repr(value)
    if value.is_integer() and abs(value) < 1e16:  # beyond, repr is exponent form (1e+16)
        return str(int(value))
    return repr(value)


CellKind = Literal["text", "number", "empty", "json"]


@dataclass(frozen=True)
class Span:
    """A run of inline text and its emphasis."""

    text: str
    bold: bool = False
    italic: bool = False
    code: bool = False


#: One line of inline text.
Line = tuple[Span, ...]


@dataclass(frozen=True)
class Cell:
    """One table cell: its inline text and what it holds (writers align numbers)."""

    spans: Line
    kind: CellKind = "text"

    @property
    def text(self) -> str:
        return "".join(span.text for span in self.spans)


def plain_text(value: object) -> str:
    """Any JSON value as display text: strings as they are, numbers formatted, the rest JSON."""
    if value is None:
        return ""
    if isinstance(value, str):
        return value
    if isinstance(value, bool | int | float):
        return format_number(value)
    return json.dumps(value, ensure_ascii=False, sort_keys=True, default=str)


def cell_of(value: object) -> Cell:
    """A JSON value as a typed cell."""
    text = plain_text(value)
    if value is None:
        return Cell((), "empty")
    if isinstance(value, int | float) and not isinstance(value, bool):
        return Cell((Span(text),), "number")
    if isinstance(value, str | bool):
        return Cell((Span(text),) if text else (), "text")
    return Cell((Span(text),), "json")


# --- blocks ------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Heading:
    """A markdown heading; ``level`` is the markdown's (1-6), writers place it under the title."""

    level: int
    spans: Line


@dataclass(frozen=True)
class Paragraph:
    """A paragraph whose single line breaks are kept (the header is an address block)."""

    lines: tuple[Line, ...]


@dataclass(frozen=True)
class ListBlock:
    """A bullet list, or a numbered list counting from ``start``."""

    ordered: bool
    start: int
    items: tuple[Line, ...]


@dataclass(frozen=True)
class Rule:
    """A horizontal rule."""


@dataclass(frozen=True)
class Table:
    """A table: an optional title, an optional heading row, rows as wide as the table."""

    title: str
    heads: tuple[Cell, ...]
    rows: tuple[tuple[Cell, ...], ...]

    @property
    def width(self) -> int:
        return len(self.heads) if self.heads else max((len(row) for row in self.rows), default=0)

    @property
    def numeric_columns(self) -> tuple[bool, ...]:
        """For each column, whether its cells are numbers (some) or empty (the rest)."""
        return tuple(
            any(row[column].kind == "number" for row in self.rows)
            and all(row[column].kind in ("number", "empty") for row in self.rows)
            for column in range(self.width)
        )


@dataclass(frozen=True)
class Preformatted:
    """Data that is not a table, shown as its JSON text."""

    text: str


Block = Heading | Paragraph | ListBlock | Rule | Table | Preformatted


# --- charts ------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Tick:
    """A y-axis tick: its value, its label and its height in the plot (0 bottom, 1 top)."""

    value: float
    text: str
    position: float


@dataclass(frozen=True)
class Series:
    """One dataset: its legend label, its colour and one value (or None: no bar) per label."""

    label: str
    colour: str
    values: tuple[float | None, ...]

    @property
    def texts(self) -> tuple[str, ...]:
        return tuple("" if value is None else format_number(value) for value in self.values)


@dataclass(frozen=True)
class Bar:
    """One bar, in fractions of the plot: ``left``/``right`` of its width, ``base`` (zero)
    and ``end`` (its value) of its height. ``text`` is the value as labelled."""

    series: int
    group: int
    value: float
    text: str
    left: float
    right: float
    base: float
    end: float


@dataclass(frozen=True)
class Chart:
    """A grouped bar chart: one group per label, one bar per series, axis and bars placed."""

    kind: str
    title: str
    ylabel: str
    labels: tuple[str, ...]
    series: tuple[Series, ...]
    ticks: tuple[Tick, ...]  # empty when there is nothing to draw
    zero: float  # the height of the value 0 in the plot
    bars: tuple[Bar, ...]

    def group_centre(self, group: int) -> float:
        """The middle of group ``group``, as a fraction of the plot's width."""
        return (group + 0.5) / max(1, len(self.labels))

    @property
    def data_table(self) -> Table:
        """The chart's values as a table: a row per series, a column per label."""
        heads = (Cell(()), *(Cell((Span(label),)) for label in self.labels))
        rows = tuple(
            (
                Cell((Span(series.label),)),
                *(
                    Cell((Span(text),), "number") if text else Cell((), "empty")
                    for text in series.texts
                ),
            )
            for series in self.series
        )
        return Table("", heads, rows)


# --- sections ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class Section:
    """One section: its markdown as blocks, then its charts, then its data tables."""

    id: str
    type: str
    title: str
    blocks: tuple[Block, ...]
    charts: tuple[Chart, ...]
    tables: tuple[Table | Preformatted, ...]


@dataclass(frozen=True)
class ReportContent:
    """Every section of a report, in order; the first ``header`` section is its title page."""

    sections: tuple[Section, ...]

    @property
    def header(self) -> Section | None:
        return next((s for s in self.sections if s.type == "header"), None)

    @property
    def body(self) -> tuple[Section, ...]:
        """Every section but the title page's."""
        header = self.header
        return tuple(s for s in self.sections if s is not header)

    @property
    def unavailable(self) -> bool:
        """True when there is nothing to show (``output.report`` null, or no sections)."""
        return not self.sections
