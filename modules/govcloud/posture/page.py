"""The posture report as one self-contained HTML page (``templates/posture.html.j2``).

Every table is written into the page; the inline script only filters the tenant table (a
search box, or ``#tenant=TEXT`` in the address) and says how many rows it shows, so the page
reads the same with scripts off, printed or archived. The charts (the trend over time, the zone
map) are inline SVG.
"""

from __future__ import annotations

from typing import Any

from .. import pages
from ..pages import charts, zonemap

POSTURE_LEGEND = (("unchanged", "flow the zone matrix allows"), ("changed", "zone with a failing tenant"))


def _trend_charts(trend: dict[str, Any]) -> list[dict[str, Any]]:
    points = trend.get("points") or []
    if len(points) < 2:
        return []
    labels = [p["date"] for p in points]
    standards = trend.get("standards") or []
    compliance = {s: [(p["standards"].get(s) or {}).get("compliance") for p in points] for s in standards}
    findings = {s: [float((p["standards"].get(s) or {}).get("failed", 0)) if s in p["standards"] else None for p in points]
                for s in standards}
    return [
        {"id": "trend-compliance", "heading": "Compliance by standard (% of verdicts passed)",
         "chart": charts.line_chart("compliance by standard over time", labels, compliance, unit="%", y_max=100)},
        {"id": "trend-findings", "heading": "Failed findings by standard",
         "chart": charts.line_chart("failed findings by standard over time", labels, findings)},
    ]


def _zone_map(data: dict[str, Any]) -> dict[str, Any] | None:
    zones = data.get("zones") or []
    if not zones:
        return None
    boxes = [{"id": z["id"], "state": "changed" if z["tenants_failing"] else "unchanged",
              "note": (f"{z['kind']} · " if z["kind"] != z["id"] else "") + pages.plural(z["tenants"], "tenant") + (f" · {z['tenants_failing']} failing" if z["tenants_failing"] else "")}
             for z in zones]
    flows = [{"from": f["from"], "to": f["to"], "label": f["label"], "state": "unchanged"} for f in data.get("flows") or []]
    return zonemap.layout(boxes, flows, title=f"zones and flows of {data['env']}", legend=POSTURE_LEGEND)


def to_html(data: dict[str, Any]) -> str:
    title = f"Security posture: {data['platform']} ({data['env']}) as of {data['today']}"
    return pages.html("posture.html.j2", title=title, data=data, trend_charts=_trend_charts(data.get("trend") or {}),
                      zone_map=_zone_map(data))
