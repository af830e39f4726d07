"""The job, read as its stages: load -> file rules -> (account -> plan -> apply) -> report.

    validate_file:  load, check_file, report                          (offline)
    plan_file:      load, check_file, read account, plan, report      (reads the account)
    apply_file:     load, check_file, read account, plan, apply, re-read account, report

Each returns a RunSummary (batch.counts): the exit code, the report's path and the counts the
CLI, the logs and the mail summarise. The run's figures are counted once, in `_finish`, and
handed to the report. A stop while applying (the account, a signal, a failure of ours) comes
from the applier as ApplyStopped carrying the results so far; their report is written and the
stop raised again naming it.
"""

from __future__ import annotations

import asyncio
import contextvars
import getpass
import logging
import socket
from collections.abc import Awaitable, Callable, Mapping
from contextlib import nullcontext
from dataclasses import asdict, dataclass, field, replace
from datetime import UTC, datetime
from functools import partial
from pathlib import Path
from typing import Any, Literal

import pandas as pd

from batch import __version__
from batch.account import begin_read, open_client, read_account
from batch.applying import ChunkProgress, apply_operations, mark_done_earlier
from batch.applying.stopping import StopRequest, stop_on_signals
from batch.counts import (
    SHOWN_PROBLEMS,
    ProblemLine,
    RunSummary,
    exit_code_of,
    outcome_counts,
    problem_lines,
    problem_table,
    seats_lines,
)
from batch.delivery.lock import account_lock
from batch.errors import (
    STOPPED_HINT,
    ApplyStopped,
    InternalError,
    NotConfirmed,
    RunStopped,
    SafetyLimit,
)
from batch.journal import Journal
from batch.loading import load
from batch.model import AccountSnapshot, LoadedFile, RunInfo, SeatKey, Seats
from batch.output import Output
from batch.planning import Plan, addons_needed_for, plan
from batch.planning import seat_moves as plan_seat_moves
from batch.report import check_report_target, default_report_path, write_report
from batch.rules import check_file
from batch.settings import Settings
from batch.zoom import ZoomClient
from batch.zoom.reading import AccountRead

Command = Literal["validate", "plan", "apply", "inbox"]
logger = logging.getLogger(__name__)
# Asked between planning and applying (on a terminal): True to go ahead. See batch/cli/confirm.py.
Confirm = Callable[[Plan, AccountSnapshot], bool]
RunOutcome = RunSummary  # the name the web app and its tests import
Checking = asyncio.Future[tuple[LoadedFile, pd.DataFrame]]  # the file loaded and checked
__all__ = [
    "SHOWN_PROBLEMS",
    "ProblemLine",
    "RunOutcome",
    "RunSummary",
    "apply_file",
    "outcome_counts",
    "plan_file",
    "problem_lines",
    "seats_lines",
    "validate_file",
]


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


def validate_file(path: Path, settings: Settings, output: Output) -> RunSummary:
    """Check a file against the file rules only; works offline."""
    started = _now()
    check_report_target(settings.report_path, path)
    loaded = _load(path, settings, output)
    results = check_file(loaded.requests)
    run = _run_info("validate", loaded, settings, started, account_id=None)
    return _finish(run, results, settings, output, before=None)


def plan_file(
    path: Path, settings: Settings, output: Output, watch: Watch | None = None
) -> RunSummary:
    """Check a file against every rule and the account; list what would change; change nothing."""
    return asyncio.run(_plan_or_apply("plan", path, settings, output, watch=watch))


def apply_file(
    path: Path,
    settings: Settings,
    output: Output,
    command: Command = "apply",
    confirm: Confirm | None = None,
    watch: Watch | None = None,
) -> RunSummary:
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
) -> RunSummary:
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
) -> RunSummary:
    # The file is loaded and checked in a worker thread while the account's users are listed:
    # the listing waits on the rate limit, not on the processor, so the two overlap. The
    # account is opened first (for the sandbox file, its parse): the listing's first request
    # waits for nothing else. Whatever else goes wrong, a fault of the file is the one
    # reported (see _file_fault_first).
    checking: Checking | None = None
    try:
        async with open_client(settings) as client:
            listing = begin_read(client)
            checking = _start_checking(path, settings)
            return await _with_client(
                command, client, listing, checking, settings, output, started, confirm, watch
            )
    except Exception:
        await _file_fault_first(checking or _start_checking(path, settings))
        raise


def _start_checking(path: Path, settings: Settings) -> Checking:
    """Load and check the file in a worker thread, from now (asyncio.to_thread would start it
    only when awaited)."""
    checking = asyncio.get_running_loop().run_in_executor(
        None, contextvars.copy_context().run, _load_and_check, path, settings
    )
    checking.add_done_callback(_retrieved)
    return checking


def _load_and_check(path: Path, settings: Settings) -> tuple[LoadedFile, pd.DataFrame]:
    """The file and its file-rule results (run in a worker thread: it says nothing)."""
    loaded = load(path, limits=settings.limits, intake=settings.intake)
    return loaded, check_file(loaded.requests)


def _retrieved(done: asyncio.Future[Any]) -> None:
    """Take a finished job's error (so asyncio does not log it as never retrieved)."""
    if not done.cancelled():
        done.exception()


async def _file_fault_first(checking: Checking) -> None:
    """When a run fails, a file that cannot be loaded is the fault it reports, as when the
    file was loaded before the account was opened: the account's faults come second."""
    if checking.cancelled():
        return
    try:
        await checking
    except Exception as fault:
        raise fault from None


async def _with_client(
    command: Command,
    client: ZoomClient,
    listing: AccountRead,
    checking: Checking,
    settings: Settings,
    output: Output,
    started: datetime,
    confirm: Confirm | None,
    watch: Watch,
) -> RunSummary:
    """The run once the account is open: its users `listing` while the file is `checking`,
    the add-ons the file needs read, the plan, then the report (plan) or the changes (apply)."""
    try:
        with output.stage("Loading", total=None):
            loaded, file_results = await checking
    except BaseException:
        await listing.aclose()
        raise
    _tell_loaded(loaded, output)
    full = settings.full_account if settings.full_account is not None else command == "inbox"
    needed = addons_needed_for(loaded.requests, settings.mode)
    before = await read_account(client, settings, output, needed, full_account=full, begun=listing)
    run = partial(_run_info, command, loaded, settings, started, account_id=before.account_id)
    the_plan = _plan_within_brake(loaded, file_results, before, settings, output, run)
    output.event("planned", file=loaded.name, operations=len(the_plan.operations))
    watch.plan, watch.before, watch.results = the_plan, before, the_plan.results
    if command == "plan" or settings.dry_run:
        return _finish(
            run(),
            the_plan.results,
            settings,
            output,
            before=before,
            projected=the_plan.seats_after,
            seat_lines=the_plan.seat_lines,
        )
    if confirm is not None and the_plan.operations and not confirm(the_plan, before):
        raise NotConfirmed("nothing applied: the changes were not confirmed")

    async def read_again() -> AccountSnapshot:
        # the users read before, and those the run made Licensed: their add-ons
        read_before = {e for e, u in before.users.items() if u.addons_known}
        return await read_account(
            client,
            settings,
            output,
            lambda users: needed(users) | read_before,
            full_account=full,
            stage="Reading the account again",
        )

    return await _apply_and_report(
        the_plan, client, before, read_again, settings, output, run, watch
    )


def _plan_within_brake(
    loaded: LoadedFile,
    file_results: pd.DataFrame,
    before: AccountSnapshot,
    settings: Settings,
    output: Output,
    run: Callable[..., RunInfo],
) -> Plan:
    """The plan; past the sync brake (SafetyLimit, exit 4), the report of what sync would
    remove is written first and the brake raised naming it. Nothing is changed either way."""
    try:
        return _plan(loaded, file_results, before, settings)
    except SafetyLimit as brake:
        braked = _plan(loaded, file_results, before, settings, override_brake=True)
        note = f"Stopped by the sync brake, nothing changed: {brake}."
        done = _finish(
            run(notes=(note,)),
            braked.results,
            settings,
            output,
            before=before,
            projected=braked.seats_after,
            seat_lines=braked.seat_lines,
        )
        raise brake.with_report(done.report_path) from brake


async def _apply_and_report(
    the_plan: Plan,
    client: ZoomClient,
    before: AccountSnapshot,
    read_again: Callable[[], Awaitable[AccountSnapshot]],
    settings: Settings,
    output: Output,
    run: Callable[..., RunInfo],
    watch: Watch,
) -> RunSummary:
    """Apply the plan in journaled chunks, read the account again and write the report.

    A stop partway (ApplyStopped: the account's daily limit, a signal, a failure of ours) has
    its report of what was done written first, then is raised again naming it.
    """
    started = run()  # what is run, on which file
    loaded = started.file

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
        run_id = journal.start_run(loaded.name, loaded.sha256, started.command, str(settings.mode))
        watch.journal_run = run_id
        journal.record_plan(run_id, the_plan.operations)
        written = partial(
            _report_written, journal.path, run_id, settings, output, before, the_plan.seat_lines
        )
        try:
            results = await _apply(the_plan, client, journal, run_id, settings, output, stop)
        except ApplyStopped as stopped:
            watch.results = stopped.results
            done = written(run(), stopped.results, stopped)
            raise stopped.with_report(done.report_path) from stopped
        journal.finish_run(run_id, "finished")
        watch.results = results
        try:
            after: AccountSnapshot | None = await read_again()
        except Exception as error:  # the changes are made: report them all the same
            output.warning(f"reading the account after the run failed: {error}")
            after = None
        return written(run(), results, None, after=after)


def _report_written(
    journal_path: Path,
    run_id: int,
    settings: Settings,
    output: Output,
    before: AccountSnapshot,
    seat_lines: pd.DataFrame,
    run: RunInfo,
    results: pd.DataFrame,
    stopped: ApplyStopped | None,
    *,
    after: AccountSnapshot | None = None,
) -> RunSummary:
    """The report of a run that may have changed the account.

    A report that cannot be written (a full or read-only disk) is an InternalError saying
    where the journal is and how to get the report from it.
    """
    if isinstance(stopped, RunStopped):
        run = replace(run, notes=(*run.notes, STOPPED_HINT))
    try:
        return _finish(
            run, results, settings, output, before=before, after=after, seat_lines=seat_lines
        )
    except Exception as failure:
        logger.debug("writing the report failed", exc_info=True)
        raise InternalError(
            f"the report could not be written ({type(failure).__name__}: {failure}); what was "
            f"done is in the journal {journal_path}, run {run_id}: get its report with "
            f"`batch report --run {run_id} --journal {journal_path}`"
        ) from failure


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
    _tell_loaded(loaded, output)
    return loaded


def _tell_loaded(loaded: LoadedFile, output: Output) -> None:
    """The `loaded` event (sheet, header row, layout, lines) and the file's notes."""
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


def _finish(
    run: RunInfo,
    results: pd.DataFrame,
    settings: Settings,
    output: Output,
    *,
    before: AccountSnapshot | None,
    after: AccountSnapshot | None = None,
    projected: Mapping[SeatKey, Seats] | None = None,
    seat_lines: pd.DataFrame | None = None,
) -> RunSummary:
    report_path = settings.report_path or default_report_path(
        settings.reports_dir, run.file.name, run.started
    )
    counts = outcome_counts(results)
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
            counts=counts,
            moves=(
                plan_seat_moves(results, seat_lines)
                if before is not None and seat_lines is not None
                else None
            ),
        )
    problems = problem_table(results)
    return RunSummary(
        file_name=run.file.name,
        command=run.command,
        is_sandbox=run.is_sandbox,
        account_id=run.account_id,
        counts=counts,
        seats_lines=seats_lines(before, after, projected),
        exit_code=exit_code_of(counts),
        report_path=report_path,
        problems=problem_lines(problems.head(SHOWN_PROBLEMS)),
        problem_count=len(problems),
    )


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
