"""Terminal and JSON-lines output: what a log reader or a person sees on stderr."""

from __future__ import annotations

import io
import re
from datetime import datetime
from pathlib import Path
from typing import Any

import orjson
import pytest

from batch.output import Output
from batch.settings import Secret
from batch.vocabulary import Outcome


class Terminal(io.StringIO):
    """A text stream that says it is a terminal, as a real tty would."""

    def isatty(self) -> bool:
        return True


def json_lines(stream: io.StringIO) -> list[dict[str, Any]]:
    return [orjson.loads(line) for line in stream.getvalue().splitlines()]


def test_json_lines_parse_and_carry_the_fields() -> None:
    """Off a terminal every line is one JSON object with ts, level, event and the fields."""
    stream = io.StringIO()
    output = Output("auto", stream=stream)
    output.event("chunk", number=3, applied=30, path=Path("a/b.csv"), kind=Outcome.APPLIED)
    output.event("file", level="warning", file="x.csv", when=datetime(2026, 11, 27, 22, 58))
    lines = json_lines(stream)
    assert [(r["level"], r["event"]) for r in lines] == [("info", "chunk"), ("warning", "file")]
    assert {k: lines[0][k] for k in ("number", "applied", "path", "kind")} == {
        "number": 3,
        "applied": 30,
        "path": "a/b.csv",
        "kind": "applied",
    }
    assert lines[0]["ts"].endswith("Z") and lines[1]["when"] == "2026-11-27T22:58:00"


@pytest.mark.parametrize("mode", ["json", "text", "auto"], ids=["json", "text", "terminal"])
def test_secret_values_are_hidden(mode: str) -> None:
    """A Secret value, even nested, is written as *** in every style."""
    stream = Terminal() if mode == "auto" else io.StringIO()
    Output(mode, stream=stream).event("login", warning_level="error", value=Secret("hunter2"),
                                       nested={"inner": [Secret("hunter2")]})  # fmt: skip
    written = stream.getvalue()
    assert "hunter2" not in written and "***" in written


@pytest.mark.parametrize(
    "field", ["client_secret", "password", "access_token", "SMTP_PASSWORD"], ids=str
)
def test_secret_named_fields_are_refused(field: str) -> None:
    """A field named like a secret is refused before anything is written."""
    stream = io.StringIO()
    with pytest.raises(ValueError, match="refusing to log"):
        Output("json", stream=stream).event("oops", **{field: "x"})
    assert stream.getvalue() == ""


def test_quiet_keeps_only_warnings_and_errors() -> None:
    """--quiet drops progress, info events and the summary, and keeps warnings and errors."""
    stream = io.StringIO()
    output = Output("json", quiet=True, stream=stream)
    with output.stage("Applying", total=2) as advance:
        advance(2)
    output.event("chunk", number=1)
    output.summary({"applied": 2})
    output.warning("file still being written", file="a.csv")
    output.error("mail server refused", server="smtp:25")
    assert [(r["level"], r["event"]) for r in json_lines(stream)] == [
        ("warning", "warning"),
        ("error", "error"),
    ]


def test_stage_events_count_progress() -> None:
    """A stage writes a start and a done event with the amount advanced."""
    stream = io.StringIO()
    output = Output("json", stream=stream)
    with output.stage("Applying", total=5) as advance:
        advance(2)
        advance()
    start, done = json_lines(stream)
    assert (start["stage"], start["status"], start["total"]) == ("Applying", "start", 5)
    assert (done["status"], done["done"]) == ("done", 3)


def test_stage_stopped_by_an_error_says_so() -> None:
    """A stage left by an exception ends with a warning event, and the error goes on."""
    stream = io.StringIO()
    with pytest.raises(RuntimeError), Output("json", stream=stream).stage("Applying", 4) as step:
        step()
        raise RuntimeError("boom")
    assert [(r["status"], r["level"]) for r in json_lines(stream)] == [
        ("start", "info"),
        ("stopped", "warning"),
    ]


def test_summary_event_off_a_terminal() -> None:
    """The summary is one JSON event with the counts and seat lines."""
    stream = io.StringIO()
    Output("auto", stream=stream).summary(
        {Outcome.APPLIED: 3, "failed": 1}, ("Licensed: 33 of 34 used after the run",)
    )
    (record,) = json_lines(stream)
    assert (record["event"], record["counts"], record["seats"]) == (
        "summary",
        {"applied": 3, "failed": 1},
        ["Licensed: 33 of 34 used after the run"],
    )


def test_terminal_shows_a_table_and_error_lines() -> None:
    """On a terminal the summary is a table and an error reads `Error: ...`."""
    stream = Terminal()
    output = Output("auto", stream=stream)
    with output.stage("Applying", total=3) as advance:
        advance(3)
    output.summary({"applied": 3, "failed": 0}, ("Licensed: 33 of 34 used after the run",))
    output.error("cannot reach the account")
    written = stream.getvalue()
    assert "applied" in written and "Licensed: 33 of 34 used after the run" in written
    assert "failed" not in written  # zero rows are left out of the table
    assert written.splitlines()[-1] == "Error: cannot reach the account"
    assert not written.lstrip().startswith("{")


def test_text_mode_lines() -> None:
    """--log-format text writes `time LEVEL event key=value` lines."""
    stream = io.StringIO()
    Output("text", stream=stream).event("file", file="users list.csv", exit_code=1)
    assert re.fullmatch(
        r"\d{4}-\d\d-\d\dT[\d:.]+Z INFO +file file='users list.csv' exit_code=1\n",
        stream.getvalue(),
    )


def test_unknown_mode_is_refused() -> None:
    """A log format other than auto, text or json is a programming error."""
    with pytest.raises(ValueError, match="auto, text or json"):
        Output("xml")
