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
import socket
from collections import Counter
from collections.abc import Callable, Mapping
from dataclasses import asdict, dataclass, replace
from datetime import UTC, datetime
from pathlib import Path
from typing import Literal

import pandas as pd

from batch import __version__
from batch.account import open_client
from batch.applying import ChunkProgress, apply_operations, mark_done_earlier, partial_results
from batch.delivery import RunSummary
from batch.errors import BatchError, NotConfirmed, SafetyLimit
from batch.journal import Journal
from batch.loading import load
from batch.model import AccountSnapshot, LoadedFile, RunInfo, SeatKey, Seats
from batch.output import Output
from batch.planning import Plan, addons_needed, plan
from batch.report import default_report_path, write_report
from batch.rules import check_file
from batch.settings import Settings
from batch.vocabulary import EXIT_OK, EXIT_ROWS, PROBLEM_OUTCOMES, Kind, Outcome, license_label
from batch.zoom import ZoomClient

Command = Literal["validate", "plan", "apply", "inbox"]
# Asked between planning and applying (on a terminal): True to go ahead. See batch/cli/confirm.py.
Confirm = Callable[[Plan, AccountSnapshot], bool]
ProblemLine = tuple[str, str, str, str, str]  # row, email, license, code, message
SHOWN_PROBLEMS = 20  # problem lines a RunOutcome carries for the terminal; the report has all


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
    loaded = _load(path, settings, output)
    results = check_file(loaded.requests)
    run = _run_info("validate", loaded, settings, started, account_id=None)
    return _finish(run, results, settings, output, before=None)


def plan_file(path: Path, settings: Settings, output: Output) -> RunOutcome:
    """Check a file against every rule and the account; list what would change; change nothing."""
    return asyncio.run(_plan_or_apply("plan", path, settings, output))


def apply_file(
    path: Path,
    settings: Settings,
    output: Output,
    command: Command = "apply",
    confirm: Confirm | None = None,
) -> RunOutcome:
    """Plan a file, then apply it in chunks (or only plan, with `settings.dry_run`).

    `confirm(plan, account)`, when given, is asked after planning a plan with changes; when it
    returns False nothing is applied and NotConfirmed (exit 4) is raised.
    """
    return asyncio.run(_plan_or_apply(command, path, settings, output, confirm))


async def _plan_or_apply(
    command: Command,
    path: Path,
    settings: Settings,
    output: Output,
    confirm: Confirm | None = None,
) -> RunOutcome:
    started = _now()
    loaded = _load(path, settings, output)
    file_results = check_file(loaded.requests)
    async with open_client(settings) as client:
        with output.stage("Reading the account (users, add-ons)", total=None) as advance:
            before = await client.snapshot(
                addons_for=lambda users: addons_needed(loaded.requests, users, settings.mode),
                on_read=advance,
            )
            needed = {e for e, u in before.users.items() if u.addons_known}
        try:
            the_plan = _plan(loaded, file_results, before, settings)
        except SafetyLimit as brake:
            # Nothing is changed, but the report lists what sync would remove and names the brake.
            braked = _plan(loaded, file_results, before, settings, override_brake=True)
            note = f"Stopped by the sync brake, nothing changed: {brake}."
            run = _run_info(
                command, loaded, settings, started, account_id=before.account_id, notes=(note,)
            )
            done = _finish(
                run, braked.results, settings, output, before=before, projected=braked.seats_after
            )
            brake.args = (f"{brake} (report: {done.report_path})",)
            raise
        output.event("planned", file=loaded.name, operations=len(the_plan.operations))
        if command == "plan" or settings.dry_run:
            run = _run_info(command, loaded, settings, started, account_id=before.account_id)
            return _finish(
                run,
                the_plan.results,
                settings,
                output,
                before=before,
                projected=the_plan.seats_after,
            )
        if confirm is not None and the_plan.operations and not confirm(the_plan, before):
            raise NotConfirmed("nothing applied: the changes were not confirmed")
        with Journal(settings.journal_path) as journal:
            earlier = journal.applied_earlier(loaded.sha256)
            the_plan = replace(the_plan, results=mark_done_earlier(the_plan.results, earlier))
            run_id = journal.start_run(loaded.name, loaded.sha256, command, str(settings.mode))
            journal.record_plan(run_id, the_plan.operations)
            try:
                results = await _apply(the_plan, client, journal, run_id, settings, output)
            except BatchError as error:
                # Stopped by the account (e.g. Zoom's daily limit): report what was done.
                partial = partial_results(error)
                if partial is not None:
                    run = _run_info(
                        command, loaded, settings, started, account_id=before.account_id
                    )
                    done = _finish(run, partial, settings, output, before=before)
                    error.args = (f"{error} (report: {done.report_path})",)
                raise
            journal.finish_run(run_id, "finished")
        with output.stage("Reading the account again", total=None) as advance:
            after = await client.snapshot(addons_for=needed, on_read=advance)
    run = _run_info(command, loaded, settings, started, account_id=before.account_id)
    return _finish(run, results, settings, output, before=before, after=after)


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
            on_answer=advance,
        )


def _load(path: Path, settings: Settings, output: Output) -> LoadedFile:
    with output.stage("Loading", total=None):
        loaded = load(path, limits=settings.limits)
    output.event("loaded", file=loaded.name, layout=loaded.layout, requests=len(loaded.requests))
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
        write_report(
            report_path,
            run,
            results,
            before=before,
            after=after,
            prices=settings.prices,
            currency=settings.currency,
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
