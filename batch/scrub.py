"""The one place secrets are taken out of text the tool writes: `scrub(text)`.

Every `Secret` registers its value when it is made (the configured client secret and mail
password, each bearer token the run is issued), so nothing else has to remember to. What is
replaced by `***`:

- a registered secret, its base64 form, its URL-encoded form, and the base64 forms of the
  credential pairs it is sent in (`id:secret` for HTTP Basic, `\\0user\\0password` for SMTP
  AUTH PLAIN) once they are registered with `register_pair`;
- a credential after `Bearer ` or `Basic ` (an Authorization header echoed by a server): a word
  of 12 or more token characters, so "Basic users" stays as it is.

The writers that pass their text through it: stdout and stderr (`ScrubbedStream`, installed by
the `batch` command for the whole process), `Output` (every event field, before JSON), the
journal's messages, the report's Message column and the report mail. Secrets shorter than
`MIN_SECRET_CHARS` are not registered: replacing every "abc" in the output would garble it.

>>> register("s3cr3t-value")
>>> scrub("client_secret=s3cr3t-value")
'client_secret=***'
"""

from __future__ import annotations

import base64
import re
import threading
from collections import deque
from typing import TYPE_CHECKING, Final, TextIO
from urllib.parse import quote, quote_plus

if TYPE_CHECKING:
    import pandas as pd

HIDDEN: Final = "***"
MIN_SECRET_CHARS: Final = 6
# "Basic" is also a Zoom license type: only a long credential-looking word after it is hidden
_SCHEMES: Final = r"\b([Bb]earer|Basic)(\s+)[A-Za-z0-9._~+/=-]{12,}(?=$|[\s\"',;})\]])"
RECENT_TOKENS: Final = 64  # expiring secrets (bearer tokens) hidden: the latest this many
_lock = threading.Lock()
_lasting: set[str] = set()
_recent: deque[frozenset[str]] = deque(maxlen=RECENT_TOKENS)
_pattern: re.Pattern[str] | None = None
_stale = False  # a secret was registered since _pattern was built
_schemes: Final = re.compile(_SCHEMES)
_padding: Final = re.compile(re.escape(HIDDEN) + "=+")


def _forms(value: str) -> set[str]:
    """A secret as it may show up in text: itself, base64, URL-encoded."""
    raw = value.encode("utf-8", errors="surrogatepass")
    forms = {value, quote(value, safe=""), quote_plus(value)}
    forms.add(base64.b64encode(raw).decode("ascii").rstrip("="))
    forms.add(base64.urlsafe_b64encode(raw).decode("ascii").rstrip("="))
    return {form for form in forms if len(form) >= MIN_SECRET_CHARS}


def register(value: str, *, expires: bool = False) -> None:
    """Hide `value` (and its encoded forms) from every text written from now on.

    A value that `expires` (a bearer token) is hidden while it is among the latest
    RECENT_TOKENS of them, so a long-lived process does not collect them for ever. Cheap: the
    pattern is rebuilt at the next `scrub`.
    """
    if len(value) < MIN_SECRET_CHARS:
        return
    global _stale
    forms = _forms(value)
    with _lock:
        if forms <= _lasting or any(forms == held for held in _recent):
            return
        if expires:
            _recent.append(frozenset(forms))
        else:
            _lasting.update(forms)
        _stale = True


def _current() -> re.Pattern[str] | None:
    """The pattern of every secret hidden now (rebuilt when one was registered)."""
    global _pattern, _stale
    if not _stale:
        return _pattern
    with _lock:
        if _stale:
            hidden = _lasting.union(*_recent)
            ordered = sorted(hidden, key=len, reverse=True)  # longest first: none half-hidden
            _pattern = re.compile("|".join(re.escape(s) for s in ordered)) if ordered else None
            _stale = False
        return _pattern


def register_pair(user: str, secret: str) -> None:
    """Hide the base64 credential forms a secret is sent in with its user name."""
    if len(secret) < MIN_SECRET_CHARS:
        return
    for pair in (f"{user}:{secret}", f"\0{user}\0{secret}", f"{user}\0{user}\0{secret}"):
        encoded = base64.b64encode(pair.encode("utf-8", errors="surrogatepass")).decode("ascii")
        register(encoded.rstrip("="))


def scrub(text: str) -> str:
    """`text` with every registered secret and every Bearer/Basic credential replaced by ***."""
    pattern = _current()
    if pattern is not None:
        text = pattern.sub(HIDDEN, text)
        if HIDDEN + "=" in text:  # the base64 padding of a hidden form
            text = _padding.sub(HIDDEN, text)
    if "earer" in text or "Basic" in text:
        text = _schemes.sub(rf"\1\2{HIDDEN}", text)
    return text


def scrub_column(values: pd.Series) -> pd.Series:
    """A text column (the report's Message cells) with `scrub` applied to each text."""
    texts = {v for v in values.dropna().unique() if isinstance(v, str)}
    changed = {text: clean for text in texts if (clean := scrub(text)) != text}
    if not changed:
        return values
    return values.map(lambda v: changed.get(v, v) if isinstance(v, str) else v)


def printable(text: str) -> str:
    """`text` scrubbed, with undecodable bytes of a file name (lone surrogates) escaped."""
    text = scrub(text)
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        raw = text.encode("utf-8", errors="surrogateescape")
        text = raw.decode("utf-8", errors="backslashreplace")
    return text


class ScrubbedStream:
    """A text stream that scrubs (and makes printable) everything written to it."""

    def __init__(self, stream: TextIO) -> None:
        self._stream = stream

    def write(self, text: str) -> int:
        """Write `text` scrubbed; returns the length of `text` as given."""
        self._stream.write(printable(text))
        return len(text)

    def writelines(self, lines: list[str]) -> None:
        """Write each line scrubbed."""
        for line in lines:
            self.write(line)

    def __getattr__(self, name: str) -> object:
        return getattr(self._stream, name)


def install() -> None:
    """Put `ScrubbedStream` around sys.stdout and sys.stderr for the rest of the process."""
    import sys

    if not isinstance(sys.stdout, ScrubbedStream):
        sys.stdout = ScrubbedStream(sys.stdout)
    if not isinstance(sys.stderr, ScrubbedStream):
        sys.stderr = ScrubbedStream(sys.stderr)
