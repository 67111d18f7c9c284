"""Map-like pictures drawn on the server as inline SVG: no tile server, no JavaScript, works offline.

Customers are dots coloured by CM (one ``<path>`` per CM of zero-length round-capped segments, which keeps
10,000 dots to a few hundred kilobytes); a cross marks each territory's centre. Before and after share one frame
so that they can be compared side by side.
"""

from __future__ import annotations

import colorsys
from collections.abc import Sequence

from django.utils.html import escape


def colour(j: int) -> str:
    """A distinct colour for CM ``j`` (golden-angle hues, two lightness levels)."""
    h = (j * 0.618033988749895) % 1.0
    r, g, b = colorsys.hls_to_rgb(h, 0.42 if j % 2 else 0.55, 0.75)
    return f"#{int(r * 255):02x}{int(g * 255):02x}{int(b * 255):02x}"


def frame(xs: Sequence[float], ys: Sequence[float]) -> tuple[float, float, float, float]:
    """(min x, min y, width, height) in km with a 3 % margin, never empty."""
    if not xs:
        return (0.0, 0.0, 1.0, 1.0)
    x0, x1, y0, y1 = min(xs), max(xs), min(ys), max(ys)
    w, h = max(x1 - x0, 0.5), max(y1 - y0, 0.5)
    return (x0 - 0.03 * w, y0 - 0.03 * h, w * 1.06, h * 1.06)


def territory_svg(
    points: Sequence[tuple[float, float, int]],
    box: tuple[float, float, float, float],
    title: str,
    width: int = 480,
    centres: dict[int, tuple[float, float]] | None = None,
) -> str:
    """``points``: (x km, y km, CM index). North is up."""
    x0, y0, w, h = box
    height = max(120, int(width * h / w)) if w else width
    sx, sy = width / w, height / h
    by_cm: dict[int, list[str]] = {}
    for x, y, j in points:
        by_cm.setdefault(j, []).append(f"M{(x - x0) * sx:.1f} {(y0 + h - y) * sy:.1f}h0")
    dot = 2.6 if len(points) > 3000 else 4
    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {width} {height}" role="img" '
        f'style="width:100%;height:auto;background:#fbfcfd;border:1px solid #d9e2ec;border-radius:6px">'
        f"<title>{escape(title)}</title>"
    ]
    for j in sorted(by_cm):
        parts.append(
            f'<path d="{"".join(by_cm[j])}" stroke="{colour(j)}" stroke-width="{dot}" '
            'stroke-linecap="round" fill="none"/>'
        )
    for j, (cx, cy) in sorted((centres or {}).items()):
        px, py = (cx - x0) * sx, (y0 + h - cy) * sy
        parts.append(
            f'<path d="M{px - 5:.1f} {py:.1f}h10M{px:.1f} {py - 5:.1f}v10" stroke="#1f2933" stroke-width="2.5"/>'
            f'<path d="M{px - 4:.1f} {py:.1f}h8M{px:.1f} {py - 4:.1f}v8" stroke="{colour(j)}" stroke-width="1.2"/>'
        )
    # a scale bar of a round number of km
    target = w / 5
    km = next((v for v in (0.5, 1, 2, 5, 10, 20, 50, 100) if v >= target), 100)
    bar = km * sx
    parts.append(
        f'<path d="M8 {height - 8}h{bar:.1f}" stroke="#1f2933" stroke-width="2"/>'
        f'<text x="8" y="{height - 12}" font-size="11" fill="#1f2933">{km:g} km</text></svg>'
    )
    return "".join(parts)


def route_svg(
    base: tuple[float, float], stops: Sequence[tuple[float, float, str]], title: str, width: int = 340
) -> str:
    """A small sketch of a day's route: base (square), stops numbered in visiting order, straight legs."""
    xs = [base[0]] + [s[0] for s in stops]
    ys = [base[1]] + [s[1] for s in stops]
    x0, y0, w, h = frame(xs, ys)
    side = max(w, h)
    x0 -= (side - w) / 2
    y0 -= (side - h) / 2
    height = width
    k = width / side

    def px(x: float, y: float) -> tuple[float, float]:
        return (x - x0) * k, (y0 + side - y) * k

    pts = [px(*base)] + [px(s[0], s[1]) for s in stops] + [px(*base)]
    line = " ".join(f"{a:.1f},{b:.1f}" for a, b in pts)
    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="-12 -12 {width + 24} {height + 24}" role="img" '
        f'style="width:100%;max-width:{width + 24}px;height:auto;background:#fbfcfd;border:1px solid #d9e2ec;'
        f'border-radius:6px"><title>{escape(title)}</title>'
        f'<polyline points="{line}" fill="none" stroke="#2c5e9e" stroke-width="2" stroke-dasharray="5 3"/>'
    ]
    bx, by = pts[0]
    parts.append(f'<rect x="{bx - 6:.1f}" y="{by - 6:.1f}" width="12" height="12" fill="#0b6e4f"/>')
    for n, ((x, y), s) in enumerate(zip(pts[1:-1], stops, strict=True), start=1):
        parts.append(
            f'<circle cx="{x:.1f}" cy="{y:.1f}" r="9" fill="#fff" stroke="#2c5e9e" stroke-width="2"/>'
            f'<text x="{x:.1f}" y="{y + 4:.1f}" font-size="11" text-anchor="middle" fill="#1f2933">{n}'
            f"<title>{escape(s[2])}</title></text>"
        )
    parts.append("</svg>")
    return "".join(parts)
