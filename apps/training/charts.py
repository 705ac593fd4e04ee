"""Server-rendered inline SVG line charts (no JavaScript, no plotting library in the web process)."""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
from django.utils.html import escape
from django.utils.safestring import SafeString, mark_safe

PALETTE = ("#2563eb", "#dc2626", "#16a34a", "#9333ea", "#ea580c", "#0891b2")


@dataclass(frozen=True)
class Series:
    name: str
    points: Sequence[tuple[float, float]]  # (x, y), x ascending


MAX_POINTS = 400  # per series: a days-long run logs far more steps than a chart has pixels


def thin(points: Sequence[tuple[float, float]], limit: int = MAX_POINTS) -> list[tuple[float, float]]:
    """At most ``limit`` (+1) points: the minimum and maximum of each of ``limit // 2`` buckets, in x order, so
    spikes stay visible; the last point is always kept."""
    if len(points) <= limit:
        return list(points)
    xy = np.asarray(points, dtype=np.float64)
    buckets = max(1, limit // 2)
    size = len(xy) // buckets
    body = xy[: buckets * size, 1].reshape(buckets, size)
    offsets = np.arange(buckets) * size
    picks = np.concatenate([offsets + body.argmin(axis=1), offsets + body.argmax(axis=1), [len(xy) - 1]])
    return [(float(x), float(y)) for x, y in xy[np.unique(picks)]]


def _fmt(value: float) -> str:
    if value == 0:
        return "0"
    if abs(value) >= 1000 or abs(value) < 0.01:
        return f"{value:.2e}"
    return f"{value:.3g}"


def _bounds(values: list[float]) -> tuple[float, float]:
    low, high = min(values), max(values)
    if math.isclose(low, high):
        pad = abs(low) * 0.05 or 1.0
        return low - pad, high + pad
    return low, high


def line_chart(series: Sequence[Series], *, title: str, key: str, x_label: str = "step",
               width: int = 460, height: int = 220, markers: bool = False) -> SafeString:
    """An SVG with one polyline per series, min/max axis labels and a legend; an empty chart says so."""
    left, right, top, bottom = 56, 12, 28, 34
    plot_w, plot_h = width - left - right, height - top - bottom
    drawn = [Series(s.name, thin(s.points)) for s in series if s.points]
    parts = [f'<svg class="chart" data-chart="{escape(key)}" viewBox="0 0 {width} {height}" width="{width}" '
             f'height="{height}" role="img" aria-label="{escape(title)}" xmlns="http://www.w3.org/2000/svg">',
             f'<text x="{left}" y="16" class="chart-title" font-size="13" font-weight="600">{escape(title)}</text>',
             f'<rect x="{left}" y="{top}" width="{plot_w}" height="{plot_h}" fill="none" stroke="#ccc"/>']
    if not drawn:
        parts.append(f'<text x="{left + 10}" y="{top + plot_h / 2}" font-size="12" fill="#888">no data yet</text>')
        return mark_safe("".join(parts) + "</svg>")  # every interpolated text is escaped
    xs = [x for s in drawn for x, _ in s.points]
    ys = [y for s in drawn for _, y in s.points]
    x0, x1 = _bounds(xs)
    y0, y1 = _bounds(ys)

    def sx(x: float) -> float:
        return left + (x - x0) / (x1 - x0) * plot_w

    def sy(y: float) -> float:
        return top + plot_h - (y - y0) / (y1 - y0) * plot_h

    parts += [
        f'<text x="{left - 4}" y="{top + 10}" font-size="10" text-anchor="end">{_fmt(y1)}</text>',
        f'<text x="{left - 4}" y="{top + plot_h}" font-size="10" text-anchor="end">{_fmt(y0)}</text>',
        f'<text x="{left}" y="{height - 18}" font-size="10">{_fmt(x0)}</text>',
        f'<text x="{left + plot_w}" y="{height - 18}" font-size="10" text-anchor="end">{_fmt(x1)}</text>',
        f'<text x="{left + plot_w / 2}" y="{height - 4}" font-size="10" text-anchor="middle">{escape(x_label)}</text>',
    ]
    for i, s in enumerate(drawn):
        colour = PALETTE[i % len(PALETTE)]
        coords = " ".join(f"{sx(x):.1f},{sy(y):.1f}" for x, y in s.points)
        parts.append(f'<polyline data-series="{escape(s.name)}" points="{coords}" fill="none" stroke="{colour}" '
                     f'stroke-width="1.6"/>')
        if markers or len(s.points) == 1:
            parts += [f'<circle cx="{sx(x):.1f}" cy="{sy(y):.1f}" r="2.5" fill="{colour}">'
                      f'<title>{escape(s.name)} {_fmt(y)} at {_fmt(x)}</title></circle>' for x, y in s.points]
        legend_x = left + 8 + i * 110
        parts.append(f'<text x="{legend_x}" y="{top + 14}" font-size="11" fill="{colour}">{escape(s.name)} '
                     f'{_fmt(s.points[-1][1])}</text>')
    return mark_safe("".join(parts) + "</svg>")  # every interpolated text is escaped
