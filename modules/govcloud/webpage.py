"""Self-contained HTML pages for auditors and security teams: one file, inline CSS and SVG.

Nothing is loaded from anywhere (no fonts, scripts, images or styles from the network), so a
page can be archived as evidence and opened offline years later. Shared by ``govcloud diff``
(the change report) and ``govcloud report`` (the posture report).
"""

from __future__ import annotations

import html
import json
import math
from typing import Any, Iterable

STATE_COLOURS = {"added": "#1a7f37", "removed": "#cf222e", "changed": "#bc4c00", "unchanged": "#8c959f"}
STATE_ORDER = ("removed", "added", "changed", "unchanged")

CSS = """
:root { --fg: #1f2328; --muted: #59636e; --line: #d1d9e0; --bg-soft: #f6f8fa;
        --add: #1a7f37; --del: #cf222e; --chg: #bc4c00; --ok: #1a7f37; --warn: #9a6700; }
* { box-sizing: border-box; }
body { font: 14px/1.5 system-ui, -apple-system, "Segoe UI", "Noto Sans CJK SC", "Microsoft YaHei", sans-serif;
       color: var(--fg); margin: 0 auto; padding: 24px; max-width: 1280px; }
h1 { font-size: 24px; margin: 0 0 4px; } h2 { font-size: 18px; margin: 28px 0 8px; border-bottom: 1px solid var(--line); padding-bottom: 4px; }
h3 { font-size: 15px; margin: 16px 0 6px; }
.meta { color: var(--muted); margin: 0 0 16px; }
table { border-collapse: collapse; width: 100%; margin: 6px 0 12px; }
th, td { border: 1px solid var(--line); padding: 4px 8px; text-align: left; vertical-align: top; }
th { background: var(--bg-soft); font-weight: 600; }
td.num, th.num { text-align: right; font-variant-numeric: tabular-nums; }
code, pre { font: 12px/1.4 ui-monospace, SFMono-Regular, Menlo, Consolas, monospace; }
pre { background: var(--bg-soft); padding: 8px; overflow-x: auto; margin: 4px 0; }
.cards { display: flex; flex-wrap: wrap; gap: 12px; margin: 8px 0 16px; }
.card { border: 1px solid var(--line); border-radius: 6px; padding: 8px 14px; min-width: 120px; }
.card b { display: block; font-size: 22px; }
.op-delete, .st-removed, .bad { color: var(--del); font-weight: 600; }
.op-replace, .st-changed, .warn { color: var(--chg); font-weight: 600; }
.op-create, .st-added, .good { color: var(--add); font-weight: 600; }
.op-update { color: #0969da; font-weight: 600; }
.muted { color: var(--muted); }
.bar { background: var(--bg-soft); border: 1px solid var(--line); height: 10px; width: 160px; display: inline-block; vertical-align: middle; }
.bar > span { display: block; height: 100%; background: #0969da; }
.bar > span.high { background: var(--del); } .bar > span.mid { background: var(--warn); }
details > summary { cursor: pointer; }
svg text { font-family: system-ui, sans-serif; }
@media print { details { display: block; } }
"""


def esc(value: Any) -> str:
    return html.escape("" if value is None else str(value), quote=True)


def value_text(value: Any) -> str:
    """A JSON value as people read it in a diff (strings quoted, maps and lists compact)."""
    return json.dumps(value, ensure_ascii=False, sort_keys=True, separators=(", ", ": "))


def table(headers: Iterable[str], rows: Iterable[Iterable[str]], *, numeric: Iterable[int] = (), attrs: str = "") -> str:
    """A table; cells are HTML already (escape text with ``esc``)."""
    numeric = set(numeric)
    head = "".join(f'<th{" class=num" if i in numeric else ""}>{esc(h)}</th>' for i, h in enumerate(headers))
    body = "".join("<tr>" + "".join(f'<td{" class=num" if i in numeric else ""}>{c}</td>' for i, c in enumerate(row)) + "</tr>"
                   for row in rows)
    return f"<table{(' ' + attrs) if attrs else ''}><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>"


def page(title: str, body: str, *, script: str = "") -> str:
    tail = f"<script>{script}</script>" if script else ""
    return ("<!DOCTYPE html>\n<html lang=\"zh-CN\"><head><meta charset=\"utf-8\">"
            "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">"
            "<meta http-equiv=\"Content-Security-Policy\" content=\"default-src 'none'; style-src 'unsafe-inline'; "
            "script-src 'unsafe-inline'; img-src data:\">"
            f"<title>{esc(title)}</title><style>{CSS}</style></head><body>{body}{tail}</body></html>\n")


# --- the zone map ----------------------------------------------------------------------------------
BOX_W, BOX_H = 168, 48


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


def zone_map(zones: list[dict[str, Any]], flows: list[dict[str, Any]], *, title: str) -> str:
    """An SVG of the zones (boxes on an ellipse) and the flows between them (arrows).

    ``zones``: id, kind, state (changed/unchanged), note. ``flows``: from, to, label, state
    (added/removed/changed/unchanged). Flows between the same two zones in the same direction
    are drawn as one arrow listing their protocols and ports.
    """
    count = max(len(zones), 1)
    width, height = 960, 200 + 110 * min(count, 6)
    cx, cy, rx, ry = width / 2, (height - 40) / 2 + 10, width / 2 - BOX_W / 2 - 30, (height - 40) / 2 - BOX_H / 2 - 20
    position = {}
    for index, zone in enumerate(zones):
        angle = -math.pi / 2 + 2 * math.pi * index / count
        position[zone["id"]] = (cx + rx * math.cos(angle), cy + ry * math.sin(angle))
    edges: dict[tuple[str, str], list[dict[str, Any]]] = {}
    for flow in flows:
        if flow["from"] in position and flow["to"] in position and flow["from"] != flow["to"]:
            edges.setdefault((flow["from"], flow["to"]), []).append(flow)
    parts = [f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {width} {height}" width="100%" role="img" '
             f'aria-label="{esc(title)}"><title>{esc(title)}</title><defs>']
    for state, colour in STATE_COLOURS.items():
        parts.append(f'<marker id="arrow-{state}" viewBox="0 0 10 10" refX="9" refY="5" markerWidth="7" markerHeight="7" '
                     f'orient="auto-start-reverse"><path d="M0,0 L10,5 L0,10 z" fill="{colour}"/></marker>')
    parts.append("</defs>")
    for (source, destination), group in sorted(edges.items()):
        state = _worst(f.get("state", "unchanged") for f in group)
        (x1, y1), (x2, y2) = position[source], position[destination]
        mx, my = (x1 + x2) / 2, (y1 + y2) / 2
        length = math.hypot(x2 - x1, y2 - y1) or 1
        # Bend every arrow to its left: a->b and b->a never overlap.
        nx, ny = -(y2 - y1) / length, (x2 - x1) / length
        qx, qy = mx + nx * 36, my + ny * 36
        sx, sy = _exit(x1, y1, qx, qy)
        ex, ey = _exit(x2, y2, qx, qy)
        colour = STATE_COLOURS[state]
        dash = ' stroke-dasharray="6 4"' if state == "removed" else ""
        weight = 1.4 if state == "unchanged" else 2.6
        ports = ", ".join(sorted({f["label"].split(" ", 1)[1] if " " in f["label"] else f["label"] for f in group}))
        labels = "; ".join(f["label"] for f in group)
        parts.append(f'<g class="flow flow-{state}" data-flow="{esc(source)}->{esc(destination)}"><title>{esc(labels)} ({state})</title>'
                     f'<path d="M{sx:.1f},{sy:.1f} Q{qx:.1f},{qy:.1f} {ex:.1f},{ey:.1f}" fill="none" stroke="{colour}" '
                     f'stroke-width="{weight}"{dash} marker-end="url(#arrow-{state})"/>'
                     f'<text x="{(sx + 2 * qx + ex) / 4:.1f}" y="{(sy + 2 * qy + ey) / 4 - 4:.1f}" font-size="11" fill="{colour}" '
                     f'text-anchor="middle">{esc(ports)}</text></g>')
    for zone in zones:
        x, y = position[zone["id"]]
        changed = zone.get("state") == "changed"
        stroke = STATE_COLOURS["changed"] if changed else "#57606a"
        fill = "#fff1e5" if changed else "#ffffff"
        note = zone.get("note") or ""
        parts.append(f'<g class="zone{" zone-changed" if changed else ""}" data-zone="{esc(zone["id"])}">'
                     f'<rect x="{x - BOX_W / 2:.1f}" y="{y - BOX_H / 2:.1f}" width="{BOX_W}" height="{BOX_H}" rx="8" '
                     f'fill="{fill}" stroke="{stroke}" stroke-width="{2.4 if changed else 1.2}"/>'
                     f'<text x="{x:.1f}" y="{y - 4:.1f}" font-size="13" font-weight="600" text-anchor="middle">{esc(zone["id"])}</text>'
                     f'<text x="{x:.1f}" y="{y + 13:.1f}" font-size="11" fill="#59636e" text-anchor="middle">{esc(note)}</text></g>')
    legend_y = height - 14
    legend = [("added", "flow added / opened"), ("removed", "flow removed / closed"), ("changed", "tenant rules changed"),
              ("unchanged", "unchanged")]
    for index, (state, text) in enumerate(legend):
        lx = 20 + index * 230
        parts.append(f'<line x1="{lx}" y1="{legend_y - 4}" x2="{lx + 30}" y2="{legend_y - 4}" stroke="{STATE_COLOURS[state]}" stroke-width="2.6"/>'
                     f'<text x="{lx + 38}" y="{legend_y}" font-size="12">{esc(text)}</text>')
    parts.append("</svg>")
    return "".join(parts)
