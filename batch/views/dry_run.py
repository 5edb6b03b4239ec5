"""The dry run as people read it: counts first, then the problems grouped by kind and by workout, then
one folded line per workout ("23 players clear"). The modal, the import page and the recipe pages share
it (`dry_run_context`, rendered by `batch/_dry_run.html`).

A 226-workout edit used to be 2,842 lines; here its length grows with the kinds of problem, not with
the players: each kind shows its first rows and folds the rest, and clean workouts fold into one line.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from types import SimpleNamespace
from typing import Any

from django.template.defaultfilters import pluralize

from batch.selectors import item_names
from batch.selectors.changes import planned_changes
from batch.wording import STRATEGY_LABELS, headline, part_rows, plain, warning_kind, warning_text

ROWS_SHOWN = 10  # per kind of problem, before "and N more"
ROWS_FOLDED = 200  # per kind, behind "and N more"
WORKOUT_LINES = 500  # one line per operation, in the folded "each workout" list
CHANGES_SHOWN = 6


@dataclass
class ProblemRow:
    op_id: str
    text: str
    next: str = ""
    alternatives: tuple[str, ...] = ()
    target: Any = None


@dataclass
class ProblemGroup:
    kind: str
    tone: str  # error, warn, info
    rows: list[ProblemRow] = field(default_factory=list)
    total: int = 0

    @property
    def workouts(self) -> int:
        return len({r.op_id for r in self.rows})

    @property
    def shown(self) -> list[ProblemRow]:
        return self.rows[:ROWS_SHOWN]

    @property
    def folded(self) -> list[ProblemRow]:
        return self.rows[ROWS_SHOWN:ROWS_FOLDED]

    @property
    def hidden(self) -> int:
        return max(self.total - ROWS_FOLDED, 0)


def _alternatives(verdicts: list[dict[str, Any]], players: set[int] | None = None) -> tuple[str, ...]:
    names = []
    for m in verdicts:
        if players is not None and m.get("playerId") not in players:
            continue
        for alts in (m.get("alternatives") or {}).values():
            names += [a.get("name", "") for a in alts]
    return tuple(dict.fromkeys(n for n in names if n))


def _item_problems(item: dict[str, Any], workouts: dict[int, str]) -> list[tuple[str, str, ProblemRow]]:
    """(kind, tone, row) for each thing a trainer should read about one operation."""
    op_type, op_id = item["type"], item["id"]
    out = []
    for e in item["errors"]:
        out.append(
            (
                headline(e),
                "error",
                ProblemRow(
                    op_id,
                    plain(e.get("message", ""), workouts=workouts),
                    plain(e.get("suggestedAction", ""), workouts=workouts),
                    _alternatives(item["medical"]) if e.get("code") == "MEDICAL_RESTRICTION" else (),
                ),
            )
        )
    for w in item["warnings"]:
        if w.get("code") == "MEDICAL_MODIFIED":
            continue  # the verdict below says it, once
        left = {p.get("playerId") for p in w.get("players", [])}
        out.append(
            (
                warning_kind(op_type, w),
                "warn",
                ProblemRow(
                    op_id,
                    warning_text(op_type, w, workouts=workouts),
                    plain(w.get("suggestedAction", ""), workouts=workouts),
                    _alternatives(item["medical"], left) if left else (),
                ),
            )
        )
    for c in item["conflicts"]:
        if "code" in c:
            continue  # a clash the strategy cannot resolve is the item's error or warning already
        chosen = STRATEGY_LABELS.get(c.get("resolution", ""), c.get("resolution", ""))
        text = plain(c.get("message", ""), workouts=workouts)
        if chosen:
            text += f" — chosen: “{chosen}”"
            if c.get("outcome"):
                text += f": {plain(str(c['outcome']), workouts=workouts).lower()}"
        out.append(("Clash handled", "warn", ProblemRow(op_id, text)))
    for m in item["medical"]:
        if m.get("verdict") == "modified":
            out.append(
                (
                    "Modified for a medical restriction",
                    "info",
                    ProblemRow(op_id, m.get("summary", ""), alternatives=_alternatives([m])),
                )
            )
    return out


TONE_ORDER = {"error": 0, "warn": 1, "info": 2}


def dry_run_context(report: Any, team: Any) -> dict[str, Any]:
    """The dry run for the template: counts, problems by kind (each row naming its workout), the
    changes before → after, and one folded line per workout with its clear players."""
    data = report.as_dict()
    operations = report.request.operations
    ops = {op.id: op for op in operations}
    workouts_named: dict[int, str] = {}

    # Grouping needs only the kinds; the rows are worded once their workouts are named (plain() puts
    # names for the ids in engine messages), so the items a group shows are kept, not yet worded.
    groups: dict[str, ProblemGroup] = {}
    kept: dict[str, list[tuple[dict[str, Any], int]]] = {}
    for item in data["items"]:
        for n, (kind, tone, row) in enumerate(_item_problems(item, {})):
            group = groups.setdefault(kind, ProblemGroup(kind, tone))
            group.total += 1
            if len(group.rows) < ROWS_FOLDED:
                group.rows.append(row)
                kept.setdefault(kind, []).append((item, n))
    ordered = sorted(groups.values(), key=lambda g: (TONE_ORDER[g.tone], -g.total, g.kind))

    lines = data["items"][:WORKOUT_LINES]
    wanted = [r.op_id for g in ordered for r in g.rows] + [i["id"] for i in lines]
    wanted += [p["operationId"] for p in data["problems"] if p.get("operationId") in ops]
    drafts = [
        SimpleNamespace(op_id=o, type=ops[o].type, data=ops[o].data, result=None)
        for o in dict.fromkeys(wanted)
        if o in ops
    ]
    names = item_names(drafts, team_id=team.pk) if drafts else {}
    workouts_named.update({n.target.id: n.target.name for n in names.values() if n.target.kind == "workout"})

    def order(target: Any) -> tuple[str, str]:
        return (str(target.start or ""), target.name)

    for group in ordered:
        group.rows = [_item_problems(item, workouts_named)[n][2] for item, n in kept[group.kind]]
        for row in group.rows:
            row.target = names[row.op_id].target
        group.rows.sort(key=lambda r: order(r.target))

    changes = planned_changes(
        team_id=team.pk, operations=[ops[i["id"]] for i in data["items"] if i["id"] in ops]
    )
    change_counts = Counter(c for fields in changes.values() for c in fields)
    problem_ops = {r.op_id for g in ordered for r in g.rows}
    workout_lines = []
    for item in lines:
        clear = [m["playerName"] for m in item["medical"] if m.get("verdict") == "compliant"]
        workout_lines.append(
            {
                "target": names[item["id"]].target,
                "type": ops[item["id"]].type if item["id"] in ops else item["type"],
                "changes": changes.get(item["id"], ()),
                "clear": clear,
                "problems": item["id"] in problem_ops,
                "errors": bool(item["errors"]),
                "parts": part_rows(item.get("parts"), workouts=workouts_named),
            }
        )
    workout_lines.sort(key=lambda line: (not line["errors"], not line["problems"], *order(line["target"])))

    for problem in data["problems"]:
        named = names.get(problem.get("operationId") or "")
        problem["target"] = named.target if named else None
        problem["plain"] = plain(problem.get("message", ""), workouts=workouts_named)
    summary = data["summary"]
    summary["clear"] = sum(len(line["clear"]) for line in workout_lines)
    problems, ops_n, warns = len(data["problems"]), summary["operations"], summary["warnings"]
    if problems:
        said = f"Dry run: {problems} problem{pluralize(problems)} to fix before running."
    elif not data["valid"]:
        said = f"Dry run: {summary['withErrors']} of {ops_n} have errors; Run stays off."
    else:
        said = f"Dry run: ready to run, {ops_n} operation{pluralize(ops_n)}"
        said += f", {warns} warning{pluralize(warns)} to read." if warns else "."
    return {
        "report": data,
        "problem_groups": ordered,
        "planned_changes": [
            (f, before, after, n) for (f, before, after), n in change_counts.most_common(CHANGES_SHOWN)
        ],
        "more_changes": max(len(change_counts) - CHANGES_SHOWN, 0),
        "workout_lines": workout_lines,
        "more_lines": max(len(data["items"]) - WORKOUT_LINES, 0),
        "report_announcement": said,
    }
