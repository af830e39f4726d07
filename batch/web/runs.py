"""The run manager: previews made on request, applies run one at a time in a background thread.

    create(upload, options, user)  -> run id; status planned, or refused with the CLI's line
    apply(run id)                  -> queued -> applying -> applied | stopped | failed
                                      (or planned again, with the difference, when the account
                                       changed since the preview so that the plan differs)
    cancel(run id)                 stops after the requests in flight; resume(run id) goes on

An apply re-reads the account and re-plans before it sends anything: the plan it applies is the
plan the admin saw, or nothing. Applies wait for the account lock (a visible `queued`), so the
CLI, the inbox and the web never change one account at once.
"""

from __future__ import annotations

import asyncio
import io
import logging
import threading
import time
import uuid
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Final

import pandas as pd

from batch.account import open_client
from batch.applying import ChunkProgress, apply_operations, mark_done_earlier, partial_results
from batch.errors import BatchError, LockHeld
from batch.journal import Journal
from batch.loading import load
from batch.model import AccountSnapshot, LoadedFile
from batch.output import Output
from batch.pipeline import RunOutcome, _finish, _run_info, outcome_counts
from batch.rules import check_file
from batch.settings import Settings
from batch.vocabulary import Mode
from batch.web.locking import account_lock
from batch.web.preview import Preview, make_preview, plan_difference, replan
from batch.web.store import Store

logger = logging.getLogger(__name__)

KEPT_PREVIEWS: Final = 8  # previews held in memory; an older one is planned again from its file
# Previews planned at once; more wait their turn (each 100k-line plan needs ~1 GB while made).
PLANNING_AT_ONCE: Final = 2
LOCK_RETRY_S: Final = 1.0


@dataclass
class Progress:
    """A live apply's figures for the progress poll."""

    phase: str = "queued"
    done: int = 0
    total: int = 0
    applied: int = 0
    failed: int = 0
    started: float = 0.0

    def as_dict(self) -> dict[str, Any]:
        """Done/total, rate per second and seconds left."""
        elapsed = time.monotonic() - self.started if self.started else 0.0
        rate = self.done / elapsed if elapsed > 0 and self.done else 0.0
        left = (self.total - self.done) / rate if rate else None
        return {
            "phase": self.phase,
            "done": self.done,
            "total": self.total,
            "applied": self.applied,
            "failed": self.failed,
            "rate": round(rate, 1),
            "eta_s": None if left is None else round(left),
        }


class RunManager:
    """Previews and applies of the web app; one account, its settings."""

    def __init__(self, settings: Settings, store: Store, uploads: Path) -> None:
        self.settings = settings
        self.store = store
        self.uploads = uploads
        self._previews: dict[str, Preview] = {}
        self._results: dict[str, pd.DataFrame] = {}
        self._progress: dict[str, Progress] = {}
        self._cancel: dict[str, threading.Event] = {}
        self._tasks: dict[str, tuple[asyncio.AbstractEventLoop, asyncio.Task[Any]]] = {}
        self._lock = threading.Lock()
        self._planning = threading.BoundedSemaphore(PLANNING_AT_ONCE)
        self._worker = ThreadPoolExecutor(max_workers=1, thread_name_prefix="batch-apply")
        store.stop_unfinished()  # no thread of this process runs them

    def close(self) -> None:
        """Stop taking applies; the one running finishes."""
        self._worker.shutdown(wait=False, cancel_futures=True)

    # -- previews -------------------------------------------------------------------------------

    def run_settings(self, options: dict[str, Any]) -> Settings:
        """The app's settings with one run's options."""
        mode = options.get("mode")
        return self.settings.with_options(
            mode=Mode(mode) if mode else None,
            max_removals=options.get("max_removals") or None,
            all_or_nothing=options.get("all_or_nothing"),
            report_path=None,
        )

    def create(
        self,
        upload: Path,
        file_name: str,
        sha256: str,
        options: dict[str, Any],
        user: str,
        address: str,
    ) -> str:
        """Plan a stored upload; the run id (status planned, or refused with its reason)."""
        run_id = uuid.uuid4().hex[:12]
        self.store.add_run(
            run_id,
            user=user,
            address=address,
            file_name=file_name,
            sha256=sha256,
            upload=str(upload),
            options=options,
            status="planning",
        )
        try:
            self._plan(run_id, upload, file_name, self.run_settings(options))
        except BatchError as error:
            self.store.update_run(
                run_id, status="refused", message=str(error), exit_code=error.exit_code
            )
        return run_id

    def _plan(self, run_id: str, upload: Path, name: str, settings: Settings) -> Preview:
        with self._planning:
            preview = asyncio.run(make_preview(upload, name, settings))
            outcome = self._plan_report(run_id, preview)
        preview = slim(preview)
        self._keep(run_id, preview)
        self.store.update_run(
            run_id,
            status="planned",
            counts=dict(outcome.counts),
            exit_code=outcome.exit_code,
            plan_report=str(outcome.report_path),
        )
        return preview

    def _plan_report(self, run_id: str, preview: Preview) -> RunOutcome:
        """The same XLSX as `batch plan` writes, beside the upload."""
        settings = replace(preview.settings, report_path=self.uploads / run_id / "plan.xlsx")
        info = _run_info(
            "plan", preview.loaded, settings, _now(), account_id=preview.before.account_id
        )
        return _finish(
            info, preview.plan.results, settings, _quiet(), before=preview.before, after=None
        )

    def _keep(self, run_id: str, preview: Preview) -> None:
        with self._lock:
            self._previews.pop(run_id, None)
            self._previews[run_id] = preview
            while len(self._previews) > KEPT_PREVIEWS:
                self._previews.pop(next(iter(self._previews)))

    def preview(self, run_id: str) -> Preview | None:
        """The run's preview, planned again from its stored file when it left memory."""
        with self._lock:
            found = self._previews.get(run_id)
        if found is not None:
            return found
        row = self.store.run(run_id)
        if row is None or row["status"] in ("refused", "planning"):
            return None
        try:
            return self._plan_again(run_id, row)
        except BatchError:
            return None

    def _plan_again(self, run_id: str, row: dict[str, Any]) -> Preview:
        settings = self.run_settings(row["options"])
        with self._planning:
            preview = slim(
                asyncio.run(make_preview(Path(row["upload"]), row["file_name"], settings))
            )
        self._keep(run_id, preview)
        return preview

    def results(self, run_id: str) -> pd.DataFrame | None:
        """The final results of an apply made by this process, else the preview's."""
        if run_id in self._results:
            return self._results[run_id]
        row = self.store.run(run_id)
        if row is not None and row["status"] == "planned":
            preview = self.preview(run_id)
            return preview.plan.results if preview else None
        return None

    def progress(self, run_id: str) -> dict[str, Any] | None:
        """The live figures of an apply, when there is one."""
        found = self._progress.get(run_id)
        return found.as_dict() if found else None

    # -- applies --------------------------------------------------------------------------------

    def apply(self, run_id: str, *, resume: bool = False) -> None:
        """Queue the run's apply (it re-plans first and applies only an unchanged plan)."""
        self.store.update_run(run_id, status="queued", message="")
        self._progress[run_id] = Progress()
        self._cancel[run_id] = threading.Event()
        self._worker.submit(self._apply_job, run_id, resume)

    def cancel(self, run_id: str) -> bool:
        """Ask a queued or running apply to stop; False when there is none."""
        event = self._cancel.get(run_id)
        if event is None:
            return False
        event.set()
        task = self._tasks.get(run_id)
        if task is not None:
            loop, running = task
            loop.call_soon_threadsafe(running.cancel)
        return True

    def _apply_job(self, run_id: str, resume: bool) -> None:
        try:
            asyncio.run(self._apply(run_id, resume))
        except BatchError as error:
            self.store.update_run(
                run_id, status="failed", message=str(error), exit_code=error.exit_code
            )
        except Exception:
            logger.exception("web apply %s failed", run_id)
            self.store.update_run(
                run_id,
                status="failed",
                message="internal error (see the server log)",
                exit_code=70,
            )
        finally:
            self._cancel.pop(run_id, None)
            self._tasks.pop(run_id, None)

    async def _apply(self, run_id: str, resume: bool) -> None:
        row = self.store.run(run_id)
        assert row is not None
        preview = self.preview(run_id)
        if preview is None:
            raise BatchError("the run's file can no longer be planned")
        progress = self._progress[run_id]
        while True:  # the visible queue: wait for the account lock
            if self._cancel[run_id].is_set():
                self.store.update_run(run_id, status="stopped", message="cancelled while queued")
                return
            try:
                with account_lock(self.settings):
                    await self._apply_locked(run_id, row, preview, progress, resume)
                return
            except LockHeld as held:
                self.store.update_run(run_id, status="queued", message=str(held))
                await asyncio.sleep(LOCK_RETRY_S)

    async def _apply_locked(
        self,
        run_id: str,
        row: dict[str, Any],
        preview: Preview,
        progress: Progress,
        resume: bool,
    ) -> None:
        settings = preview.settings
        self.store.update_run(run_id, status="applying", message="")
        progress.phase = "reading the file"
        # The kept preview holds the plan, not the file: the stored upload is read again.
        loaded = load(Path(row["upload"]), name=row["file_name"], limits=settings.limits)
        if loaded.sha256 != row["sha256"]:
            raise BatchError(f"{row['file_name']}: the stored upload changed; upload it again")
        file_results = check_file(loaded.requests)
        progress.phase = "reading the account"
        async with open_client(settings) as client:
            from batch.planning import addons_needed

            before = await client.snapshot(
                addons_for=lambda users: addons_needed(loaded.requests, users, settings.mode)
            )
            fresh = replan(loaded, file_results, before, settings)
            difference = plan_difference(preview.plan, fresh)
            if difference and not resume:
                changed = replace(
                    preview, loaded=loaded, file_results=file_results, plan=fresh, before=before
                )
                outcome = self._plan_report(run_id, changed)
                self._keep(run_id, slim(changed))
                self.store.update_run(
                    run_id,
                    status="planned",
                    counts=dict(outcome.counts),
                    exit_code=outcome.exit_code,
                    message="changed\n" + "\n".join(difference),
                )
                return
            with Journal(settings.journal_path) as journal:
                earlier = journal.applied_earlier(loaded.sha256)
                the_plan = replace(fresh, results=mark_done_earlier(fresh.results, earlier))
                journal_id = journal.start_run(loaded.name, loaded.sha256, "web", settings.mode)
                self.store.update_run(run_id, journal_run_id=journal_id)
                journal.record_plan(journal_id, the_plan.operations)
                progress.phase, progress.total = "applying", len(the_plan.operations)
                progress.started = time.monotonic()

                def on_chunk(chunk: ChunkProgress) -> None:
                    progress.done, progress.total = chunk.total_done, chunk.total
                    progress.applied += chunk.applied
                    progress.failed += chunk.failed + chunk.skipped

                task = asyncio.current_task()
                assert task is not None
                self._tasks[run_id] = (asyncio.get_running_loop(), task)
                if self._cancel[run_id].is_set():
                    task.cancel()
                try:
                    results = await apply_operations(
                        the_plan,
                        client,
                        journal,
                        journal_id,
                        chunk_size=settings.chunk_size,
                        on_chunk=on_chunk,
                    )
                except (BatchError, asyncio.CancelledError) as error:
                    self._tasks.pop(run_id, None)
                    if isinstance(error, asyncio.CancelledError):
                        task.uncancel()
                    partial = partial_results(error)
                    if partial is None:
                        raise
                    message = (
                        "cancelled" if isinstance(error, asyncio.CancelledError) else str(error)
                    )
                    self._report(
                        run_id, loaded, settings, partial, before, None, "stopped", message
                    )
                    return
                self._tasks.pop(run_id, None)
                journal.finish_run(journal_id, "finished")
            progress.phase = "reading the account again"
            after = await client.snapshot(addons_for=preview.needed)
        self._report(run_id, loaded, settings, results, before, after, "applied", "")

    def _report(
        self,
        run_id: str,
        loaded: LoadedFile,
        settings: Settings,
        results: pd.DataFrame,
        before: AccountSnapshot,
        after: AccountSnapshot | None,
        status: str,
        message: str,
    ) -> None:
        progress = self._progress[run_id]
        progress.phase = "writing the report"
        info = _run_info("apply", loaded, settings, _now(), account_id=before.account_id)
        outcome = _finish(info, results, settings, _quiet(), before=before, after=after)
        self._results[run_id] = results
        self.store.update_run(
            run_id,
            status=status,
            message=message,
            counts=outcome_counts(results),
            exit_code=outcome.exit_code,
            report=str(outcome.report_path),
        )
        progress.phase = "done"


def slim(preview: Preview) -> Preview:
    """The preview as kept in memory: its plan and the account's seats. An apply reads the file
    and the account again, so an open preview costs its results, not the file or the account."""
    loaded = preview.loaded
    return replace(
        preview,
        loaded=replace(loaded, source=loaded.source.iloc[:0], requests=loaded.requests.iloc[:0]),
        file_results=preview.file_results.iloc[:0],
        before=replace(preview.before, users={}),
    )


def _quiet() -> Output:
    """An Output for the pipeline's report stage that shows nothing (the page shows progress)."""
    return Output("json", quiet=True, stream=io.StringIO())


def _now() -> datetime:
    return datetime.now(UTC)
