"""What a run tells while it works: progress and events on stderr, for people or for machines.

Streams, decided once for every command:

- **stdout** carries the human result lines a command prints itself (`click.echo`): the first
  line naming the account ("Using the SANDBOX account at ...: no real Zoom account is
  touched."), the counts line and the report path. Never JSON, never progress.
- **stderr** (this module) carries progress and events. Its style follows `--log-format`:

  | mode | stderr is a terminal | otherwise |
  | --- | --- | --- |
  | `auto` (default) | rich progress bars, short event lines, a summary table | JSON lines |
  | `json` | JSON lines | JSON lines |
  | `text` | plain `time LEVEL event key=value` lines | the same |

  A JSON line is one object per event: `{"ts": "2026-11-27T22:58:00.123Z", "level": "info",
  "event": "chunk", ...fields}`. Events: `stage` (start/done of a stage), `chunk`, `file`,
  `loaded`, `summary`, `error`, ... Errors are `level: "error"`; with `text`/rich they read
  `Error: <message>`.

Log records of the library and of the libraries it uses (stdlib `logging`: the Zoom client's
retries, the runner's stop, httpx with BATCH_DEBUG) take the same road once `forward_logs()` ran
(the console script does it first thing): each becomes a `log` event (`logger`, `message`, and
`traceback` when one is attached) of the run's Output, so a JSON run's stderr is JSON lines only.
Which Output: the newest one that writes to stderr (a web run's Output keeps its own stream).

`--quiet` drops progress and `debug`/`info` events; warnings and errors stay. Secrets never get
out: a field whose value is a `Secret` is written `"***"`, a field *named* like a secret
(`*secret*`, `*password*`, `*token*`) is refused with ValueError, so the mistake shows in tests,
and every text goes through `batch.scrub.printable` (registered secrets and Bearer/Basic
credentials become `***`, a file name's undecodable bytes are shown escaped).

Example::

    output = Output("auto", quiet=False)
    with output.stage("Applying", total=120) as advance:
        for chunk in chunks:
            ...
            advance(len(chunk))
            output.event("chunk", number=3, applied=30, failed=0)
    output.summary({"applied": 118, "failed": 2}, ("Licensed: 33 of 34 used after the run",))
"""

from __future__ import annotations

import logging
import re
import sys
import time
import traceback
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from datetime import UTC, date, datetime
from enum import Enum
from pathlib import PurePath
from typing import Final, Literal, TextIO

import orjson
from rich.console import Console
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    SpinnerColumn,
    TextColumn,
    TimeElapsedColumn,
)
from rich.table import Table

from batch.scrub import printable
from batch.settings import Secret

LogFormat = Literal["auto", "text", "json"]
Level = Literal["debug", "info", "warning", "error"]
Advance = Callable[..., None]  # advance(k: int = 1)

LEVELS: Final = ("debug", "info", "warning", "error")
QUIET_DROPS: Final = frozenset({"debug", "info"})
SECRET_NAME: Final = re.compile(r"secret|password|token", re.IGNORECASE)
HIDDEN: Final = "***"
# On a terminal these are shown by the progress bar, not as lines.
BAR_EVENTS: Final = frozenset({"chunk", "stage"})
_JSON_OPTIONS: Final = orjson.OPT_NON_STR_KEYS | orjson.OPT_SERIALIZE_NUMPY


def _plain(value: object) -> object:
    """JSON for what orjson does not know; a Secret is never revealed."""
    if isinstance(value, Secret):
        return HIDDEN
    if isinstance(value, PurePath):
        return printable(str(value))
    if isinstance(value, set | frozenset):
        return sorted((_clean(v) for v in value), key=str)
    return printable(str(value))


def _clean(value: object) -> object:
    """A field value with its text scrubbed of secrets and made printable (any file name)."""
    if isinstance(value, str):
        return printable(value)
    if isinstance(value, PurePath):
        return printable(str(value))
    if isinstance(value, Mapping):
        return {_clean(k) if isinstance(k, str) else k: _clean(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_clean(v) for v in value]
    return value


def _text_value(value: object) -> str:
    """A field value for a text line."""
    if isinstance(value, Secret):
        return HIDDEN
    if isinstance(value, Enum):
        return str(value.value)
    if isinstance(value, datetime | date):
        return value.isoformat()
    if isinstance(value, str | PurePath):
        text = str(value)
        return repr(text) if (not text or " " in text) else text
    return orjson.dumps(value, default=_plain, option=_JSON_OPTIONS).decode()


def utc_timestamp() -> str:
    """Now, ISO 8601 UTC with milliseconds and a Z."""
    return datetime.now(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


class Output:
    """Progress and events of a run, on a terminal or as JSON lines (see the module docstring)."""

    def __init__(
        self, mode: str = "auto", quiet: bool = False, stream: TextIO | None = None
    ) -> None:
        if mode not in ("auto", "text", "json"):
            raise ValueError(f"log format must be auto, text or json, not {mode!r}")
        self.stream: TextIO = stream if stream is not None else sys.stderr
        self.quiet = quiet
        is_terminal = bool(getattr(self.stream, "isatty", lambda: False)())
        self.style: Literal["rich", "text", "json"]
        if mode == "auto":
            self.style = "rich" if is_terminal else "json"
        else:
            self.style = "text" if mode == "text" else "json"
        self._console = Console(file=self.stream, highlight=False) if self.style == "rich" else None
        if stream is None:
            _LogForwarder.output = self  # the run's own stderr: library logs go here from now

    # -- events --------------------------------------------------------------------------------

    def event(self, name: str, level: Level = "info", **fields: object) -> None:
        """One event: a JSON line, a text line, or (on a terminal) a short line.

        Raises ValueError for a field named like a secret; a Secret value is written `***`.
        """
        for key in fields:
            if SECRET_NAME.search(key):
                raise ValueError(f"refusing to log a field named {key!r}: it may hold a secret")
        if level not in LEVELS:
            raise ValueError(f"unknown level {level!r}")
        if self.quiet and level in QUIET_DROPS:
            return
        fields = {key: _clean(value) for key, value in fields.items()}
        if self.style == "json":
            record = {"ts": utc_timestamp(), "level": level, "event": name, **fields}
            line = orjson.dumps(record, default=_plain, option=_JSON_OPTIONS).decode()
            self._write(line)
        elif self.style == "text":
            pairs = " ".join(f"{k}={_text_value(v)}" for k, v in fields.items())
            self._write(f"{utc_timestamp()} {level.upper():<7} {name} {pairs}".rstrip())
        else:
            if level == "info" and name in BAR_EVENTS:
                return
            pairs = "  ".join(f"{k}={_text_value(v)}" for k, v in fields.items())
            marker = {"warning": "[yellow]![/] ", "error": "[red]Error:[/] "}.get(level, "")
            assert self._console is not None
            self._console.print(f"{marker}{name}  [dim]{printable(pairs)}[/]", markup=True)

    def error(self, message: str, **fields: object) -> None:
        """An error: `Error: <message>` for people, an `error` event for machines."""
        if self.style == "json":
            self.event("error", "error", message=message, **fields)
        else:
            self._write(f"Error: {printable(message)}")

    def warning(self, message: str, **fields: object) -> None:
        """A warning event with a message."""
        self.event("warning", "warning", message=message, **fields)

    # -- progress ------------------------------------------------------------------------------

    @contextmanager
    def stage(self, name: str, total: int | None = None) -> Iterator[Advance]:
        """A stage of the run: a progress bar on a terminal, start/done events otherwise.

        Yields `advance(k=1)`. `total` None means an unknown amount (a spinner).
        """
        done = 0
        started = time.monotonic()
        if self.quiet:

            def count(k: int = 1) -> None:
                nonlocal done
                done += k

            yield count
            return
        if self.style == "rich":
            assert self._console is not None
            with Progress(
                SpinnerColumn(),
                TextColumn("{task.description}"),
                BarColumn(),
                MofNCompleteColumn(),
                TimeElapsedColumn(),
                console=self._console,
            ) as progress:
                task = progress.add_task(name, total=total)

                def bar(k: int = 1) -> None:
                    progress.advance(task, k)

                yield bar
                if total is None:
                    progress.update(task, total=1, completed=1)
            return

        def advance(k: int = 1) -> None:
            nonlocal done
            done += k

        self.event("stage", stage=name, status="start", total=total)
        try:
            yield advance
        except BaseException:
            self.event("stage", "warning", stage=name, status="stopped", done=done)
            raise
        elapsed = round(time.monotonic() - started, 3)
        self.event("stage", stage=name, status="done", done=done, elapsed_s=elapsed)

    def summary(self, counts: Mapping[str, int], seats_lines: Sequence[str] = ()) -> None:
        """The run's figures: a table on a terminal, a `summary` event otherwise."""
        if self.quiet:
            return
        if self.style != "rich":
            plain_counts = {str(k): int(v) for k, v in counts.items()}
            self.event("summary", counts=plain_counts, seats=list(seats_lines))
            return
        table = Table(title="Result lines", title_justify="left")
        table.add_column("Outcome")
        table.add_column("Lines", justify="right")
        for outcome, number in counts.items():
            if number:
                table.add_row(str(outcome), str(number))
        assert self._console is not None
        self._console.print(table)
        for line in seats_lines:
            self._console.print(line, markup=False)

    # -- plumbing ------------------------------------------------------------------------------

    def _write(self, line: str) -> None:
        self.stream.write(printable(line) + "\n")
        self.stream.flush()


# -- the library's log records ---------------------------------------------------------------------

LOG_LEVELS: Final[tuple[tuple[int, Level], ...]] = (
    (logging.ERROR, "error"),
    (logging.WARNING, "warning"),
    (logging.INFO, "info"),
)


_PLAIN: Final = logging.Formatter("%(levelname)s %(name)s %(message)s")


class _LogForwarder(logging.Handler):
    """Hands every log record to the run's Output as a `log` event (see the module docstring)."""

    output: Output | None = None  # the newest Output on stderr

    def emit(self, record: logging.LogRecord) -> None:
        """One record as a `log` event; before any Output exists, as a plain line (rare)."""
        try:
            output = _LogForwarder.output
            message = record.getMessage()
            if output is None:
                sys.stderr.write(printable(_PLAIN.format(record)) + "\n")
                return
            level: Level = next(
                (name for number, name in LOG_LEVELS if record.levelno >= number), "debug"
            )
            fields: dict[str, object] = {"logger": record.name, "message": message}
            if record.exc_info:
                fields["traceback"] = "".join(traceback.format_exception(*record.exc_info))
            output.event("log", level, **fields)
        except Exception:  # a log line must never break the run
            self.handleError(record)


def forward_logs(*, debug: bool = False) -> None:
    """Send every log record (warnings and errors; everything with `debug`) to the run's Output.

    Replaces the root logger's handlers, so no record is written twice or as plain text.
    """
    root = logging.getLogger()
    for handler in list(root.handlers):
        root.removeHandler(handler)
    root.addHandler(_LogForwarder())
    root.setLevel(logging.DEBUG if debug else logging.WARNING)
