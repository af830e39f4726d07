"""Library log records reach stderr through the run's Output: JSON lines stay JSON lines."""

from __future__ import annotations

import logging
from collections.abc import Iterator

import orjson
import pytest

from batch import output as output_module
from batch.output import Output, forward_logs
from batch.settings import Secret


@pytest.fixture
def forwarded() -> Iterator[None]:
    """forward_logs() for the test; the root logger's handlers and level restored after it."""
    root = logging.getLogger()
    handlers, level = list(root.handlers), root.level
    try:
        yield
    finally:
        for handler in list(root.handlers):
            root.removeHandler(handler)
        for handler in handlers:
            root.addHandler(handler)
        root.setLevel(level)
        output_module._LogForwarder.output = None


@pytest.mark.parametrize(
    ("debug", "quiet", "levels"),
    [
        (False, False, ["warning", "error"]),
        (True, False, ["debug", "info", "warning", "error"]),
        (True, True, ["warning", "error"]),
    ],
    ids=["default-warnings-up", "debug-everything", "quiet-drops-debug-and-info"],
)
def test_log_records_are_json_events(
    forwarded: None, capsys: pytest.CaptureFixture[str], debug: bool, quiet: bool, levels: list[str]
) -> None:
    """Each record shown is one JSON `log` event naming its logger, level and message."""
    forward_logs(debug=debug)
    Output("json", quiet=quiet)
    logger = logging.getLogger("batch.zoom.sender")
    logger.debug("retry %d", 1)
    logger.info("pacing at %s", 60)
    logger.warning("the page token expired")
    logger.error("Zoom stopped the run")
    lines = capsys.readouterr().err.splitlines()
    events = [orjson.loads(line) for line in lines]
    assert [e["level"] for e in events] == levels
    assert {e["event"] for e in events} == {"log"}
    assert {e["logger"] for e in events} == {"batch.zoom.sender"}


def test_a_record_goes_to_the_newest_stderr_output(
    forwarded: None, capsys: pytest.CaptureFixture[str]
) -> None:
    """The newest Output on stderr decides the style; text mode writes a text line."""
    forward_logs()
    Output("json")
    Output("text")
    logging.getLogger("httpx").warning("connection reset")
    err = capsys.readouterr().err.strip()
    assert "WARNING" in err and "log" in err and "connection reset" in err
    assert not err.startswith("{")


def test_a_traceback_and_secrets_in_a_record(
    forwarded: None, capsys: pytest.CaptureFixture[str]
) -> None:
    """A record's traceback is a field of its event; a registered secret in it is `***`."""
    forward_logs(debug=True)
    Output("json")
    secret = Secret("canary-logs-91c2")
    try:
        raise RuntimeError(f"boom {secret.reveal()}")
    except RuntimeError:
        logging.getLogger("batch.cli").debug("internal failure", exc_info=True)
    err = capsys.readouterr().err
    event = orjson.loads(err)
    assert "RuntimeError: boom ***" in event["traceback"]
    assert "canary-logs-91c2" not in err


def test_a_web_run_output_does_not_take_the_logs(
    forwarded: None, capsys: pytest.CaptureFixture[str]
) -> None:
    """An Output with its own stream (a web run's) leaves library logs on the process's one."""
    import io

    forward_logs()
    Output("json")
    own = io.StringIO()
    Output("json", stream=own)
    logging.getLogger("batch").warning("to the process's stderr")
    assert own.getvalue() == ""
    assert orjson.loads(capsys.readouterr().err)["message"] == "to the process's stderr"
