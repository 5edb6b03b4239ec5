"""What the dashboard draws and tabulates: chart data (passed to static/js/analytics.js with json_script)
and the tables beside the charts, which are also the CSV downloads, so the three always agree."""

from __future__ import annotations

from typing import Any

from django.utils.html import escape
from django.utils.safestring import SafeString, mark_safe

from analytics.selectors.batches import ErrorRow, SeriesRow, TypeRow
from analytics.selectors.load import TrainingLoad

Table = list[list[Any]]


def _n(value: float | None, digits: int = 2) -> float | str:
    return "" if value is None else round(value, digits)


def _pct(value: float | None) -> str:
    return "" if value is None else f"{value * 100:.1f}%"


SERIES_HEADER = [
    "Group",
    "Batches",
    "Completed",
    "Completed with errors",
    "Failed",
    "Cancelled",
    "Undone or rolled back",
    "Items",
    "Items succeeded",
    "Items failed",
    "Items skipped",
    "Items cancelled",
    "Items in conflict",
    "Item success rate",
]


def series_rows(series: list[SeriesRow]) -> Table:
    return [SERIES_HEADER] + [
        [
            r.label,
            r.batches,
            r.completed,
            r.with_errors,
            r.failed_batches,
            r.cancelled_batches,
            r.undone_batches,
            r.items,
            r.succeeded,
            r.failed,
            r.skipped,
            r.cancelled,
            r.conflicted,
            _pct(r.success_rate),
        ]
        for r in series
    ]


TYPE_HEADER = [
    "Operation type",
    "Batches",
    "Items",
    "Succeeded",
    "Failed",
    "Median work per batch (ms)",
    "95th percentile work per batch (ms)",
    "Median items per second",
    "95th percentile items per second",
    "Estimated ms per item",
    "Measured ms per item",
    "Measured ÷ estimated",
]


def type_rows(types: list[TypeRow]) -> Table:
    return [TYPE_HEADER] + [
        [
            r.label,
            r.batches,
            r.items,
            r.succeeded,
            r.failed,
            _n(r.duration_p50_ms),
            _n(r.duration_p95_ms),
            _n(r.throughput_p50, 1),
            _n(r.throughput_p95, 1),
            _n(r.estimate_ms_per_item, 3),
            _n(r.actual_ms_per_item, 3),
            _n(r.estimate_ratio, 2),
        ]
        for r in types
    ]


ERROR_HEADER = [
    "Error code",
    "Items",
    "Batches",
    "Batches retried",
    "Batches undone",
    "Retried",
    "Undone",
    "Suggested action given most",
]


def error_rows(errors: list[ErrorRow]) -> Table:
    return [ERROR_HEADER] + [
        [
            r.code,
            r.items,
            r.batches,
            r.retried_batches,
            r.undone_batches,
            _pct(r.retry_rate),
            _pct(r.undo_rate),
            next((a for a, _ in r.actions if a), ""),
        ]
        for r in errors
    ]


LOAD_WEEK_HEADER = ["Week (Monday)", "Sessions", "Minutes", "Load %", "Players restricted", "Players flagged"]


def load_week_rows(load: TrainingLoad) -> Table:
    return [LOAD_WEEK_HEADER] + [
        [t.week.isoformat(), t.sessions, t.minutes, t.load, t.players_restricted, t.players_flagged]
        for t in load.totals
    ]


LOAD_PLAYER_HEADER = [
    "Player",
    "Jersey",
    "Week (Monday)",
    "Sessions",
    "Minutes",
    "Load %",
    "Change from the week before",
    "Acute:chronic (4 weeks)",
    "Flagged",
    "Restriction in effect",
]


def load_player_rows(load: TrainingLoad) -> Table:
    return [LOAD_PLAYER_HEADER] + [
        [
            p.name,
            p.jersey_number,
            w.week.isoformat(),
            w.sessions,
            w.minutes,
            w.load,
            _pct(w.change),
            _n(w.acwr),
            "yes" if w.flagged else "",
            "yes" if w.restricted else "",
        ]
        for p in load.players
        for w in p.weeks
    ]


def for_dashboard(figures: dict[str, Any]) -> dict[str, dict[str, Any]]:
    """Chart data by chart name: labels, datasets (label, values, palette key) and how to draw them."""
    series: list[SeriesRow] = figures["series"]
    types: list[TypeRow] = figures["types"]
    errors: list[ErrorRow] = figures["errors"]
    load: TrainingLoad | None = figures["load"]
    out: dict[str, dict[str, Any]] = {
        "series": {
            "kind": "bar",
            "stacked": True,
            "yTitle": "Batches",
            "labels": [r.label for r in series],
            "datasets": [
                {"label": "Completed", "color": "ok", "data": [r.completed for r in series]},
                {"label": "With errors", "color": "warn", "data": [r.with_errors for r in series]},
                {"label": "Failed", "color": "bad", "data": [r.failed_batches for r in series]},
                {"label": "Cancelled", "color": "muted", "data": [r.cancelled_batches for r in series]},
                {
                    "label": "Undone / rolled back",
                    "color": "info",
                    "data": [r.undone_batches for r in series],
                },
            ],
        },
        "durations": {
            "kind": "bar",
            "yTitle": "ms of work per batch",
            "labels": [r.label for r in types],
            "datasets": [
                {"label": "Median", "color": "info", "data": [_n(r.duration_p50_ms) or 0 for r in types]},
                {
                    "label": "95th percentile",
                    "color": "warn",
                    "data": [_n(r.duration_p95_ms) or 0 for r in types],
                },
            ],
        },
        "estimate": {
            "kind": "bar",
            "yTitle": "ms per item",
            "labels": [r.label for r in types],
            "datasets": [
                {
                    "label": "Estimated",
                    "color": "muted",
                    "data": [_n(r.estimate_ms_per_item, 3) or 0 for r in types],
                },
                {
                    "label": "Measured",
                    "color": "info",
                    "data": [_n(r.actual_ms_per_item, 3) or 0 for r in types],
                },
            ],
        },
        "errors": {
            "kind": "bar",
            "horizontal": True,
            "yTitle": "Items",
            "labels": [r.code for r in errors],
            "datasets": [{"label": "Items", "color": "bad", "data": [r.items for r in errors]}],
        },
    }
    if load is not None:
        out["load"] = {
            "kind": "bar",
            "yTitle": "Planned load % (sum over players)",
            "labels": [t.week.isoformat() for t in load.totals],
            "datasets": [{"label": "Planned load %", "color": "info", "data": [t.load for t in load.totals]}],
        }
    return out


def _columns(table: Table, picks: list[int]) -> Table:
    return [[row[i] for i in picks] for row in table]


def table_html(table: Table, caption: str) -> SafeString:
    """The table as HTML, every cell escaped. Built here, not in a template loop: a season by day is
    thousands of cells, and the template engine took most of the page's time over them."""
    head, rows = table[0], table[1:]
    out = [
        # Focusable and named: the table scrolls inside its box (axe: scrollable-region-focusable).
        '<div class="table-wrap chart-table" tabindex="0" role="region" '
        f'aria-label="Table: {escape(caption)}"><table class="table table--compact">',
        f'<caption class="visually-hidden">{escape(caption)}</caption><thead><tr>',
        *(f'<th scope="col">{escape(h)}</th>' for h in head),
        "</tr></thead><tbody>",
    ]
    for row in rows:
        out.append(f'<tr><th scope="row" class="nowrap">{escape(row[0])}</th>')
        out.extend(f'<td class="num">{escape(cell)}</td>' for cell in row[1:])
        out.append("</tr>")
    if not rows:
        out.append(f'<tr><td colspan="{len(head)}" class="empty">Nothing in this range.</td></tr>')
    out.append("</tbody></table></div>")
    return mark_safe("".join(out))  # noqa: S308 - every value above went through escape()


def tables_for_dashboard(figures: dict[str, Any]) -> dict[str, dict[str, Any]]:
    """The tables beside the charts, each with the CSV it comes from (the CSV has every column)."""
    types = type_rows(figures["types"])
    tables = {
        "series": ("series", series_rows(figures["series"]), "Batches by outcome"),
        "types": ("types", _columns(types, [0, 1, 2, 5, 6, 7, 8]), "Work time per operation type"),
        "estimate": ("types", _columns(types, [0, 2, 9, 10, 11]), "Estimate against what happened"),
        "errors": ("errors", error_rows(figures["errors"]), "Failures by error code"),
    }
    if figures["load"] is not None:
        tables["load_weeks"] = ("load-weeks", load_week_rows(figures["load"]), "Planned load per week")
    return {
        name: {"csv": csv_name, "rows": rows, "html": table_html(rows, caption)}
        for name, (csv_name, rows, caption) in tables.items()
    }
