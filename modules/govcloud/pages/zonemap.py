"""The map of zones (boxes on an ellipse) and flows between them (arrows), laid out for the
``zone_map`` macro: the diff page marks what a change touches, the posture page shows the
platform as it is."""

from __future__ import annotations

import math
from typing import Any, Iterable

STATE_COLOURS = {"added": "#1a7f37", "removed": "#cf222e", "changed": "#bc4c00", "unchanged": "#8c959f"}
STATE_ORDER = ("removed", "added", "changed", "unchanged")
BOX_W, BOX_H = 168, 48
LEGEND = (("added", "flow added / opened"), ("removed", "flow removed / closed"), ("changed", "tenant rules changed"),
          ("unchanged", "unchanged"))


def _worst(states: Iterable[str]) -> str:
    states = set(states)
    if {"added", "removed"} <= states:
        return "changed"  # e.g. a port moved: one flow closed, another opened
    return next((s for s in STATE_ORDER if s in states), "unchanged")


def _exit(cx: float, cy: float, tx: float, ty: float) -> tuple[float, float]:
    """Where the segment from a box centre towards (tx, ty) leaves the box."""
    dx, dy = tx - cx, ty - cy
    if dx == 0 and dy == 0:
        return cx, cy
    scale = min((BOX_W / 2 + 4) / abs(dx) if dx else math.inf, (BOX_H / 2 + 4) / abs(dy) if dy else math.inf)
    return cx + dx * scale, cy + dy * scale


def _r(value: float) -> float:
    return round(value, 1)


def layout(zones: list[dict[str, Any]], flows: list[dict[str, Any]], *, title: str,
           legend: Iterable[tuple[str, str]] = LEGEND) -> dict[str, Any]:
    """``zones``: id, state (changed/unchanged), note. ``flows``: from, to, label, state
    (added/removed/changed/unchanged). Flows between the same two zones in the same direction are
    one arrow listing their protocols and ports."""
    count = max(len(zones), 1)
    width, height = 960, 200 + 110 * min(count, 6)
    cx, cy, rx, ry = width / 2, (height - 40) / 2 + 10, width / 2 - BOX_W / 2 - 30, (height - 40) / 2 - BOX_H / 2 - 20
    position = {}
    for index, zone in enumerate(zones):
        angle = -math.pi / 2 + 2 * math.pi * index / count
        position[zone["id"]] = (cx + rx * math.cos(angle), cy + ry * math.sin(angle))
    grouped: dict[tuple[str, str], list[dict[str, Any]]] = {}
    for flow in flows:
        if flow["from"] in position and flow["to"] in position and flow["from"] != flow["to"]:
            grouped.setdefault((flow["from"], flow["to"]), []).append(flow)
    edges = []
    for (source, destination), group in sorted(grouped.items()):
        state = _worst(f.get("state", "unchanged") for f in group)
        (x1, y1), (x2, y2) = position[source], position[destination]
        mx, my = (x1 + x2) / 2, (y1 + y2) / 2
        length = math.hypot(x2 - x1, y2 - y1) or 1
        # Bend every arrow to its left: a->b and b->a never overlap.
        nx, ny = -(y2 - y1) / length, (x2 - x1) / length
        qx, qy = mx + nx * 36, my + ny * 36
        sx, sy = _exit(x1, y1, qx, qy)
        ex, ey = _exit(x2, y2, qx, qy)
        edges.append({
            "source": source, "destination": destination, "state": state, "colour": STATE_COLOURS[state],
            "dashed": state == "removed", "weight": 1.4 if state == "unchanged" else 2.6,
            "path": f"M{sx:.1f},{sy:.1f} Q{qx:.1f},{qy:.1f} {ex:.1f},{ey:.1f}",
            "label": ", ".join(sorted({f["label"].split(" ", 1)[1] if " " in f["label"] else f["label"] for f in group})),
            "label_x": _r((sx + 2 * qx + ex) / 4), "label_y": _r((sy + 2 * qy + ey) / 4 - 4),
            "title": "; ".join(f["label"] for f in group) + f" ({state})",
        })
    boxes = []
    for zone in zones:
        x, y = position[zone["id"]]
        changed = zone.get("state") == "changed"
        boxes.append({"id": zone["id"], "changed": changed, "note": zone.get("note") or "",
                      "x": _r(x - BOX_W / 2), "y": _r(y - BOX_H / 2), "w": BOX_W, "h": BOX_H, "cx": _r(x), "cy": _r(y),
                      "fill": "#fff1e5" if changed else "#ffffff", "stroke": STATE_COLOURS["changed"] if changed else "#57606a",
                      "stroke_width": 2.4 if changed else 1.2})
    return {"title": title, "width": width, "height": height + 4, "colours": STATE_COLOURS, "edges": edges, "zones": boxes,
            "legend": [{"x": 20 + i * 230, "colour": STATE_COLOURS[state], "text": text} for i, (state, text) in enumerate(legend)]}
