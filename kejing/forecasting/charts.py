"""Small charts drawn as inline SVG on the server: no JavaScript library, readable on a phone, printable.

Both charts take plain numbers (``None`` = no figure) and return markup that scales to its container.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

from django.utils.html import escape
from django.utils.safestring import SafeString, mark_safe

PALETTE = ("#0b6e4f", "#2c5e9e", "#b44d12", "#7b5ea7", "#ba2525")


def _pct(v: float) -> str:
    return f"{v * 100:.0f}%"


def line_chart(
    labels: Sequence[str], series: Sequence[tuple[str, Sequence[float | None]]], title: str = ""
) -> SafeString:
    """Month-over-month lines (values are ratios, drawn as percentages); one colour per series with a legend."""
    values = [v for _, vs in series for v in vs if v is not None]
    if not labels or not values:
        return mark_safe("")
    lo, hi = min(0.0, min(values)), max(1.0, max(values))
    w, h, left, right, top, bottom = 600, 240, 44, 10, 24, 46
    pw, ph = w - left - right, h - top - bottom
    n = len(labels)

    def x(i: int) -> float:
        return left + (pw * (i + 0.5) / n)

    def y(v: float) -> float:
        return top + ph * (1 - (v - lo) / (hi - lo or 1))

    parts = [
        f'<svg class="chart" viewBox="0 0 {w} {h}" role="img" aria-label="{escape(title)}" '
        f'xmlns="http://www.w3.org/2000/svg" style="width:100%;height:auto;font-size:12px">'
    ]
    for tick in (lo, (lo + hi) / 2, hi):
        parts.append(f'<line x1="{left}" x2="{w - right}" y1="{y(tick):.1f}" y2="{y(tick):.1f}" stroke="#d9e2ec"/>')
        parts.append(f'<text x="{left - 4}" y="{y(tick) + 4:.1f}" text-anchor="end" fill="#616e7c">{_pct(tick)}</text>')
    for i, label in enumerate(labels):
        parts.append(
            f'<text x="{x(i):.1f}" y="{h - bottom + 16}" text-anchor="middle" fill="#616e7c">{escape(label)}</text>'
        )
    for k, (name, vs) in enumerate(series):
        colour = PALETTE[k % len(PALETTE)]
        points = [(x(i), y(v)) for i, v in enumerate(vs) if v is not None]
        if len(points) > 1:
            path = " ".join(f"{px:.1f},{py:.1f}" for px, py in points)
            parts.append(f'<polyline fill="none" stroke="{colour}" stroke-width="2" points="{path}"/>')
        for (px, py), v in zip(points, [v for v in vs if v is not None], strict=True):
            parts.append(f'<circle cx="{px:.1f}" cy="{py:.1f}" r="3" fill="{colour}"><title>{_pct(v)}</title></circle>')
        lx = left + k * 150
        parts.append(f'<rect x="{lx}" y="{h - 16}" width="10" height="10" fill="{colour}"/>')
        parts.append(f'<text x="{lx + 14}" y="{h - 7}" fill="#1f2933">{escape(name)}</text>')
    parts.append("</svg>")
    return mark_safe("".join(parts))


def bar_chart(
    rows: Sequence[tuple[str, float | None]], title: str = "", fmt: Callable[[float], str] = _pct
) -> SafeString:
    """Horizontal bars, one per group (a region unit, a CM …), with the value written at the end by ``fmt`` (a
    ratio as a percentage unless told otherwise: the catalogue page draws cartons)."""
    rows = [(label, v) for label, v in rows if v is not None]
    if not rows:
        return mark_safe("")
    hi = max(1.0, max(v for _, v in rows))
    lo = min(0.0, min(v for _, v in rows))
    bar, gap, left, w = 16, 6, 110, 600
    h = len(rows) * (bar + gap) + 8
    scale = (w - left - 50) / (hi - lo or 1)
    zero = left + (-lo) * scale
    parts = [
        f'<svg class="chart" viewBox="0 0 {w} {h}" role="img" aria-label="{escape(title)}" '
        f'xmlns="http://www.w3.org/2000/svg" style="width:100%;height:auto;font-size:12px">'
    ]
    for i, (label, v) in enumerate(rows):
        top = 4 + i * (bar + gap)
        x0, x1 = sorted((zero, zero + v * scale))
        colour = PALETTE[0] if v >= 0 else PALETTE[4]
        parts.append(
            f'<text x="{left - 6}" y="{top + bar - 4}" text-anchor="end" fill="#1f2933">{escape(label[:9])}</text>'
        )
        parts.append(f'<rect x="{x0:.1f}" y="{top}" width="{max(x1 - x0, 1):.1f}" height="{bar}" fill="{colour}"/>')
        parts.append(f'<text x="{x1 + 4:.1f}" y="{top + bar - 4}" fill="#1f2933">{escape(fmt(v))}</text>')
    parts.append("</svg>")
    return mark_safe("".join(parts))
