"""A small line chart over time for the ``line_chart`` macro: no library, no script, plain SVG."""

from __future__ import annotations

from typing import Any

PALETTE = ("#0969da", "#cf222e", "#1a7f37", "#bc4c00", "#8250df", "#57606a")


def line_chart(title: str, labels: list[str], series: dict[str, list[float | None]], *, unit: str = "",
               y_max: float | None = None, width: int = 880, height: int = 220) -> dict[str, Any]:
    """``labels``: the x axis (dates, oldest first); ``series``: name -> one value per label
    (None where a series has no value). The y axis starts at 0."""
    left, right, top, bottom = 48, 44, 28, 28
    values = [v for points in series.values() for v in points if v is not None]
    top_value = y_max if y_max is not None else max(values + [1.0])
    top_value = top_value or 1.0
    plot_w, plot_h = width - left - right, height - top - bottom
    count = len(labels)

    def x_of(index: int) -> float:
        return round(left + (plot_w / 2 if count == 1 else plot_w * index / (count - 1)), 1)

    def y_of(value: float) -> float:
        return round(top + plot_h * (1 - value / top_value), 1)

    drawn = []
    for index, (name, points) in enumerate(series.items()):
        dots = [{"x": x_of(i), "y": y_of(v), "value": f"{v:g}{unit}", "label": labels[i]} for i, v in enumerate(points) if v is not None]
        last = next((d["value"] for d in reversed(dots)), "no value")
        drawn.append({"name": name, "colour": PALETTE[index % len(PALETTE)], "dots": dots,
                      "points": " ".join(f"{d['x']},{d['y']}" for d in dots), "summary": f"latest {last}"})
    step = max(1, count // 8)
    ticks = [{"x": x_of(i), "label": labels[i]} for i in range(0, count, step)]
    if count and ticks[-1]["label"] != labels[-1]:
        ticks.append({"x": x_of(count - 1), "label": labels[-1]})
    y_ticks = [{"y": y_of(top_value * f), "label": f"{top_value * f:g}{unit}"} for f in (0, 0.25, 0.5, 0.75, 1)]
    return {"title": title, "width": width, "height": height, "left": left, "right": right, "bottom": bottom,
            "series": drawn, "x_ticks": ticks, "y_ticks": y_ticks}
