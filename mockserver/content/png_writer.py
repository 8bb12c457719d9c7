"""A chart of the content model as a PNG, for the documents to embed.

One group of bars per label, one colour per dataset, each bar labelled with its value, the
axis, ticks and bar positions of :mod:`mockserver.content.geometry` (the same as the
inspector's SVG), and a legend of the dataset labels. Only the text wrapping is this writer's:
labels are broken by their measured width.

Drawn with Pillow. Text uses DejaVu Sans when Debian's ``fonts-dejavu-core`` is installed
(``scripts/install-system-deps.sh``), else Pillow's built-in font, which lacks some characters
(the em dash), so those are transliterated. The same chart gives the same bytes on the same
machine; nothing here reads the clock or writes files.
"""

from __future__ import annotations

import io
import math
from collections.abc import Mapping
from functools import cache
from pathlib import Path
from typing import Any

from PIL import Image, ImageDraw, ImageFont

from mockserver.content.geometry import build_chart
from mockserver.content.model import Chart

__all__ = ["DEJAVU_DIRECTORY", "dejavu_font_path", "draw_chart_png", "render_chart_png"]

#: Where Debian's fonts-dejavu-core installs DejaVu Sans.
DEJAVU_DIRECTORY = Path("/usr/share/fonts/truetype/dejavu")
_DEJAVU_FILES = {"": "DejaVuSans.ttf", "B": "DejaVuSans-Bold.ttf", "I": "DejaVuSans-Oblique.ttf"}
_PLAIN_TEXT = str.maketrans(
    {"\u2014": "-", "\u2013": "-", "\u2018": "'", "\u2019": "'", "\u2026": "...", "\u2022": "*"}
)
_FontType = ImageFont.FreeTypeFont | ImageFont.ImageFont
_INK = "#1f2937"
_MUTED = "#6b7280"
_GRID = "#e5e7eb"


def dejavu_font_path(style: str = "") -> Path | None:
    """DejaVu Sans in ``style`` (``""``, ``"B"`` bold, ``"I"`` oblique), or None if absent."""
    path = DEJAVU_DIRECTORY / _DEJAVU_FILES[style]
    return path if path.is_file() else None


@cache
def _font(size: int, bold: bool = False) -> tuple[_FontType, bool]:
    """A font of ``size`` px and whether it covers Unicode (DejaVu) or only basic Latin."""
    path = dejavu_font_path("B" if bold else "") or dejavu_font_path()
    if path is not None:
        return ImageFont.truetype(str(path), size), True
    return ImageFont.load_default(size=size), False


def _text(text: object, unicode_font: bool) -> str:
    plain = str(text)
    return plain if unicode_font else plain.translate(_PLAIN_TEXT)


def _width(draw: ImageDraw.ImageDraw, text: str, font: _FontType) -> float:
    return draw.textlength(text, font=font)


def _wrapped(draw: ImageDraw.ImageDraw, text: str, font: _FontType, width: float) -> list[str]:
    """``text`` broken into at most two lines of ``width`` px, the second cut with an ellipsis."""
    lines: list[str] = []
    for word in text.split():
        if lines and _width(draw, f"{lines[-1]} {word}", font) <= width:
            lines[-1] = f"{lines[-1]} {word}"
        else:
            lines.append(word)
    if len(lines) > 2:
        lines = [lines[0], " ".join(lines[1:])]
    if len(lines) == 2:
        while _width(draw, lines[1], font) > width and len(lines[1]) > 2:
            lines[1] = lines[1][:-3].rstrip() + ".."
    return lines or [""]


def render_chart_png(
    chart: Mapping[str, Any], *, width_px: int = 900, height_px: int = 500
) -> bytes:
    """``chart`` (an entry of ``data.charts``) as a PNG. Malformed parts are skipped, never raised."""
    return draw_chart_png(build_chart(chart), width_px=width_px, height_px=height_px)


def draw_chart_png(chart: Chart, *, width_px: int = 900, height_px: int = 500) -> bytes:
    """``chart`` as a grouped bar chart, PNG-encoded, laid out on its own geometry."""
    width_px, height_px = max(200, width_px), max(150, height_px)
    scale = min(width_px / 900, height_px / 500)
    title_size, body_size = max(10, round(24 * scale)), max(8, round(16 * scale))
    title_font, unicode_font = _font(title_size, bold=True)
    body_font, _ = _font(body_size)
    small_font, _ = _font(max(8, round(14 * scale)))
    image = Image.new("RGB", (width_px, height_px), "white")
    draw = ImageDraw.Draw(image)

    draw.text(
        (width_px / 2, 14 * scale),
        _text(chart.title, unicode_font),
        font=title_font,
        fill=_INK,
        anchor="mt",
    )
    legend_y = 14 * scale + title_size * 1.6
    entries = [(_text(series.label, unicode_font), series.colour) for series in chart.series]
    legend_width = sum(_width(draw, name, body_font) + 40 * scale for name, _ in entries)
    x = (width_px - legend_width) / 2
    for name, colour in entries:
        box = 12 * scale
        draw.rectangle((x, legend_y, x + box, legend_y + box), fill=colour)
        draw.text(
            (x + box + 6 * scale, legend_y + box / 2), name, font=body_font, fill=_INK, anchor="lm"
        )
        x += _width(draw, name, body_font) + 40 * scale

    left, right = 96 * scale, width_px - 24 * scale
    top, bottom = legend_y + 34 * scale, height_px - 58 * scale
    if not chart.ticks:
        draw.text(
            (width_px / 2, (top + bottom) / 2), "No data", font=body_font, fill=_MUTED, anchor="mm"
        )
        return _png(image)

    def x_of(fraction: float) -> float:
        return left + fraction * (right - left)

    def y_of(fraction: float) -> float:
        return bottom - fraction * (bottom - top)

    for tick in chart.ticks:
        y = y_of(tick.position)
        draw.line((left, y, right, y), fill=_GRID, width=1)
        draw.text((left - 8 * scale, y), tick.text, font=small_font, fill=_MUTED, anchor="rm")
    _draw_ylabel(image, _text(chart.ylabel, unicode_font), body_font, (top + bottom) / 2, scale)

    for bar in chart.bars:
        x0, x1 = x_of(bar.left), x_of(bar.right)
        y0, y1 = y_of(max(bar.base, bar.end)), y_of(min(bar.base, bar.end))
        draw.rectangle((x0 + 2, y0, x1 - 2, max(y0 + 1, y1)), fill=chart.series[bar.series].colour)
        below = bar.end < bar.base  # a negative bar is labelled under its end
        draw.text(
            ((x0 + x1) / 2, y1 + 4 * scale if below else y0 - 4 * scale),
            bar.text,
            font=small_font,
            fill=_INK,
            anchor="mt" if below else "md",
        )
    group = (right - left) / max(1, len(chart.labels))
    for position, label in enumerate(chart.labels):
        centre = x_of(chart.group_centre(position))
        lines = _wrapped(draw, _text(label, unicode_font), body_font, group - 6)
        for line_number, line in enumerate(lines):
            y = bottom + 8 * scale + line_number * body_size * 1.25
            draw.text((centre, y), line, font=body_font, fill=_INK, anchor="mt")
    zero = y_of(chart.zero)
    draw.line((left, zero, right, zero), fill=_INK, width=max(1, round(scale)))
    draw.line((left, top, left, bottom), fill=_INK, width=max(1, round(scale)))
    return _png(image)


def _draw_ylabel(
    image: Image.Image, text: str, font: _FontType, middle: float, scale: float
) -> None:
    """``text`` rotated a quarter turn, centred on the y axis at ``middle``."""
    if not text:
        return
    probe = ImageDraw.Draw(image)
    length = max(1, math.ceil(_width(probe, text, font)))
    strip = Image.new("RGB", (length + 4, round(24 * scale) + 4), "white")
    ImageDraw.Draw(strip).text((2, 2), text, font=font, fill=_INK)
    turned = strip.rotate(90, expand=True)
    image.paste(turned, (round(10 * scale), round(middle - turned.height / 2)))


def _png(image: Image.Image) -> bytes:
    buffer = io.BytesIO()
    image.save(buffer, format="PNG")
    return buffer.getvalue()
