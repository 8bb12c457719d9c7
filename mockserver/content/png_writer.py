"""A report chart (``chartType``, ``title``, ``labels``, ``datasets``, ``ylabel``) as a PNG.

The documents embed these images: one group of bars per label, one colour per dataset (the
inspector page's colours), each bar labelled with its value, a y axis from zero (or the lowest
negative value) to a round number above the largest value, and a legend of the dataset labels.

Drawn with Pillow. Text uses DejaVu Sans when Debian's ``fonts-dejavu-core`` is installed
(``scripts/install-system-deps.sh``), else Pillow's built-in font, which lacks some characters
(the em dash), so those are transliterated. The same chart gives the same bytes on the same
machine; nothing here reads the clock or writes files.
"""

from __future__ import annotations

import io
import math
from collections.abc import Mapping, Sequence
from functools import cache
from pathlib import Path
from typing import Any

from PIL import Image, ImageDraw, ImageFont

__all__ = [
    "CHART_COLOURS",
    "DEJAVU_DIRECTORY",
    "chart_numbers",
    "dejavu_font_path",
    "nice_step",
    "render_chart_png",
]

#: Bar colours, one per dataset, in order (the same as the inspector's SVG charts).
CHART_COLOURS = ("#2563eb", "#f59e0b", "#10b981", "#ef4444", "#8b5cf6", "#64748b")
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


def chart_numbers(values: object) -> list[float | None]:
    """A dataset's values as floats; anything not a finite number becomes ``None`` (no bar)."""
    if not isinstance(values, Sequence) or isinstance(values, str):
        return []
    return [
        float(v)
        if isinstance(v, int | float) and not isinstance(v, bool) and math.isfinite(v)
        else None
        for v in values
    ]


def nice_step(span: float, ticks: int = 5) -> float:
    """A round axis step (1, 2, 2.5 or 5 times a power of ten) giving about ``ticks`` ticks."""
    raw = span / ticks if span > 0 else 1.0
    magnitude = 10.0 ** math.floor(math.log10(raw))
    for factor in (1.0, 2.0, 2.5, 5.0):
        if raw <= factor * magnitude:
            return factor * magnitude
    return 10.0 * magnitude


def _format(value: float) -> str:
    return f"{value:,.0f}" if abs(value) >= 1000 else f"{value:g}"


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


def _datasets(chart: Mapping[str, Any]) -> list[tuple[str, list[float | None]]]:
    raw = chart.get("datasets")
    if not isinstance(raw, list):
        return []
    return [
        (str(item.get("label") or f"Series {number + 1}"), chart_numbers(item.get("data")))
        for number, item in enumerate(raw)
        if isinstance(item, Mapping)
    ]


def render_chart_png(
    chart: Mapping[str, Any], *, width_px: int = 900, height_px: int = 500
) -> bytes:
    """``chart`` as a grouped bar chart, PNG-encoded. Malformed parts are skipped, never raised."""
    width_px, height_px = max(200, width_px), max(150, height_px)
    scale = min(width_px / 900, height_px / 500)
    title_size, body_size = max(10, round(24 * scale)), max(8, round(16 * scale))
    title_font, unicode_font = _font(title_size, bold=True)
    body_font, _ = _font(body_size)
    small_font, _ = _font(max(8, round(14 * scale)))
    image = Image.new("RGB", (width_px, height_px), "white")
    draw = ImageDraw.Draw(image)

    raw_labels = chart.get("labels")
    labels = (
        [_text(label, unicode_font) for label in raw_labels] if isinstance(raw_labels, list) else []
    )
    series = _datasets(chart)
    count = max([len(labels), *(len(data) for _, data in series)], default=0)
    labels += [""] * (count - len(labels))
    values = [v for _, data in series for v in data if v is not None]

    title = _text(chart.get("title") or chart.get("chartType") or "Chart", unicode_font)
    draw.text((width_px / 2, 14 * scale), title, font=title_font, fill=_INK, anchor="mt")
    legend_y = 14 * scale + title_size * 1.6
    entries = [
        (_text(name, unicode_font), CHART_COLOURS[n % len(CHART_COLOURS)])
        for n, (name, _) in enumerate(series)
    ]
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
    if not values or count == 0:
        draw.text(
            (width_px / 2, (top + bottom) / 2), "No data", font=body_font, fill=_MUTED, anchor="mm"
        )
        return _png(image)

    low, high = min(0.0, *values), max(0.0, *values)
    step = nice_step(high - low)
    low = math.floor(low / step) * step
    high = max(math.ceil(high * 1.08 / step) * step, low + step)

    def y_of(value: float) -> float:
        return bottom - (value - low) / (high - low) * (bottom - top)

    tick = low
    while tick <= high + step / 2:
        y = y_of(tick)
        draw.line((left, y, right, y), fill=_GRID, width=1)
        draw.text((left - 8 * scale, y), _format(tick), font=small_font, fill=_MUTED, anchor="rm")
        tick += step
    _draw_ylabel(
        image, _text(chart.get("ylabel") or "", unicode_font), body_font, (top + bottom) / 2, scale
    )

    group = (right - left) / count
    bar = min(80 * scale, group * 0.7 / max(1, len(series)))
    for position, label in enumerate(labels):
        centre = left + group * (position + 0.5)
        first_x = centre - bar * len(series) / 2
        for number, (_, data) in enumerate(series):
            value = data[position] if position < len(data) else None
            if value is None:
                continue
            x0 = first_x + number * bar
            y0, y1 = sorted((y_of(0.0), y_of(value)))
            colour = CHART_COLOURS[number % len(CHART_COLOURS)]
            draw.rectangle((x0 + 2, y0, x0 + bar - 2, max(y0 + 1, y1)), fill=colour)
            below = value < 0  # a negative bar is labelled under its end
            draw.text(
                (x0 + bar / 2, y1 + 4 * scale if below else y0 - 4 * scale),
                _format(value),
                font=small_font,
                fill=_INK,
                anchor="mt" if below else "md",
            )
        for line_number, line in enumerate(_wrapped(draw, label, body_font, group - 6)):
            y = bottom + 8 * scale + line_number * body_size * 1.25
            draw.text((centre, y), line, font=body_font, fill=_INK, anchor="mt")
    draw.line((left, y_of(0.0), right, y_of(0.0)), fill=_INK, width=max(1, round(scale)))
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
