"""The run manager: previews made on request, applies run one at a time in a background thread.

    create(upload, options, user)  -> run id; status planned, or refused with the CLI's line
    apply(run id)                  -> queued -> applying -> applied | stopped | failed
                                      (or planned again, with the difference, when the account
                                       changed since the preview so that the plan differs)
    cancel(run id)                 stops after the requests in flight; resume(run id) goes on

Previews and applies are the CLI's own `batch plan` and `batch apply` (batch.pipeline's
plan_file and apply_file), watched through a `Watch`: the plan, the results and a stop request.
An apply re-reads the account and re-plans before it sends anything: the plan it applies is the
plan the admin saw, or nothing (the pipeline's confirm step). Applies wait for the account lock
(a visible `queued`), so the CLI, the inbox and the web never change one account at once.
"""

from __future__ import annotations

import io
import logging
import threading
import time
import uuid
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Final

import pandas as pd

from batch.applying.stopping import StopRequest
from batch.errors import BatchError, LockHeld, NotConfirmed
from batch.model import AccountSnapshot
from batch.output import Advance, Level, Output
from batch.pipeline import Watch, apply_file, outcome_counts, plan_file
from batch.planning import Plan
from batch.report import default_report_path
from batch.settings import Settings
from batch.vocabulary import Mode
from batch.web.locking import account_lock
from batch.web.preview import Preview, plan_difference
from batch.web.store import Store

logger = logging.getLogger(__name__)

KEPT_PREVIEWS: Final = 8  # previews held in memory; an older one is planned again from its file
LOCK_RETRY_S: Final = 1.0
APPLYING: Final = "Applying"  # the pipeline's stage that sends the changes


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


class ProgressOutput(Output):
    """The pipeline's output for a web run: its stages and chunks go to `progress`, not a stream."""

    def __init__(self, progress: Progress) -> None:
        super().__init__("json", quiet=True, stream=io.StringIO())
        self.progress = progress

    def event(self, name: str, level: Level = "info", **fields: object) -> None:
        """A chunk's figures are counted; the other events are the server log's."""
        if name == "chunk":
            self.progress.applied += int(str(fields["applied"]))
            self.progress.failed += int(str(fields["failed"])) + int(str(fields["skipped"]))
        elif level != "info":
            logger.log(logging.WARNING, "%s %s", name, fields)

    @contextmanager
    def stage(self, name: str, total: int | None = None) -> Iterator[Advance]:
        """The stage's name becomes the phase; the applying stage counts its answers."""
        progress = self.progress
        progress.phase = name
        if name == APPLYING:
            progress.total, progress.started = total or 0, time.monotonic()

        def advance(k: int = 1) -> None:
            if name == APPLYING:
                progress.done += k

        yield advance


class RunManager:
    """Previews and applies of the web app; one account, its settings."""

    def __init__(self, settings: Settings, store: Store, uploads: Path) -> None:
        self.settings = settings
        self.store = store
        self.uploads = uploads
        self._previews: dict[str, Preview] = {}
        self._results: dict[str, pd.DataFrame] = {}
        self._progress: dict[str, Progress] = {}
        self._stops: dict[str, StopRequest] = {}
        self._lock = threading.Lock()
        # Previews are planned one at a time, always in this one thread: a 100k-line plan needs
        # ~1.1 GB while it is made, and the C allocator keeps what one thread freed for that
        # thread: plans made two at a time in ever other request threads grew the app to 3.5 GB.
        self._planner = ThreadPoolExecutor(max_workers=1, thread_name_prefix="batch-plan")
        self._worker = ThreadPoolExecutor(max_workers=1, thread_name_prefix="batch-apply")
        store.stop_unfinished()  # no thread of this process runs them

    def close(self) -> None:
        """Stop taking applies; the one running finishes."""
        self._worker.shutdown(wait=False, cancel_futures=True)
        self._planner.shutdown(wait=False, cancel_futures=True)

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
            self._plan(run_id, upload, options)
        except BatchError as error:
            self.store.update_run(
                run_id, status="refused", message=str(error), exit_code=error.exit_code
            )
        return run_id

    def _plan(self, run_id: str, upload: Path, options: dict[str, Any], message: str = "") -> None:
        """`batch plan` of the upload: its plan report beside it, the preview kept."""
        outcome = self._make_preview(run_id, upload, options, "plan.xlsx")
        self.store.update_run(
            run_id,
            status="planned",
            message=message,
            counts=dict(outcome.counts),
            exit_code=outcome.exit_code,
            plan_report=str(outcome.report_path),
        )

    def _make_preview(self, run_id: str, upload: Path, options: dict[str, Any], report: str) -> Any:
        """Plan the upload as `batch plan` does, keep what the page shows; the RunOutcome."""
        settings = replace(self.run_settings(options), report_path=self.uploads / run_id / report)
        watch = Watch()
        output = ProgressOutput(Progress())
        outcome = self._planner.submit(plan_file, upload, settings, output, watch).result()
        assert watch.plan is not None and watch.before is not None
        self._keep(run_id, Preview(watch.plan, dict(watch.before.seats)))
        return outcome

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
        try:  # the plan report of the preview the admin saw stays as it was
            self._make_preview(run_id, Path(row["upload"]), row["options"], "replanned.xlsx")
        except BatchError:
            return None
        with self._lock:
            return self._previews.get(run_id)

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
        self._stops[run_id] = StopRequest()
        self._worker.submit(self._apply_job, run_id, resume)

    def cancel(self, run_id: str) -> bool:
        """Ask a queued or running apply to stop after its requests in flight; False: none."""
        stop = self._stops.get(run_id)
        if stop is None:
            return False
        stop.request()
        return True

    def _apply_job(self, run_id: str, resume: bool) -> None:
        try:
            self._apply_queued(run_id, resume)
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
            self._stops.pop(run_id, None)
            progress = self._progress.get(run_id)
            if progress is not None:
                progress.phase = "done"

    def _apply_queued(self, run_id: str, resume: bool) -> None:
        stop = self._stops[run_id]
        while True:  # the visible queue: wait for the account lock
            if stop.requested:
                self.store.update_run(run_id, status="stopped", message="cancelled while queued")
                return
            try:
                with account_lock(self.settings):  # the pipeline takes it again, re-entrant
                    self._apply(run_id, stop, resume)
                return
            except LockHeld as held:
                self.store.update_run(run_id, status="queued", message=str(held))
                time.sleep(LOCK_RETRY_S)

    def _apply(self, run_id: str, stop: StopRequest, resume: bool) -> None:
        """`batch apply` of the upload, confirmed only when its plan is the one previewed."""
        row = self.store.run(run_id)
        saved = self.preview(run_id)
        if row is None or saved is None:
            raise BatchError("the run's file can no longer be planned")
        settings = self.run_settings(row["options"])
        report = default_report_path(settings.reports_dir, row["file_name"], datetime.now(UTC))
        report = report.with_name(f"{report.stem}-web-{run_id}.xlsx")
        settings = replace(settings, report_path=report)
        difference: list[str] = []

        def same_plan(fresh: Plan, before: AccountSnapshot) -> bool:
            difference.extend(plan_difference(saved.plan, fresh))
            return resume or not difference  # a resume applies what is left of the plan

        watch = Watch(stop=stop)
        self.store.update_run(run_id, status="applying", message="")
        output = ProgressOutput(self._progress[run_id])
        try:
            outcome = apply_file(Path(row["upload"]), settings, output, "apply", same_plan, watch)
        except NotConfirmed:  # the account changed since the preview: preview it again
            self._plan(
                run_id, Path(row["upload"]), row["options"], "\n".join(["changed", *difference])
            )
            return
        except BatchError as error:
            if watch.journal_run is None or watch.results is None:
                raise  # nothing was sent
            # Cancelled, or stopped by the account (its daily limit): the report of what was done
            self._done(run_id, watch, "stopped", str(error), error.exit_code, report)
            return
        self._done(run_id, watch, "applied", "", outcome.exit_code, outcome.report_path or report)

    def _done(
        self, run_id: str, watch: Watch, status: str, message: str, exit_code: int, report: Path
    ) -> None:
        assert watch.results is not None
        self._results[run_id] = watch.results
        self.store.update_run(
            run_id,
            status=status,
            message=message,
            counts=outcome_counts(watch.results),
            exit_code=exit_code,
            report=str(report),
            journal_run_id=watch.journal_run,
        )
