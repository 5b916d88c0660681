"""Issue 12 (KPIs): the chart of a period per department against the manual's targets, as SVG.

Drawn with pygal (pure Python, pinned in requirements.txt), imported here on first use only:
never at module import, so no other route pays for it at a cold start.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from chalicelib.domain import kpis


def _percent(value: Any) -> float | None:
    return None if value is None else round(float(value) * 100, 2)


def render(result: Mapping[str, Any]) -> str:
    """One dot per department and KPI (percent), and a dashed line per target."""
    import pygal  # lazily: only this route needs it
    from pygal.style import DefaultStyle

    departments = [d["department"] for d in result.get("departments") or []]
    by_code = {
        d["department"]: {k["code"]: k for k in d["kpis"]} for d in result.get("departments") or []
    }
    names = {k.code: k for k in kpis.KPIS}
    title = f"Service KPIs by department, {result['from']} to {result['to']}"
    for key in ("category", "channel"):
        if result.get(key):
            title += f" ({key}: {result[key]})"
    chart = pygal.Line(
        title=title,
        x_title="department",
        y_title="% of the period's complaints",
        x_labels=departments or ["(no complaints)"],
        x_label_rotation=30,
        range=(0, 100),
        show_y_guides=True,
        legend_at_bottom=True,
        legend_at_bottom_columns=2,
        truncate_legend=-1,
        js=[],  # no script from a CDN: the SVG is a picture, nothing to run
        style=DefaultStyle,
        width=1100,
        height=640,
        no_data_text="No complaints in this period",
    )
    for code in kpis.CHARTED:
        kpi = names[code]
        values = [_percent(by_code[d].get(code, {}).get("value")) for d in departments]
        chart.add(kpi.name, values or [None], stroke=False, dots_size=5)
    for code in kpis.CHARTED:
        kpi = names[code]
        if kpi.target is None:
            continue
        target = round(float(kpi.target) * 100, 2)
        sign = "≥" if kpi.direction == "at_least" else "≤"
        chart.add(
            f"target: {kpi.name} {sign} {target:g}%",
            [target] * max(1, len(departments)),
            show_dots=False,
            stroke_style={"width": 2, "dasharray": "6, 4"},
        )
    svg: bytes = chart.render()
    return svg.decode("utf-8")
