"""The dry run: everything that can be checked without writing, and an estimate.

Runs the same executor prepare/check steps the runner uses, on unsaved items, chunk by chunk.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from typing import Any

from django.conf import settings

from batch.errors import ErrorCode, ItemError, RequestProblem
from batch.operations import executor_for
from batch.operations.base import Context, PendingRef
from batch.planner import dependency_levels, plan_chunks
from batch.queueing import live_workers
from batch.request import BatchRequest, parse_request, resolve_refs
from batch.selectors import measured_costs
from medical.roles import MEDICAL_ROLES
from workouts.models import Membership
from workouts.selectors import role_in_team

DRY_RUN_SLICE = 500
SUBMIT_ROLES = {Membership.Role.TRAINER, Membership.Role.MEDIC, Membership.Role.STAFF}


@dataclass(slots=True)  # one per operation: at 100,000 operations a __dict__ each is megabytes
class ItemReport:
    op_id: str
    type: str
    # Each is the shared empty tuple until something is found: most operations have nothing to say,
    # and five empty lists each were a fifth of a 100,000-operation dry run's memory.
    errors: Sequence[dict[str, Any]] = ()
    warnings: Sequence[dict[str, Any]] = ()
    medical: Sequence[dict[str, Any]] = ()
    conflicts: Sequence[dict[str, Any]] = ()
    # Per occurrence of a series or per copy: what the run will create, move or skip, and why.
    parts: Sequence[dict[str, Any]] = ()

    @property
    def ok(self) -> bool:
        return not self.errors

    def as_dict(self) -> dict[str, Any]:
        return {
            "id": self.op_id,
            "type": self.type,
            "ok": self.ok,
            "errors": list(self.errors),
            "warnings": list(self.warnings),
            "medical": list(self.medical),
            "conflicts": list(self.conflicts),
            "parts": list(self.parts),
        }


class ItemReports(dict[str, ItemReport]):
    """{op_id: ItemReport} holding only the operations with something to say (at 100,000 clean
    operations a report each was a tenth of a submit's memory); any other operation of the request
    reads as its clean report."""

    def __init__(self, request: BatchRequest) -> None:
        super().__init__()
        self.request = request

    def __missing__(self, op_id: str) -> ItemReport:
        for op in self.request.operations:
            if op.id == op_id:
                return ItemReport(op_id=op.id, type=op.type)
        raise KeyError(op_id)

    def every(self) -> Iterator[ItemReport]:
        """A report per operation of the request, in request order."""
        for op in self.request.operations:
            yield self.get(op.id) or ItemReport(op_id=op.id, type=op.type)


@dataclass
class ValidationReport:
    request: BatchRequest
    problems: list[RequestProblem] = field(default_factory=list)
    items: dict[str, ItemReport] = field(default_factory=dict)
    estimate: dict[str, Any] = field(default_factory=dict)

    @property
    def valid(self) -> bool:
        """True when the request can be submitted: no structural problem and no item error."""
        return not self.problems and not self.item_errors

    @property
    def item_errors(self) -> int:
        return sum(1 for r in self.items.values() if r.errors)

    @property
    def warnings(self) -> int:
        return sum(len(r.warnings) for r in self.items.values())

    def every_item(self) -> Iterator[ItemReport]:
        """A report per operation, in request order (`items` may hold only those with findings)."""
        if isinstance(self.items, ItemReports):
            return self.items.every()
        return iter(self.items.values())

    def errors(self) -> list[dict[str, Any]]:
        """Every error, the request's and each operation's, as problems naming the operation (the guide's
        `errors` / `validationErrors`)."""
        out = [p.as_dict() for p in self.problems if p.severity == "error"]
        out.extend(
            {
                "operationId": r.op_id,
                "field": (e.get("details") or {}).get("field"),
                "code": e.get("code"),
                "message": e.get("message", ""),
                "severity": "error",
            }
            for r in self.items.values()
            for e in r.errors
        )
        return out

    def as_dict(self) -> dict[str, Any]:
        medical = Counter(m["verdict"] for r in self.items.values() for m in r.medical)
        errors = self.errors()
        return {
            "valid": self.valid,
            "problems": [p.as_dict() for p in self.problems],
            # The guide's names: errors (validation.errors) and validationErrors (BatchError), the same list.
            "errors": errors,
            "validationErrors": errors,
            # What was accepted but ignored or translated (progressCallback, PROMPT_USER, …).
            "warnings": [w.as_dict() for w in self.request.warnings],
            "summary": {
                "operations": len(self.request.operations),
                "ok": len(self.request.operations) - self.item_errors,
                "withErrors": self.item_errors,
                "warnings": self.warnings,
                "conflicts": sum(len(r.conflicts) for r in self.items.values()),
                "medical": dict(medical),
                # Players blockedPlayers "exclude" will leave out, counted once per operation.
                "leftOut": sum(
                    len(
                        {
                            p["playerId"]
                            for w in r.warnings
                            if w.get("code") == "PLAYERS_LEFT_OUT"
                            for p in w["players"]
                        }
                    )
                    for r in self.items.values()
                ),
            },
            "items": [r.as_dict() for r in self.every_item()],
            "estimate": self.estimate,
        }


def unchecked_operations(request: BatchRequest) -> list[str]:
    """Return the ids of operations that run without the medical gate (batch option or their own)."""
    default = request.options["medical_compliance_check"]
    return [op.id for op in request.operations if not own_check(op, default)]


def own_check(op: Any, default: bool) -> bool:
    """Whether the medical gate runs for op: its own `checkMedicalCompliance`, else the batch's."""
    if not op.may_hold("checkMedicalCompliance"):
        return default
    own = op.data.get("checkMedicalCompliance")
    return default if own is None else own


def check_access(*, user: Any, team: Any, request: BatchRequest) -> list[RequestProblem]:
    """The caller must be a member; turning the medical gate off needs medical or club staff."""
    role = role_in_team(user=user, team=team)
    if role not in SUBMIT_ROLES:
        return [RequestProblem(f"you are not a member of team {team.slug}", code=ErrorCode.PERMISSION)]
    problems = []
    claimed = request.metadata.get("userId")
    if claimed is not None and str(claimed) not in (str(user.pk), user.get_username()):
        problems.append(
            RequestProblem(
                f"names user {claimed!r}, but you are {user.get_username()!r}: "
                "a request is always sent as its caller",
                code=ErrorCode.PERMISSION,
                field="metadata.userId",
            )
        )
    if role not in MEDICAL_ROLES:
        message = "only medical staff or club staff may turn the medical compliance check off"
        if not request.options["medical_compliance_check"]:
            problems.append(
                RequestProblem(message, code=ErrorCode.PERMISSION, field="options.medicalComplianceCheck")
            )
        problems.extend(
            RequestProblem(
                message, code=ErrorCode.PERMISSION, operation_id=op.id, field="data.checkMedicalCompliance"
            )
            for op in request.operations
            if own_check(op, True) is False
        )
    return problems


def check_all_or_nothing(request: BatchRequest) -> list[RequestProblem]:
    """rollbackOnError runs the batch as one transaction: it must fit BATCH_ATOMIC_MAX_ITEMS, and every
    operation must be one a rollback can take back (a permanent DELETE cannot be)."""
    if not request.options.get("rollback_on_error"):
        return []
    limit = settings.BATCH_ATOMIC_MAX_ITEMS
    problems = []
    if len(request.operations) > limit:
        problems.append(
            RequestProblem(
                f"rollbackOnError runs the whole batch as one transaction, for at most {limit} operations; "
                f"this request has {len(request.operations)}: split it, or turn rollbackOnError off "
                "(stopOnError stops at the first failure and keeps what ran)",
                code="ALL_OR_NOTHING_TOO_LARGE",
                field="options.rollbackOnError",
            )
        )
    problems.extend(
        RequestProblem(
            f"a {op.type} that cannot be undone (permanent) cannot run under rollbackOnError, which "
            "promises all or nothing: archive instead (permanent: false), or turn rollbackOnError off",
            code=ErrorCode.NOT_UNDOABLE,
            operation_id=op.id,
            field="data.permanent" if op.type == "DELETE" else "type",
        )
        for op in request.operations
        if not executor_for(op.type).is_undoable(op.data)
    )
    return problems


def check_callback(*, team: Any, metadata: dict[str, Any]) -> list[RequestProblem]:
    """metadata.callbackUrl must be one of the team's registered webhook endpoints."""
    from webhooks.selectors import callback_registered

    url = metadata.get("callbackUrl")
    if url and not callback_registered(team=team, url=url):
        return [
            RequestProblem(
                f"callbackUrl {url!r} is not a registered webhook endpoint of team {team.slug}; "
                "register it first (POST /api/v1/webhooks)",
                code="CALLBACK_NOT_REGISTERED",
                field="metadata.callbackUrl",
            )
        ]
    return []


@dataclass(slots=True)
class DraftItem:
    """An operation as executors see it in the dry run (a BatchItem without a row: cheaper to build)."""

    op_id: str
    type: str
    data: dict[str, Any]
    priority: int = 0
    conflict_resolution: str = ""
    pk: None = None
    depends_on: tuple[int, ...] = ()


def slices(request: BatchRequest) -> Iterator[list[DraftItem]]:
    """Yield unsaved items per dependency level and type in slices, refs replaced by PendingRef placeholders.

    Lower levels first, as the runner runs them, so what a dependency plans (a CREATE's workout) is known
    when its dependants are checked.
    """
    levels = dependency_levels(request.operations)
    if not levels:  # no dependencies: one level
        yield from _slices(request.operations)
        return
    for level in sorted(set(levels.values())):
        yield from _slices([op for op in request.operations if levels[op.id] == level])


def _slices(operations: list[Any]) -> Iterator[list[DraftItem]]:
    by_type: dict[str, list[DraftItem]] = {}
    for op in operations:
        pending = {dep: PendingRef(dep) for dep in op.dependencies}
        item = DraftItem(
            op_id=op.id,
            type=op.type,
            data=resolve_refs(op.data, pending) if pending else op.data,  # a `$ref` needs a dependency
            priority=op.priority,
            conflict_resolution=op.conflict_resolution or "",
        )
        group = by_type.setdefault(op.type, [])
        group.append(item)
        if len(group) >= DRY_RUN_SLICE:
            yield group
            by_type[op.type] = []
    yield from (group for group in by_type.values() if group)


# Types whose calendar and medical checks need the saved workout: on a workout an earlier operation of
# the request creates (a `$ref`), the dry run cannot judge them, and says so rather than look clean.
# (ASSIGN on a `$ref` is judged, from the CREATE's plan.) The run judges them in full.
JUDGED_WHEN_RUN = {"UPDATE", "SCHEDULE", "DUPLICATE"}


def judged_when_run(item: DraftItem) -> dict[str, Any]:
    ref = item.data["workoutId"].op_id
    return {
        "code": "JUDGED_WHEN_RUN",
        "message": f"changes the workout operation {ref!r} creates: its calendar and medical checks run "
        "when the batch runs (players a restriction blocks are left out then, and named in the results)",
        "suggestedAction": "Read this operation's result after the run, or run it in a second batch to "
        "see its checks in a dry run first.",
    }


def batch_validate(*, user: Any, team: Any, raw: Any) -> ValidationReport:
    """Return the dry-run report of a raw exchange-format request; writes nothing."""
    request, problems = parse_request(raw)
    report = ValidationReport(request=request, problems=problems)
    if problems:
        return report
    report.problems.extend(check_all_or_nothing(request))
    report.problems.extend(check_access(user=user, team=team, request=request))
    report.problems.extend(check_callback(team=team, metadata=request.metadata))
    if report.problems:
        return report
    planned: dict[str, Any] = {}
    plan_for = frozenset(dep for op in request.operations for dep in op.dependencies)
    found = ItemReports(request)
    rows, undoable = 0, True
    for group in slices(request):
        ctx = Context(
            team=team, user=user, options=request.options, dry_run=True, planned=planned, plan_for=plan_for
        )
        executor = executor_for(group[0].type)
        executor.prepare(group, ctx)
        for item in group:
            rows += executor.estimate_rows(item.data)
            undoable = undoable and executor.is_undoable(item.data)
            errors: list[dict[str, Any]] = []
            warnings: list[dict[str, Any]] = []
            conflicts: list[dict[str, Any]] = []
            try:
                executor.check(item, ctx)
            except ItemError as error:
                entry = error.as_dict()
                if error.code == ErrorCode.CONFLICT or error.details.get("conflict"):
                    conflicts.append({**entry, "resolution": ctx.strategy_for(item), "outcome": error.status})
                (errors if error.status == "FAILED" else warnings).append(entry)
            notes = ctx.notes.get(item.op_id, {})
            if isinstance(item.data.get("workoutId"), PendingRef) and item.type in JUDGED_WHEN_RUN:
                warnings.append(judged_when_run(item))
            if errors or warnings or conflicts or notes:
                found[item.op_id] = ItemReport(
                    op_id=item.op_id,
                    type=item.type,
                    errors=errors or (),
                    warnings=warnings + notes.get("warnings", []) or (),
                    medical=notes.get("medical") or (),
                    conflicts=conflicts + notes.get("conflicts", []) or (),
                    parts=notes.get("parts") or (),
                )
    report.items = found
    for op in request.operations:  # request order
        if (entry := found.pop(op.id, None)) is not None:
            found[op.id] = entry
    report.estimate = estimate(request, sized=(rows, undoable))
    return report


def estimate(request: BatchRequest, *, sized: tuple[int, bool] | None = None) -> dict[str, Any]:
    """Rows to write, chunks, and seconds expected: a fixed cost per chunk plus each operation's cost
    (fitted from recent chunks, batch.selectors.costs), spread over the runners the workers alive can
    run at once. `workers` is how many workers listen now (None: Redis could not say).

    `sized`: (rows, undoable) when the caller already read every operation's data (the dry run)."""
    options = request.options
    rows, undoable = sized or (0, True)
    if sized is None:
        for op in request.operations:
            executor, data = executor_for(op.type), op.data
            rows += executor.estimate_rows(data)
            undoable = undoable and executor.is_undoable(data)
    costs = measured_costs()
    chunks = sum(1 for _ in plan_chunks(request.operations, chunk_size=options["chunk_size"], costs=costs))
    per_type = Counter(op.type for op in request.operations)
    work_ms = sum(count * costs[op_type] for op_type, count in per_type.items())
    slots = runner_slots(options, chunks)
    # Runners share the workers that are alive: a batch with 5 slots on one worker runs one at a time.
    alive = live_workers()
    workers = slots if alive is None else max(1, min(slots, alive))
    seconds = (work_ms + chunks * costs["_chunk"]) / 1000 / workers
    return {
        "operations": len(request.operations),
        "rows": rows,
        "chunks": chunks,
        "runners": slots,
        "workers": alive,
        "seconds": round(max(seconds, 0.05), 2),
        "perTypeMs": {t: round(costs[t], 2) for t in per_type},
        "undoable": undoable,
        "undoWindowHours": settings.BATCH_UNDO_WINDOW_HOURS,
    }


def runner_slots(options: dict[str, Any], chunks: int) -> int:
    if not options["parallel"] or options.get("rollback_on_error"):  # all or nothing: one transaction
        return 1
    return max(1, min(options["max_concurrency"], chunks, settings.BATCH_MAX_CONCURRENCY))
