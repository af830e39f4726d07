"""The job, read as its stages: load -> file rules -> (account -> plan -> apply) -> report.

    validate_file:  load, check_file, report                          (offline)
    plan_file:      load, check_file, read account, plan, report      (reads the account)
    apply_file:     load, check_file, read account, plan, apply, re-read account, report

Each returns a RunOutcome: the exit code, the report's path and the counts the CLI, the logs
and the mail summarise.
"""

from __future__ import annotations

import asyncio
import getpass
import logging
import socket
from collections import Counter
from collections.abc import Callable, Mapping
from contextlib import nullcontext
from dataclasses import asdict, dataclass, field, replace
from datetime import UTC, datetime
from functools import partial
from pathlib import Path
from typing import Literal

import pandas as pd

from batch import __version__
from batch.account import open_client, read_account
from batch.applying import ChunkProgress, apply_operations, mark_done_earlier, partial_results
from batch.applying.stopping import StopRequest, stop_on_signals
from batch.delivery import RunSummary
from batch.delivery.lock import account_lock
from batch.errors import (
    STOPPED_HINT,
    BatchError,
    InternalError,
    NotConfirmed,
    RunStopped,
    SafetyLimit,
)
from batch.journal import Journal
from batch.loading import load
from batch.model import AccountSnapshot, AccountUser, LoadedFile, RunInfo, SeatKey, Seats
from batch.output import Output
from batch.planning import Plan, addons_needed, plan
from batch.report import check_report_target, default_report_path, write_report
from batch.rules import check_file
from batch.settings import Settings
from batch.vocabulary import EXIT_OK, EXIT_ROWS, PROBLEM_OUTCOMES, Kind, Outcome, license_label
from batch.zoom import ZoomClient

Command = Literal["validate", "plan", "apply", "inbox"]
logger = logging.getLogger(__name__)
# Asked between planning and applying (on a terminal): True to go ahead. See batch/cli/confirm.py.
Confirm = Callable[[Plan, AccountSnapshot], bool]
ProblemLine = tuple[str, str, str, str, str]  # row, email, license, code, message
SHOWN_PROBLEMS = 20  # problem lines a RunOutcome carries for the terminal; the report has all


@dataclass
class Watch:
    """What a caller that is not a terminal (the web app) follows of a run: `stop` it sets to
    stop an apply after the requests in flight; the plan, the account read before, the journal
    run and the result lines, filled in as the run gets there."""

    stop: StopRequest = field(default_factory=StopRequest)
    plan: Plan | None = None
    before: AccountSnapshot | None = None
    journal_run: int | None = None
    results: pd.DataFrame | None = None


@dataclass(frozen=True)
class RunOutcome:
    """What a run ends with: exit code, report and the figures to summarise."""

    exit_code: int
    report_path: Path
    file_name: str
    command: Command
    counts: Mapping[str, int]  # per outcome, all seven present
    seats_lines: tuple[str, ...]  # "Licensed: 33 of 34 used after the run"
    is_sandbox: bool
    account_id: str | None
    problems: tuple[ProblemLine, ...] = ()  # the first SHOWN_PROBLEMS problem lines
    problem_count: int = 0  # all of them

    def summary(self) -> RunSummary:
        """The figures the mail and the logs give of this run."""
        return RunSummary(
            file_name=self.file_name,
            command=self.command,
            is_sandbox=self.is_sandbox,
            account_id=self.account_id,
            counts=dict(self.counts),
            seats_lines=self.seats_lines,
            exit_code=self.exit_code,
            report_path=self.report_path,
        )


def validate_file(path: Path, settings: Settings, output: Output) -> RunOutcome:
    """Check a file against the file rules only; works offline."""
    started = _now()
    check_report_target(settings.report_path, path)
    loaded = _load(path, settings, output)
    results = check_file(loaded.requests)
    run = _run_info("validate", loaded, settings, started, account_id=None)
    return _finish(run, results, settings, output, before=None)


def plan_file(
    path: Path, settings: Settings, output: Output, watch: Watch | None = None
) -> RunOutcome:
    """Check a file against every rule and the account; list what would change; change nothing."""
    return asyncio.run(_plan_or_apply("plan", path, settings, output, watch=watch))


def apply_file(
    path: Path,
    settings: Settings,
    output: Output,
    command: Command = "apply",
    confirm: Confirm | None = None,
    watch: Watch | None = None,
) -> RunOutcome:
    """Plan a file, then apply it in chunks (or only plan, with `settings.dry_run`).

    `confirm(plan, account)`, when given, is asked after planning a plan with changes; when it
    returns False nothing is applied and NotConfirmed (exit 4) is raised.
    """
    return asyncio.run(_plan_or_apply(command, path, settings, output, confirm, watch))


async def _plan_or_apply(
    command: Command,
    path: Path,
    settings: Settings,
    output: Output,
    confirm: Confirm | None = None,
    watch: Watch | None = None,
) -> RunOutcome:
    started = _now()
    check_report_target(settings.report_path, path)
    writes = command != "plan" and not settings.dry_run
    # one writer per account: the account is read, planned and changed under its lock
    with account_lock(settings) if writes else nullcontext():
        return await _read_plan_apply(
            command, path, settings, output, started, confirm, watch or Watch()
        )


async def _read_plan_apply(
    command: Command,
    path: Path,
    settings: Settings,
    output: Output,
    started: datetime,
    confirm: Confirm | None,
    watch: Watch,
) -> RunOutcome:
    loaded = _load(path, settings, output)
    file_results = check_file(loaded.requests)
    async with open_client(settings) as client:
        full = settings.full_account if settings.full_account is not None else command == "inbox"

        def needed(users: Mapping[str, AccountUser]) -> set[str]:
            return addons_needed(loaded.requests, users, settings.mode)

        before = await read_account(client, settings, output, needed, full_account=full)
        try:
            the_plan = _plan(loaded, file_results, before, settings)
        except SafetyLimit as brake:
            # Nothing is changed, but the report lists what sync would remove and names the brake.
            braked = _plan(loaded, file_results, before, settings, override_brake=True)
            note = f"Stopped by the sync brake, nothing changed: {brake}."
            braked_run = _run_info(
                command, loaded, settings, started, account_id=before.account_id, notes=(note,)
            )
            braked_done = _finish(
                braked_run,
                braked.results,
                settings,
                output,
                before=before,
                projected=braked.seats_after,
            )
            brake.args = (f"{brake} (report: {braked_done.report_path})",)
            raise
        output.event("planned", file=loaded.name, operations=len(the_plan.operations))
        watch.plan, watch.before, watch.results = the_plan, before, the_plan.results
        run = partial(_run_info, command, loaded, settings, started, account_id=before.account_id)
        if command == "plan" or settings.dry_run:
            return _finish(
                run(),
                the_plan.results,
                settings,
                output,
                before=before,
                projected=the_plan.seats_after,
            )
        if confirm is not None and the_plan.operations and not confirm(the_plan, before):
            raise NotConfirmed("nothing applied: the changes were not confirmed")

        def stopping(name: str) -> None:
            output.event("stopping", "warning", signal=name,
                         message="the requests in flight finish, nothing new is sent; "
                         "signal again to quit at once")  # fmt: skip

        with (
            Journal(settings.journal_path) as journal,
            stop_on_signals(watch.stop, stopping) as stop,
        ):
            earlier = journal.applied_earlier(loaded.sha256)
            the_plan = replace(the_plan, results=mark_done_earlier(the_plan.results, earlier))
            run_id = journal.start_run(loaded.name, loaded.sha256, command, str(settings.mode))
            watch.journal_run = run_id
            journal.record_plan(run_id, the_plan.operations)
            written = partial(_report_written, journal.path, run_id, settings, output, before)
            try:
                results = await _apply(the_plan, client, journal, run_id, settings, output, stop)
            except Exception as error:
                # Stopped (the account's daily limit, a signal) or failed after changes may
                # have been made: the report of what was done first, then the error.
                watch.results = partial_results(error)
                raise _after_writes(error, written(run(), watch.results, error)) from error
            journal.finish_run(run_id, "finished")
            watch.results = results
            try:
                # the users read before, and those the run made Licensed: their add-ons
                read_before = {e for e, u in before.users.items() if u.addons_known}
                after = await read_account(
                    client,
                    settings,
                    output,
                    lambda users: needed(users) | read_before,
                    full_account=full,
                    stage="Reading the account again",
                )
            except Exception as error:  # the changes are made: report them all the same
                output.warning(f"reading the account after the run failed: {error}")
                after = None
            done = written(run(), results, None, after=after)
            assert done is not None
            return done


def _report_written(
    journal_path: Path,
    run_id: int,
    settings: Settings,
    output: Output,
    before: AccountSnapshot,
    run: RunInfo,
    results: pd.DataFrame | None,
    error: BaseException | None,
    *,
    after: AccountSnapshot | None = None,
) -> RunOutcome | None:
    """The report of a run that may have changed the account (None when there are no results).

    A report that cannot be written (a full or read-only disk) is an InternalError saying
    where the journal is and how to get the report from it.
    """
    if results is None:
        return None
    if isinstance(error, RunStopped):
        run = replace(run, notes=(*run.notes, STOPPED_HINT))
    try:
        return _finish(run, results, settings, output, before=before, after=after)
    except Exception as failure:
        logger.debug("writing the report failed", exc_info=True)
        raise InternalError(
            f"the report could not be written ({type(failure).__name__}: {failure}); what was "
            f"done is in the journal {journal_path}, run {run_id}: get its report with "
            f"`batch report --run {run_id} --journal {journal_path}`"
        ) from failure


def _after_writes(error: Exception, done: RunOutcome | None) -> BatchError:
    """The error a run ends with after applying, naming the report of what was done."""
    where = f" (report: {done.report_path})" if done is not None else ""
    if isinstance(error, BatchError):
        error.args = (f"{error}{where}",)
        return error
    logger.debug("the run failed after applying", exc_info=error)
    return InternalError(f"internal failure while applying: {type(error).__name__}: {error}{where}")


def _plan(
    loaded: LoadedFile,
    file_results: pd.DataFrame,
    before: AccountSnapshot,
    settings: Settings,
    *,
    override_brake: bool = False,
) -> Plan:
    return plan(
        loaded.requests,
        file_results,
        before,
        mode=settings.mode,
        all_or_nothing=settings.all_or_nothing,
        max_removals=settings.max_removals,
        allow_removals_override=override_brake,
    )


async def _apply(
    the_plan: Plan,
    client: ZoomClient,
    journal: Journal,
    run_id: int,
    settings: Settings,
    output: Output,
    stop: StopRequest,
) -> pd.DataFrame:
    """Send the plan's operations: a progress step per answered request, a log line per chunk."""
    with output.stage("Applying", total=len(the_plan.operations)) as advance:

        def on_chunk(chunk: ChunkProgress) -> None:
            output.event("chunk", **asdict(chunk))

        return await apply_operations(
            the_plan,
            client,
            journal,
            run_id,
            chunk_size=settings.chunk_size,
            on_chunk=on_chunk,
            stop=stop,
            on_answer=advance,
        )


def _load(path: Path, settings: Settings, output: Output) -> LoadedFile:
    with output.stage("Loading", total=None):
        loaded = load(path, limits=settings.limits, intake=settings.intake)
    where = {"sheet": loaded.sheet} if loaded.sheet is not None else {}
    output.event(
        "loaded",
        "info",
        file=loaded.name,
        **where,
        header_row=loaded.header_row,
        layout=loaded.layout,
        requests=len(loaded.requests),
    )
    for note in loaded.notes:
        output.event("input", file=loaded.name, note=note)
    return loaded


def _finish(
    run: RunInfo,
    results: pd.DataFrame,
    settings: Settings,
    output: Output,
    *,
    before: AccountSnapshot | None,
    after: AccountSnapshot | None = None,
    projected: Mapping[SeatKey, Seats] | None = None,
) -> RunOutcome:
    report_path = settings.report_path or default_report_path(
        settings.reports_dir, run.file.name, run.started
    )
    with output.stage("Writing report", total=None):
        report_path = write_report(
            report_path,
            run,
            results,
            before=before,
            after=after,
            prices=settings.prices,
            currency=settings.currency,
            replace_existing=settings.report_path is not None,
        )
    counts = outcome_counts(results)
    exit_code = EXIT_ROWS if any(counts[o] for o in PROBLEM_OUTCOMES) else EXIT_OK
    problems = results[results["outcome"].astype(str).isin([str(o) for o in PROBLEM_OUTCOMES])]
    return RunOutcome(
        exit_code=exit_code,
        report_path=report_path,
        file_name=run.file.name,
        command=run.command,
        counts=counts,
        seats_lines=seats_lines(before, after, projected),
        is_sandbox=run.is_sandbox,
        account_id=run.account_id,
        problems=problem_lines(problems.head(SHOWN_PROBLEMS)),
        problem_count=len(problems),
    )


def problem_lines(problems: pd.DataFrame) -> tuple[ProblemLine, ...]:
    """Row, email, license, code and message of result lines, as text (a sync line has no row)."""

    def text(value: object) -> str:
        return "" if value is None or value is pd.NA or value != value else str(value)

    columns = [
        problems.get(c, pd.Series("", index=problems.index))
        for c in ("row", "email", "license", "code", "message")
    ]
    return tuple(
        (text(r), text(e), text(lic), text(c), text(m))
        for r, e, lic, c, m in zip(*columns, strict=True)
    )


def outcome_counts(results: pd.DataFrame) -> dict[str, int]:
    """Result lines per outcome, every outcome present (zeros too), in the spec's order."""
    found = Counter(results["outcome"].astype(str))
    return {str(o): int(found.get(str(o), 0)) for o in Outcome}


def seats_lines(
    before: AccountSnapshot | None,
    after: AccountSnapshot | None,
    projected: Mapping[SeatKey, Seats] | None = None,
) -> tuple[str, ...]:
    """One line per license and size: how many seats are used of those purchased.

    After the run when the account was read again, else as planned (`projected`), else now.
    """
    seats: Mapping[SeatKey, Seats]
    if after is not None:
        seats, when = after.seats, "after the run"
    elif projected is not None:
        seats, when = projected, "after the run, as planned"
    elif before is not None:
        seats, when = before.seats, "now"
    else:
        return ()
    lines = []
    for key, seat in sorted(seats.items(), key=_seat_order):
        label = license_label(key[0], size=key[1]) if key[0] is not Kind.BASE else "Licensed"
        lines.append(f"{label}: {seat.used} of {seat.purchased} used {when}")
    return tuple(lines)


def _seat_order(item: tuple[SeatKey, Seats]) -> tuple[int, int]:
    (kind, size), _ = item
    return (list(Kind).index(kind), size or 0)


def _run_info(
    command: Command,
    loaded: LoadedFile,
    settings: Settings,
    started: datetime,
    *,
    account_id: str | None,
    notes: tuple[str, ...] = (),
) -> RunInfo:
    return RunInfo(
        command=command,
        file=loaded,
        started=started,
        finished=_now(),
        mode=settings.mode,
        dry_run=settings.dry_run,
        account_id=account_id,
        is_sandbox=settings.uses_sandbox and command != "validate",
        sandbox_path=str(settings.sandbox_path) if settings.sandbox_path else None,
        tool_version=__version__,
        user=f"{_user()}@{socket.gethostname()}",
        notes=notes,
    )


def _user() -> str:
    try:
        return getpass.getuser()
    except (KeyError, OSError):  # no login name in some containers
        return "unknown"


def _now() -> datetime:
    return datetime.now(UTC)
