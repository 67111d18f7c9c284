"""Small inline SVG charts drawn on the server: no JavaScript library, nothing fetched, readable on a phone.

Why SVG text rather than an image: it scales to the screen, prints cleanly, is searchable, and a test can read
the numbers in it.
"""

from __future__ import annotations

from collections.abc import Sequence
from decimal import Decimal
from html import escape


def bar_chart(
    title: str,
    labels: Sequence[str],
    values: Sequence[Decimal | None],
    target: Decimal | None = None,
    suffix: str = "",
    width: int = 340,
    height: int = 150,
) -> str:
    """Bars for ``values`` (a gap for None) with their labels under them and a dashed target line."""
    pad_l, pad_b, pad_t = 8, 22, 18
    known = [v for v in values if v is not None]
    top = max([*known, target or 0, Decimal(1)])
    top = Decimal(top) * Decimal("1.1")
    n = max(len(values), 1)
    slot = (width - pad_l * 2) / n
    plot_h = height - pad_b - pad_t
    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {width} {height}" width="100%" '
        f'role="img" aria-label="{escape(title)}" class="chart">',
        f"<title>{escape(title)}</title>",
        f'<line x1="{pad_l}" y1="{height - pad_b}" x2="{width - pad_l}" y2="{height - pad_b}" stroke="#999"/>',
    ]
    for i, (label, v) in enumerate(zip(labels, values, strict=True)):
        x = pad_l + i * slot + slot * 0.15
        w = slot * 0.7
        parts.append(
            f'<text x="{x + w / 2:.1f}" y="{height - 6}" font-size="10" text-anchor="middle">{escape(label)}</text>'
        )
        if v is None:
            continue
        h = float(Decimal(v) / top) * plot_h
        y = height - pad_b - h
        parts.append(f'<rect x="{x:.1f}" y="{y:.1f}" width="{w:.1f}" height="{h:.1f}" fill="#2f6f9f"/>')
        value = f"{escape(str(v))}{escape(suffix)}"
        parts.append(f'<text x="{x + w / 2:.1f}" y="{y - 3:.1f}" font-size="10" text-anchor="middle">{value}</text>')
    if target is not None:
        y = height - pad_b - float(Decimal(target) / top) * plot_h
        dash = 'stroke="#c0392b" stroke-dasharray="4 3"'
        parts.append(f'<line x1="{pad_l}" y1="{y:.1f}" x2="{width - pad_l}" y2="{y:.1f}" {dash}/>')
    parts.append("</svg>")
    return "".join(parts)
