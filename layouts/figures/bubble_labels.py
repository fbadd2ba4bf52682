"""Where the Modelos bubbles' numbers go, and how far the axes reach, at every width the page is seen.

The figure is built on the server, which does not know how wide the browser draws it: the
plot area is 434 px wide at a 1440 px page, 311 px at 1024 and 267 px on a 390 px phone
(Chromium, the demo; the height does not change). The bubbles keep their size in pixels
while the distances between them shrink with the width, so a label placed for one width can
land on a neighbour, and a big bubble by an axis can cover its tick labels, at another.

- `fit_range` widens an axis' range until every bubble (its radius and a margin in px) lies
  inside the plot area at the narrowest width.
- `place_labels` picks one text position per bubble that is free at every width: not on
  another label, not on another bubble, not within EDGE px of the plot area's edges. Around
  the bubble first; inside it when none of those is free and the number fits in it; else the
  least-overlapping place.
"""

from __future__ import annotations

from collections.abc import Sequence

# The plot area's width (px) at a 1440, 1024 and 390 px page (the section's column at each).
PLOT_WIDTHS = (434.0, 311.0, 267.0)
# Candidate positions around a bubble, in order of preference; INSIDE when none is free.
POSITIONS = (
    "top center",
    "bottom center",
    "middle right",
    "middle left",
    "top right",
    "top left",
    "bottom right",
    "bottom left",
)
INSIDE = "middle center"
# px a label keeps from the plot area's edges: the axes' tick labels sit right outside them,
# and the widths and the font are estimates (a «9» placed flush left of a bubble at the left
# edge printed over the «US$ 0» tick).
EDGE = 6
MARGIN = 3  # px a bubble keeps from the plot area's edges (fit_range)
CHAR_W, TEXT_H = 7.0, 13.0  # px of one digit and of a line at the labels' 11 px font

Bubble = tuple[float, float, float]  # (x, y, radius) in px from the plot area's bottom left
Box = tuple[float, float, float, float]  # (x0, y0, x1, y1) in px


def label_size(text: str) -> tuple[float, float]:
    return CHAR_W * len(text) + 2, TEXT_H


def label_box(cx: float, cy: float, r: float, position: str, w: float, h: float) -> Box:
    """The label's box in px for a bubble at (cx, cy) of radius r."""
    if position == INSIDE:
        return cx - w / 2, cy - h / 2, cx + w / 2, cy + h / 2
    vert, horiz = position.split()
    dx = {"center": -w / 2, "right": r + 2, "left": -r - 2 - w}[horiz]
    dy = {"top": r + 2, "middle": -h / 2, "bottom": -r - 2 - h}[vert]
    if vert != "middle" and horiz != "center":  # a corner: beside the bubble, half way up/down
        dy = {"top": r * 0.5, "bottom": -r * 0.5 - h}[vert]
    return cx + dx, cy + dy, cx + dx + w, cy + dy + h


def overlap(a: Box, b: Box) -> float:
    return max(0.0, min(a[2], b[2]) - max(a[0], b[0])) * max(0.0, min(a[3], b[3]) - max(a[1], b[1]))


def fits_inside(r: float, w: float, h: float) -> bool:
    """The label's box lies within the bubble (with a pixel to spare)."""
    return (w / 2 + 1) ** 2 + (h / 2 + 1) ** 2 <= r * r


def place_labels(views: Sequence[tuple[Sequence[Bubble], float]], height: float, text: Sequence[str]) -> list[str]:
    """A text position per bubble, the same at every view: views are (the bubbles in px at
    that width, the width), height the plot area's height. Greedy, biggest cost first (the
    caller's order): the first position free at every view, else INSIDE if the number fits
    in the bubble at every view and is free there, else the least-overlapping one."""
    placed: list[list[Box]] = [[] for _ in views]
    circles = [[(x - r, y - r, x + r, y + r) for x, y, r in px] for px, _ in views]  # each bubble's box, per view
    out = []
    for i, t in enumerate(text):
        w, h = label_size(t)
        inside_ok = all(fits_inside(px[i][2], w, h) for px, _ in views)
        candidates = [*POSITIONS, INSIDE] if inside_ok else list(POSITIONS)
        best, best_cost = candidates[0], float("inf")
        for pos in candidates:
            cost = 0.0
            for (px, width), boxes, discs in zip(views, placed, circles):
                x, y, r = px[i]
                box = label_box(x, y, r, pos, w, h)
                cost += sum(overlap(box, b) for b in boxes)
                cost += sum(overlap(box, c) for j, c in enumerate(discs) if j != i)
                cost += 1e6 * (box[0] < EDGE or box[2] > width - EDGE or box[1] < EDGE or box[3] > height - EDGE)
            if cost < best_cost:
                best, best_cost = pos, cost
            if cost == 0:
                break
        for (px, _width), boxes in zip(views, placed):
            x, y, r = px[i]
            boxes.append(label_box(x, y, r, best, w, h))
        out.append(best)
    return out


def fit_range(values: Sequence[float], radii: Sequence[float], lo: float, hi: float, size: float) -> list[float]:
    """[lo, hi] widened just enough that every bubble (value, radius in px, plus MARGIN) lies
    inside an axis `size` px long: a bubble by the left edge no longer covers the tick labels.

    With k = (radius + MARGIN) / size, the span L = hi - lo must hold v - k·L >= lo and
    v + k·L <= hi for every bubble: L = max(hi0, max(v + k·L)) - min(lo0, min(v - k·L)), a
    maximum of lines c + s·L with slopes s < 1 (k is capped below one half), whose least
    fixed point is the largest c / (1 - s) over the pairs of an upper and a lower end."""
    if hi <= lo or not len(values):
        return [lo, hi]
    ks = [min((r + MARGIN) / size, 0.45) for r in radii]
    tops = [(hi, 0.0), *zip(values, ks)]  # hi >= a + s·L for each (a, s)
    bottoms = [(lo, 0.0), *zip(values, ks)]  # lo <= b - s·L for each (b, s)
    span = max((a - b) / (1 - sa - sb) for a, sa in tops for b, sb in bottoms)
    return [min(b - sb * span for b, sb in bottoms), max(a + sa * span for a, sa in tops)]
