"""Apply a plan's operations to Zoom in journaled chunks, both rate-limit categories at once.

    phase 0 (frees seats)   type stream ─┐  (side by side)      all done
                            addons stream┘                        │
    phases 1, 2 (grants)    type stream  (base grants, Light)  ───┤ side by side; an add-on
                            addons stream (add-on grants, Medium)─┘ op waits for its user's
                                                                    type op (depends_on)

Seat-freeing operations (phase 0) all finish before any grant starts, so grants can use the
seats they free. Base grants (phase 1) and add-on grants (phase 2) use different seats, so
they run side by side, Light and Medium at once; an add-on grant still waits for its own
user's upgrade and is `skipped` (dependency-failed) when that upgrade failed.

Each stream goes in chunks of `chunk_size`: the chunk is marked `sent` in the journal before
its requests start and its answers are recorded after; two chunks per stream may be in flight,
so the client's pacer always has the next request waiting while a chunk's last answers come in.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Final, Protocol

import numpy as np
import pandas as pd

from batch.applying.outcomes import (
    Answer,
    apply_answers,
    dependency_message,
    rows_by_request,
)
from batch.applying.stopping import StopRequest
from batch.errors import ApplyCancelled, ApplyStopped, BatchError, RunStopped
from batch.journal import Journal
from batch.planning import Operation, Operations, Plan
from batch.planning.operations import ADDONS_CATEGORY, TYPE_CATEGORY
from batch.vocabulary import Code, Kind, UserType

logger = logging.getLogger(__name__)

# Chunks of one stream that may be in flight at once (see the module docstring).
CHUNKS_IN_FLIGHT: Final = 2
# Requests of one stream waiting for their pacer slot or their answer at once: enough for the
# full rate at half a second per answer (76/s x 0.5 s), few enough that a stalled event loop
# cannot release a burst that opens a connection per request.
MAX_IN_FLIGHT: Final = 48
# Phases whose operations free seats: everything after them waits for them to finish.
SEAT_FREEING_PHASES: Final = frozenset({0})


class Client(Protocol):
    """The two writes of the Zoom client (batch.zoom.ZoomClient) the applier uses."""

    async def set_user_type(self, user: str, user_type: UserType) -> None: ...
    async def update_addons(self, user: str, addons: Mapping[Kind, int | None]) -> None: ...


@dataclass(frozen=True)
class ChunkProgress:
    """One chunk's answers, for the progress bar and the logs."""

    phase: int  # the lowest phase in the chunk
    category: str  # "type" or "addons"
    chunk: int  # 1-based, in the order chunks finish
    chunks: int  # chunks in the whole run
    done: int  # operations answered in this chunk
    total_done: int  # operations answered so far in the run
    total: int  # operations in the run
    applied: int
    failed: int
    skipped: int


@dataclass
class _Run:
    """The mutable state of one apply run."""

    plan: Plan
    client: Client
    journal: Journal
    run_id: int
    chunk_size: int
    on_chunk: Callable[[ChunkProgress], None] | None
    answers: dict[str, Answer] = field(default_factory=dict)
    events: dict[str, asyncio.Event] = field(default_factory=dict)
    live: set[asyncio.Task[None]] = field(default_factory=set)
    stop_error: BaseException | None = None
    chunks_done: int = 0
    group: int = 0  # the group of operations running now (they run one after the other)
    chunks_total: int = 0
    group_of: dict[str, int] = field(default_factory=dict)  # type operations (dependencies)
    ops_by_id: dict[str, Operation] = field(default_factory=dict)  # type operations made so far
    _rows: dict[int, int | None] | None = None
    slots: dict[str, asyncio.Semaphore] = field(default_factory=dict)
    stop_request: StopRequest = field(default_factory=StopRequest)
    on_answer: Callable[[], None] | None = None  # after each answered operation (progress)

    def finished(self, op_id: str) -> asyncio.Event:
        """Set once the operation is answered (made when first asked for)."""
        event = self.events.get(op_id)
        if event is None:
            event = self.events[op_id] = asyncio.Event()
        return event

    @property
    def stopping(self) -> bool:
        """True when nothing new may be sent: the account stopped the run, or a signal did."""
        return self.stop_error is not None or self.stop_request.requested

    def stop(self, error: BaseException) -> None:
        """Stop the run: no new chunk starts and requests still waiting are cancelled."""
        if self.stop_error is None:
            self.stop_error = error
            logger.warning("stopping the run: %s", error)
        current = asyncio.current_task()
        for task in list(self.live):
            if task is not current:
                task.cancel()

    # -- one operation -------------------------------------------------------------------------

    async def run_op(self, op: Operation) -> None:
        """Send one operation and record its answer (none when the run stops under it)."""
        try:
            if op.depends_on is not None and self.waits_for(op):
                await self.finished(op.depends_on).wait()
                dependency = self.answers.get(op.depends_on)
                if dependency is None:
                    return  # the run stopped before the dependency was answered
                if dependency[0] != "applied":
                    self.answers[op.op_id] = self.dependency_failed(op)
                    return
            await self._send(op)
        finally:
            self.finished(op.op_id).set()
            if self.on_answer is not None and op.op_id in self.answers:
                self.on_answer()

    async def _send(self, op: Operation) -> None:
        from batch.zoom.errors import ZoomApiError

        user = op.user_id or op.email
        slots = self.slots.setdefault(op.category, asyncio.Semaphore(MAX_IN_FLIGHT))
        try:
            async with slots:
                if self.stop_request.requested:
                    return  # a signal asked to stop: not sent, the re-run plans it again
                if op.category == TYPE_CATEGORY:
                    assert op.user_type is not None, op.op_id
                    await self.client.set_user_type(user, op.user_type)
                else:
                    await self.client.update_addons(user, op.addons)
        except ZoomApiError as error:
            self.answers[op.op_id] = ("failed", error.outcome_code.value, str(error))
        except BatchError as error:  # DailyLimitReached and other AccountErrors stop the run
            self.stop(error)
        else:
            self.answers[op.op_id] = ("applied", None, None)

    def waits_for(self, op: Operation) -> bool:
        """True when op's dependency runs before it or beside it (never in a later group)."""
        group = self.group_of.get(op.depends_on or "")
        return group is not None and group <= self.group

    def dependency_failed(self, op: Operation) -> Answer:
        """The answer of an op whose dependency (its user's type change) did not apply."""
        dependency = self.ops_by_id[op.depends_on or ""]
        if self._rows is None:
            self._rows = rows_by_request(self.plan.results)
        row = self._rows.get(dependency.requests[0]) if dependency.requests else None
        return ("skipped", Code.DEPENDENCY_FAILED.value, dependency_message(dependency, row))

    # -- chunks and streams --------------------------------------------------------------------

    async def run_chunk(self, chunk: Sequence[Operation]) -> None:
        """Run a chunk already marked `sent`; record whatever got answered, even when stopped."""
        tasks = [
            asyncio.create_task(self.run_op(op)) for op in chunk if op.op_id not in self.answers
        ]
        self.live.update(tasks)
        try:
            if tasks:
                await asyncio.wait(tasks)
        except asyncio.CancelledError:
            for task in tasks:
                task.cancel()
            await asyncio.gather(*tasks, return_exceptions=True)
            raise
        finally:
            self.live.difference_update(tasks)
            self._record(chunk)
        for task in tasks:  # a bug in run_op must not vanish silently
            if not task.cancelled() and (error := task.exception()) is not None:
                raise error

    def _record(self, chunk: Sequence[Operation]) -> None:
        answered = {op.op_id: self.answers[op.op_id] for op in chunk if op.op_id in self.answers}
        self.journal.mark_results(self.run_id, answered)
        self.chunks_done += 1
        states = [state for state, _, _ in answered.values()]
        progress = ChunkProgress(
            phase=min(op.phase for op in chunk),
            category=chunk[0].category,
            chunk=self.chunks_done,
            chunks=self.chunks_total,
            done=len(answered),
            total_done=len(self.answers),
            total=len(self.plan.operations),
            applied=states.count("applied"),
            failed=states.count("failed"),
            skipped=states.count("skipped"),
        )
        logger.debug("recorded %s", progress)  # on_chunk tells the run's output
        if self.on_chunk is not None:
            self.on_chunk(progress)

    async def run_stream(self, ops: Operations) -> None:
        """Run one category's operations chunk by chunk, up to CHUNKS_IN_FLIGHT at a time.

        Each chunk's Operation objects are made from the plan's table when it is reached."""
        window = asyncio.Semaphore(CHUNKS_IN_FLIGHT)
        running: list[asyncio.Task[None]] = []

        async def chunk_then_release(chunk: Sequence[Operation]) -> None:
            try:
                await self.run_chunk(chunk)
            finally:
                window.release()

        try:
            for chunk in ops.chunks(self.chunk_size):
                await window.acquire()
                if self.stopping:
                    break
                self.ops_by_id.update((op.op_id, op) for op in chunk if op.op_id in self.group_of)
                self._skip_known_dependents(chunk)
                to_send = [op for op in chunk if op.op_id not in self.answers]
                self.journal.mark_sent(self.run_id, [op.op_id for op in to_send])
                running.append(asyncio.create_task(chunk_then_release(chunk)))
                await asyncio.sleep(0)  # let the chunk's requests claim their pacer slots
        except asyncio.CancelledError:
            for task in running:  # interrupted: stop what is still waiting to be sent
                task.cancel()
            raise
        finally:
            # the chunks record their own answers; wait for them even when cancelled
            done = await asyncio.gather(*running, return_exceptions=True)
            for outcome in done:
                if isinstance(outcome, Exception):
                    raise outcome

    def _skip_known_dependents(self, chunk: Sequence[Operation]) -> None:
        """Answer ops whose dependency already failed before they are marked sent."""
        for op in chunk:
            dependency = self.answers.get(op.depends_on or "")
            if dependency is not None and dependency[0] != "applied":
                self.answers[op.op_id] = self.dependency_failed(op)
                self.finished(op.op_id).set()

    async def run_streams(self, ops: Operations) -> None:
        """Run a group of operations as a type stream and an addons stream, side by side."""
        streams = [_of_category(ops, TYPE_CATEGORY), _of_category(ops, ADDONS_CATEGORY)]
        await asyncio.gather(*(self.run_stream(s) for s in streams if len(s)))


def _of_category(ops: Operations, category: str) -> Operations:
    return ops.where(ops.table["category"] == category)


def _groups(operations: Sequence[Operation]) -> list[Operations]:
    """Split the operations at the barriers: each seat-freeing phase, then everything else."""
    table = _table(operations)
    phases = table["phase"].to_numpy()
    order = np.argsort(phases, kind="stable")  # stable: file order within a phase
    table = table.iloc[order]
    phases = phases[order]
    groups: list[tuple[list[int], Operations]] = []
    for phase in sorted(set(phases.tolist())):
        ops = Operations(table[phases == phase])
        if (
            groups
            and phase not in SEAT_FREEING_PHASES
            and groups[-1][0][0] not in SEAT_FREEING_PHASES
        ):
            # grants of different phases share no seats
            merged = pd.concat([groups[-1][1].table, ops.table])
            groups[-1] = ([*groups[-1][0], phase], Operations(merged))
        else:
            groups.append(([phase], ops))
    return [ops for _, ops in groups]


def _table(operations: Sequence[Operation]) -> pd.DataFrame:
    """The operations table of a plan (or of hand-made operations)."""
    if isinstance(operations, Operations):
        return operations.table
    return Operations.of(operations).table


async def apply_operations(
    plan: Plan,
    client: Client,
    journal: Journal,
    run_id: int,
    *,
    chunk_size: int = 200,
    on_chunk: Callable[[ChunkProgress], None] | None = None,
    stop: StopRequest | None = None,
    on_answer: Callable[[], None] | None = None,
) -> pd.DataFrame:
    """Apply `plan.operations` through `client`, journaling each chunk; return the results.

    The returned table is `plan.results` with every `planned` line now `applied`, `failed`
    (api-error, rate-limited or timeout, with Zoom's code and message) or `skipped`
    (dependency-failed); unchanged and invalid lines are untouched. The run must already be
    started in the journal with its plan recorded (`start_run`, `record_plan`); the caller
    finishes it when this returns. `on_chunk` is called after each journaled chunk, `on_answer`
    after each operation answered (for a progress bar that moves with every request).

    When the account stops the run (DailyLimitReached or another AccountError), no new request
    starts, the answers received are recorded, the run is finished as `stopped` in the journal
    and ApplyStopped is raised from the account's error, carrying the partial results (lines not
    done `planned`; `partial_results(error)`). `stop` (set by a signal, see `stopping`) ends it
    the same way with RunStopped once the requests in flight are answered; a cancellation ends
    it with ApplyCancelled (a CancelledError) carrying them; any other error finishes the run
    as `failed` and raises ApplyStopped from it.

        results = await apply_operations(plan, client, journal, run_id, chunk_size=200)
    """
    if chunk_size < 1:
        raise ValueError("chunk_size must be at least 1")
    state = _Run(plan, client, journal, run_id, chunk_size, on_chunk, on_answer=on_answer)
    state.stop_request = stop or StopRequest()
    groups = _groups(plan.operations)
    for i, group in enumerate(groups):
        types = _of_category(group, TYPE_CATEGORY)
        state.group_of.update(dict.fromkeys(types.op_ids().tolist(), i))
    state.chunks_total = sum(
        -(-len(_of_category(group, category)) // chunk_size)
        for group in groups
        for category in (TYPE_CATEGORY, ADDONS_CATEGORY)
    )
    try:
        for state.group, group in enumerate(groups):
            if state.stopping:
                break
            await state.run_streams(group)
    except asyncio.CancelledError as cancelled:
        journal.finish_run(run_id, "stopped")
        so_far = apply_answers(plan.results, plan.operations, state.answers)
        raise ApplyCancelled(so_far) from cancelled
    except KeyboardInterrupt:
        journal.finish_run(run_id, "stopped")
        raise
    except BaseException as error:
        state.stop(error)  # a bug: cancel what the other stream still has going
        journal.finish_run(run_id, "failed")
        if not isinstance(error, Exception):
            raise  # SystemExit and the like end the process as they are
        so_far = apply_answers(plan.results, plan.operations, state.answers)
        raise ApplyStopped(error, so_far) from error
    results = apply_answers(plan.results, plan.operations, state.answers)
    if state.stop_error is None and state.stop_request.signum is not None:
        journal.finish_run(run_id, "stopped")
        raise RunStopped(state.stop_request.signum, results)
    if state.stop_error is not None:
        journal.finish_run(run_id, "stopped")
        raise ApplyStopped(state.stop_error, results) from state.stop_error
    return results


def partial_results(error: BaseException) -> pd.DataFrame | None:
    """The results of a run stopped by `error` (answered lines done, the rest `planned`)."""
    if isinstance(error, ApplyStopped | ApplyCancelled):
        return error.results
    return None


__all__ = ["ChunkProgress", "apply_operations", "partial_results"]
