"""The markdown of a report section as content blocks: the one parser every writer shares.

The subset is what the narratives write and what a scripted report plausibly carries:
``#`` headings, ``**bold**`` / ``__bold__``, ``*italic*`` / ``_italic_``, ``code`` spans,
numbered lists (keeping their first number) and bullet lists (an indented line continues an
item), pipe tables, horizontal rules, and paragraphs whose single line breaks are kept (the
header section is an address block). Everything else is plain text. Nothing is escaped here:
the text stays raw, and the HTML writer escapes every piece it writes.
"""

from __future__ import annotations

import re
from collections.abc import Sequence

from mockserver.content.model import (
    Block,
    Cell,
    Heading,
    Line,
    ListBlock,
    Paragraph,
    Rule,
    Span,
    Table,
)

__all__ = ["inline_spans", "parse_markdown"]

_HEADING = re.compile(r"^(#{1,6})\s+(.*?)\s*#*\s*$")
_ORDERED = re.compile(r"^\s*(\d{1,9})[.)]\s+(.*)$")
_BULLET = re.compile(r"^\s*[-*+]\s+(.*)$")
_RULE = re.compile(r"^\s*([-*_])(\s*\1){2,}\s*$")
_TABLE_DIVIDER = re.compile(r"^\s*\|?\s*:?-{3,}:?\s*(\|\s*:?-{3,}:?\s*)*\|?\s*$")
_CODE = re.compile(r"`([^`]+)`")
_STRONG = re.compile(r"\*\*(.+?)\*\*|__(.+?)__")
_EMPHASIS = re.compile(
    r"(?<![\w*])\*(?!\s)(.+?)(?<!\s)\*(?![\w*])|(?<![\w_])_(?!\s)(.+?)(?<!\s)_(?!\w)"
)


def _emphasis(text: str, bold: bool, spans: list[Span]) -> None:
    position = 0
    for match in _EMPHASIS.finditer(text):
        if match.start() > position:
            spans.append(Span(text[position : match.start()], bold=bold))
        spans.append(Span(match.group(1) or match.group(2), bold=bold, italic=True))
        position = match.end()
    if position < len(text):
        spans.append(Span(text[position:], bold=bold))


def inline_spans(text: str) -> Line:
    """``text`` as runs of plain, bold, italic and code text (code is taken literally)."""
    spans: list[Span] = []
    for number, piece in enumerate(_CODE.split(text)):
        if number % 2:  # the inside of a code span
            spans.append(Span(piece, code=True))
            continue
        position = 0
        for match in _STRONG.finditer(piece):
            _emphasis(piece[position : match.start()], False, spans)
            _emphasis(match.group(1) or match.group(2), True, spans)
            position = match.end()
        _emphasis(piece[position:], False, spans)
    return tuple(span for span in spans if span.text)


def _pipe_cells(line: str) -> list[Cell]:
    return [Cell(inline_spans(cell.strip())) for cell in line.strip().strip("|").split("|")]


def _pipe_table(header: str, rows: Sequence[str]) -> Table:
    heads = _pipe_cells(header)
    body = [_pipe_cells(row) for row in rows]
    width = max([len(heads), *(len(row) for row in body)])
    heads += [Cell(())] * (width - len(heads))
    return Table(
        "", tuple(heads), tuple(tuple(row + [Cell(())] * (width - len(row))) for row in body)
    )


class _Blocks:
    """The blocks parsed so far, with the paragraph or list still open."""

    def __init__(self) -> None:
        self.done: list[Block] = []
        self.paragraph: list[Line] = []
        self.list_ordered: bool | None = None
        self.list_start = 1
        self.items: list[str] = []

    def close(self) -> None:
        if self.paragraph:
            self.done.append(Paragraph(tuple(self.paragraph)))
            self.paragraph = []
        if self.list_ordered is not None:
            items = tuple(inline_spans(item) for item in self.items)
            self.done.append(ListBlock(self.list_ordered, self.list_start, items))
            self.list_ordered, self.items = None, []

    def add(self, block: Block) -> None:
        self.close()
        self.done.append(block)

    def item(self, ordered: bool, start: int, text: str) -> None:
        if self.paragraph or self.list_ordered is not ordered:
            self.close()
            self.list_ordered, self.list_start = ordered, start
        self.items.append(text)

    def line(self, text: str) -> None:
        if self.list_ordered is not None:
            self.close()
        self.paragraph.append(inline_spans(text))


def parse_markdown(text: str) -> tuple[Block, ...]:
    """``text`` as blocks, in order. Never raises: unknown syntax is paragraph text."""
    lines = text.replace("\r\n", "\n").split("\n")
    blocks = _Blocks()
    index = 0
    while index < len(lines):
        line = lines[index]
        heading, ordered = _HEADING.match(line), _ORDERED.match(line)
        bullet = None if _RULE.match(line) else _BULLET.match(line)
        if not line.strip():
            blocks.close()
        elif heading:
            blocks.add(Heading(len(heading.group(1)), inline_spans(heading.group(2))))
        elif (
            line.lstrip().startswith("|")
            and index + 1 < len(lines)
            and _TABLE_DIVIDER.match(lines[index + 1])
        ):
            rows: list[str] = []
            index += 2
            while index < len(lines) and lines[index].lstrip().startswith("|"):
                rows.append(lines[index])
                index += 1
            blocks.add(_pipe_table(line, rows))
            continue
        elif _RULE.match(line):
            blocks.add(Rule())
        elif ordered:
            blocks.item(True, int(ordered.group(1)), ordered.group(2))
        elif bullet:
            blocks.item(False, 1, bullet.group(1))
        elif blocks.list_ordered is not None and line[:1] in (" ", "\t"):
            blocks.items[-1] += " " + line.strip()  # a continuation of the last item
        else:
            blocks.line(line.strip())
        index += 1
    blocks.close()
    return tuple(blocks.done)
