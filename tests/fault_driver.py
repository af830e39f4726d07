"""Helpers of the fault and crash suites: an account built for a mixed plan, a restartable served
sandbox, a client with short timeouts, and the checks that nothing was lost or doubled.

    account_data(units) / license_lines(units)   per unit: 8 operations and 1/4 no-seats line
    ServedAccount(path, faults)                  the account file served on 127.0.0.1; restart()
    fault_client(url, timeout_s=2.0)             a ZoomClient with small timeouts and backoff
    seat_overuse(initial, changes) -> [...]      seats held beyond purchase at any point
    doubled(changes) -> [...]                    (email, field, new) changes made twice
    expected_holdings(units)                     every user's type and add-ons after the plan

The plan of `units` units (every seat is exactly full before the run, so each grant needs a seat
another operation frees first):

    b<i>  Basic -> Licensed, then Webinar 500       (2 ops; base seat from d<i>, webinar from s<i>)
    l<i>  Licensed, Large Meeting 500 granted      (1 op; the seat d<i>'s downgrade frees)
    s<i>  Webinar 500 -> Webinar 1000              (2 ops: split, it frees the 500 that b<i> takes)
    d<i>  Licensed with Large Meeting 500 -> Basic (1 op; frees a base seat and a large meeting)
    r<i>  remove Zoom Events 500                   (1 op; frees the seat z<i> takes)
    z<i>  Zoom Events 500 granted                  (1 op; one in four more z lines: no-seats)
"""

from __future__ import annotations

import errno
import random
import socket
import threading
import time
from collections import Counter
from collections.abc import Iterable, Iterator, Sequence
from contextlib import ExitStack
from pathlib import Path
from typing import Any, Final

from batch.sandbox import Faults, Sandbox, serve
from batch.zoom import ClientConfig, ZoomClient
from tests.accounts import account

LIMITS_FAST: Final = {"light": 400, "medium": 400, "heavy": 100}
ADDON_FIELDS: Final = ("large_meeting", "webinar", "zoom_events")
OPS_PER_UNIT: Final = 8


def extra_z(units: int) -> int:
    """Zoom Events lines beyond the seats: they end `skipped`, `no-seats`."""
    return max(units // 4, 1)


def account_data(units: int, limits: dict[str, Any] | None = None) -> dict[str, Any]:
    """Section-5 account data for `units` units, every seat in use (see the module docstring)."""
    users: list[dict[str, Any]] = []
    for i in range(units):
        users += [
            {"email": f"b{i:04d}@x.com", "type": "Basic"},
            {"email": f"l{i:04d}@x.com", "type": "Licensed"},
            {"email": f"s{i:04d}@x.com", "type": "Licensed", "webinar": 500},
            {"email": f"d{i:04d}@x.com", "type": "Licensed", "large_meeting": 500},
            {"email": f"r{i:04d}@x.com", "type": "Licensed", "zoom_events": 500},
        ]
    wanting = units + extra_z(units)
    users += [{"email": f"z{i:04d}@x.com", "type": "Licensed"} for i in range(wanting)]
    return account(
        [{"large_meeting": None, "webinar": None, "zoom_events": None, **u} for u in users],
        plans={
            "large_meeting": {"500": units},
            "webinar": {"500": units, "1000": units},
            "zoom_events": {"500": units},
        },
        limits=limits or LIMITS_FAST,
        account_id="faults",
    )  # base seats: one per Licensed user, every seat in use


def license_lines(units: int) -> list[str]:
    """The long-layout lines (email,license,action) of the plan, grouped by kind of change."""
    lines: list[str] = []
    lines += [f"b{i:04d}@x.com,Licensed," for i in range(units)]
    lines += [f"b{i:04d}@x.com,Webinar 500," for i in range(units)]
    lines += [f"l{i:04d}@x.com,Large Meeting 500," for i in range(units)]
    lines += [f"s{i:04d}@x.com,Webinar 1000," for i in range(units)]
    lines += [f"d{i:04d}@x.com,Basic," for i in range(units)]
    lines += [f"r{i:04d}@x.com,Zoom Events 500,remove" for i in range(units)]
    lines += [f"z{i:04d}@x.com,Zoom Events 500," for i in range(units + extra_z(units))]
    return lines


def write_csv(path: Path, lines: Sequence[str]) -> Path:
    """The license file at `path`; row 2 is the first line."""
    path.write_text("email,license,action\n" + "\n".join(lines) + "\n", encoding="utf-8")
    return path


def fault_client(url: str, *, timeout_s: float = 2.0, max_retries: int = 6) -> ZoomClient:
    """A client of the sandbox served at `url`: short timeout, fast backoff, 5 s longest wait."""
    config = ClientConfig(
        f"{url}/v2",
        f"{url}/oauth/token",
        None,
        plan="business",
        timeout_s=timeout_s,
        max_retries=max_retries,
        backoff_base_s=0.05,
        backoff_max_s=0.5,
        max_wait_s=5.0,
        is_sandbox=True,
    )
    return ZoomClient(config)


class ServedAccount:
    """An account file served on 127.0.0.1 that can be restarted (stopped, then served again).

    Every Sandbox it served is kept in `sandboxes`, so their stats add up over restarts. The
    port lies below the kernel's ephemeral range: while the server is down for a restart, an
    outgoing connection (of this test or of another worker) could otherwise take the port as
    its own source port, and the server could not come back on it. A restart that fails anyway
    is kept in `errors`, for the test to report.
    """

    def __init__(self, path: Path, faults: Faults | None = None) -> None:
        self.path = path
        self.faults = faults or Faults()
        self.sandboxes: list[Sandbox] = []
        self.restarts = 0
        self.errors: list[BaseException] = []
        self._restarting: list[threading.Thread] = []
        self.port = _port_outside_ephemeral_range()
        self._stack: ExitStack | None = None
        self._lock = threading.Lock()

    @property
    def sandbox(self) -> Sandbox:
        """The sandbox being served now."""
        return self.sandboxes[-1]

    @property
    def url(self) -> str:
        """The base URL (the port stays the same over restarts)."""
        return f"http://127.0.0.1:{self.port}"

    def __enter__(self) -> ServedAccount:
        self._start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop()

    def _start(self) -> None:
        sandbox = Sandbox.from_file(self.path, faults=self.faults)
        deadline = time.monotonic() + 5.0
        while True:
            stack = ExitStack()
            try:
                url = stack.enter_context(serve(sandbox, port=self.port))
                break
            except OSError as error:  # the port still held a moment after the stop
                if error.errno != errno.EADDRINUSE or time.monotonic() > deadline:
                    raise
                time.sleep(0.05)
        self.port = int(url.rsplit(":", 1)[1])
        self.sandboxes.append(sandbox)
        self._stack = stack

    def _stop(self) -> None:
        if self._stack is not None:
            self._stack.close()
            self._stack = None

    def restart(self, down_s: float = 0.3) -> None:
        """Stop serving (open connections cut, the file saved), wait, serve the file again."""
        with self._lock:
            try:
                self._stop()
                time.sleep(down_s)
                self._start()
            except BaseException as error:
                self.errors.append(error)
                raise
            self.restarts += 1

    def restart_soon(self, down_s: float = 0.3) -> threading.Thread:
        """Restart from another thread, so a client in this one keeps running meanwhile."""
        thread = threading.Thread(target=self.restart, args=(down_s,), daemon=True)
        thread.start()
        self._restarting.append(thread)
        return thread

    def settle(self, timeout_s: float = 60.0) -> None:
        """Wait until every restart begun has ended (the server is up again, or it failed)."""
        for thread in self._restarting:
            thread.join(timeout_s)

    def set_faults(self, faults: Faults) -> None:
        """What goes wrong from now on (kept over restarts)."""
        self.faults = faults
        self.sandbox.set_faults(faults)

    def changes(self) -> list[tuple[str, str, object, object]]:
        """Every change made to the account, over all restarts, in order."""
        return [change for sandbox in self.sandboxes for change in sandbox.stats.changes]

    def faults_seen(self) -> Counter[str]:
        """Injected faults by kind, over all restarts."""
        total: Counter[str] = Counter()
        for sandbox in self.sandboxes:
            total.update(sandbox.stats.faults)
        return total

    def noop_writes(self) -> int:
        """Writes answered 2xx that changed nothing (a blindly repeated write)."""
        return sum(sandbox.stats.noop_writes for sandbox in self.sandboxes)

    def rate_limited(self) -> int:
        """Real 429s of the account's limits, over all restarts."""
        return sum(sum(sandbox.stats.rate_limited.values()) for sandbox in self.sandboxes)


def _port_outside_ephemeral_range() -> int:
    """A free port on 127.0.0.1 below the range the kernel hands out to outgoing connections."""
    try:
        low = int(Path("/proc/sys/net/ipv4/ip_local_port_range").read_text().split()[0])
    except (OSError, ValueError, IndexError):
        low = 32768  # Linux's default
    for _ in range(200):
        port = random.randrange(10_000, max(low, 10_001))
        with socket.socket() as probe:
            probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            try:
                probe.bind(("127.0.0.1", port))
            except OSError:
                continue
        return port
    return 0  # every try taken: let the kernel choose


def holdings(account: dict[str, Any]) -> dict[str, tuple[object, ...]]:
    """Every user's type and add-on sizes, from section-5 account data."""
    return {u["email"]: (u["type"], *(u.get(f) for f in ADDON_FIELDS)) for u in account["users"]}


def _seat_keys(held: tuple[object, ...]) -> Iterator[tuple[str, object]]:
    if held[0] in ("Licensed", "On-prem"):
        yield ("base", None)
    for field, size in zip(ADDON_FIELDS, held[1:], strict=True):
        if size is not None:
            yield (field, size)


def purchased(account: dict[str, Any]) -> dict[tuple[str, object], int]:
    """Seats bought per (license, size) from section-5 account data."""
    seats: dict[tuple[str, object], int] = {("base", None): int(account["plans"]["base"]["hosts"])}
    for field in ADDON_FIELDS:
        for size, count in account["plans"].get(field, {}).items():
            seats[(field, int(size))] = int(count)
    return seats


def seat_overuse(
    account: dict[str, Any], changes: Iterable[tuple[str, str, object, object]]
) -> list[tuple[int, tuple[str, object], int, int]]:
    """Replay `changes` over the account: (step, seat, held, bought) wherever held > bought.

    A seat is counted after every single change, so a grant sent before the removal that was
    to free its seat shows up even when the run ends with the right holders.
    """
    bought = purchased(account)
    users = {email: list(held) for email, held in holdings(account).items()}
    held: Counter[tuple[str, object]] = Counter()
    for user in users.values():
        held.update(_seat_keys(tuple(user)))
    overuse = [(0, k, n, bought.get(k, 0)) for k, n in held.items() if n > bought.get(k, 0)]
    position = {"type": 0, **{f: i + 1 for i, f in enumerate(ADDON_FIELDS)}}
    for step, (email, field, _, new) in enumerate(changes, start=1):
        if field not in position:
            continue
        user = users[email]
        held.subtract(_seat_keys(tuple(user)))
        user[position[field]] = new
        held.update(_seat_keys(tuple(user)))
        overuse += [(step, k, n, bought.get(k, 0)) for k, n in held.items() if n > bought.get(k, 0)]
    return overuse


def doubled(
    changes: Iterable[tuple[str, str, object, object]],
) -> list[tuple[str, str, object]]:
    """(email, field, new) changes made more than once: these plans set each value once."""
    counts = Counter((email, field, new) for email, field, _, new in changes)
    return sorted((key for key, n in counts.items() if n > 1), key=str)


def expected_holdings(units: int) -> dict[str, tuple[object, ...]]:
    """Every user's (type, large meeting, webinar, zoom events) once the whole plan is done."""
    after: dict[str, tuple[object, ...]] = {}
    for i in range(units):
        after[f"b{i:04d}@x.com"] = ("Licensed", None, 500, None)
        after[f"l{i:04d}@x.com"] = ("Licensed", 500, None, None)
        after[f"s{i:04d}@x.com"] = ("Licensed", None, 1000, None)
        after[f"d{i:04d}@x.com"] = ("Basic", None, None, None)
        after[f"r{i:04d}@x.com"] = ("Licensed", None, None, None)
    for i in range(units + extra_z(units)):
        after[f"z{i:04d}@x.com"] = ("Licensed", None, None, 500 if i < units else None)
    return after


class Competitor:
    """Other clients of the same account, eating its rate limits while the block runs.

    One thread per route, each sending `per_s` requests a second with its own token
    (Light: GET /users/{id}, Medium: GET /users/summary).
    """

    ROUTES: Final = ("/v2/users/l0000@x.com", "/v2/users/summary")

    def __init__(self, served: ServedAccount, per_s: float) -> None:
        self.served = served
        self.per_s = per_s
        self.sent = 0
        self._stop = threading.Event()
        self._threads = [
            threading.Thread(target=self._hammer, args=(route,), daemon=True)
            for route in self.ROUTES
        ]

    def __enter__(self) -> Competitor:
        for thread in self._threads:
            thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        for thread in self._threads:
            thread.join(timeout=10)

    def _hammer(self, route: str) -> None:
        import httpx

        with httpx.Client(timeout=2.0) as http:
            token = ""
            while not self._stop.wait(1.0 / self.per_s):
                try:
                    if not token:
                        answer = http.post(
                            f"{self.served.url}/oauth/token",
                            data={"grant_type": "account_credentials", "account_id": "faults"},
                            auth=("other-app", "secret"),
                        )
                        token = str(answer.json().get("access_token", ""))
                    answer = http.get(
                        self.served.url + route, headers={"Authorization": f"Bearer {token}"}
                    )
                    if answer.status_code == 401:
                        token = ""
                    self.sent += 1
                except (httpx.HTTPError, ValueError):
                    token = ""
