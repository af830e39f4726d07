"""Planner and apply against the sandbox, over random accounts and files (hypothesis).

A property test applies one random file to one random account; a state machine keeps one
account through many runs (some with network faults) and changes made "in the portal" between
them. After every step: seats are never overspent and every add-on holder is Licensed or
On-prem; after every apply: each line that ended applied (or unchanged) holds in the account.
"""

from __future__ import annotations

import asyncio
import io
import itertools
from collections import Counter
from collections.abc import Collection, Iterable, Mapping
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

import httpx
import pandas as pd
import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st
from hypothesis.stateful import (
    RuleBasedStateMachine,
    initialize,
    invariant,
    rule,
    run_state_machine_as_test,
)

from batch.applying import apply_operations, mark_done_earlier
from batch.journal import Journal
from batch.loading import load
from batch.model import AccountSnapshot, AccountUser, SeatKey, Seats
from batch.planning import Operation, Plan, addons_needed, apply_to_snapshot, plan
from batch.rules import check_file
from batch.sandbox import Faults, Sandbox
from batch.sandbox.testing import get_token
from batch.vocabulary import (
    ADDONS,
    PAID_TYPES,
    USER_TYPE_CODES,
    Action,
    Kind,
    Mode,
    Outcome,
    UserType,
)
from batch.zoom import ClientConfig, ZoomClient
from tests.accounts import FAST_LIMITS, account
from tests.strategies import POOL_SIZES, accounts, license_files

API_URL = "https://api.zoom.us/v2"
OAUTH_URL = "https://zoom.us/oauth/token"
HOLDS = frozenset({Outcome.APPLIED.value, Outcome.UNCHANGED.value})

Holding = tuple[str, int | None, int | None, int | None]  # type, large meeting, webinar, events


# ---------------------------------------------------------------------------------------------
# One run: load, file rules, read the account, plan, apply, read again (as pipeline.py does)


@dataclass(frozen=True)
class Run:
    """What one apply did: the file's requests, the plan, the results and the account after."""

    requests: pd.DataFrame
    plan: Plan
    results: pd.DataFrame
    op_states: dict[str, str]
    applied_to: dict[str, Any]  # the account the operations met (after any portal change)
    after: dict[str, Any]  # the sandbox account data after the run
    replanned: tuple[Operation, ...]  # operations of the same file planned again afterwards


def client(sandbox: Sandbox) -> ZoomClient:
    """A client of the in-process sandbox that retries without sleeping long."""
    config = ClientConfig(
        API_URL,
        OAUTH_URL,
        None,
        plan="business",
        is_sandbox=True,
        backoff_base_s=0.001,
        backoff_max_s=0.01,
        max_wait_s=5.0,
    )
    return ZoomClient(config, transport=sandbox.transport())


@dataclass(frozen=True)
class Options:
    """The run's options: `--mode` and `--all-or-nothing` (sync's removal cap is raised)."""

    mode: Mode = Mode.APPLY
    all_or_nothing: bool = False


options = st.builds(Options, st.sampled_from(list(Mode)), st.booleans())


async def read_and_plan(
    zoom: ZoomClient, requests: pd.DataFrame, file_results: pd.DataFrame, opts: Options
) -> Plan:
    """Read the account (the add-ons the planner needs) and plan the file against it."""
    before = await zoom.snapshot(addons_for=lambda users: addons_needed(requests, users, opts.mode))
    return plan(
        requests,
        file_results,
        before,
        mode=opts.mode,
        all_or_nothing=opts.all_or_nothing,
        allow_removals_override=True,
    )


def apply_file(
    data: dict[str, Any],
    content: bytes,
    journal_path: Path,
    opts: Options = Options(),  # frozen dataclass: a shared default is safe
    *,
    faults: Faults | None = None,
    meanwhile: PortalChange | None = None,
) -> Run:
    """Apply a CSV file to a sandbox holding `data`; plan it again against the result.

    `meanwhile` is a change made in the portal after the plan is made and before it is applied.
    """
    sandbox = Sandbox.from_dict(data, faults=faults)
    between = data
    loaded = load(io.BytesIO(content), name="licenses.csv")
    file_results = check_file(loaded.requests)

    async def scenario() -> tuple[Plan, pd.DataFrame, dict[str, str]]:
        async with client(sandbox) as zoom:
            the_plan = await read_and_plan(zoom, loaded.requests, file_results, opts)
        if meanwhile is not None:
            nonlocal between
            meanwhile.send(sandbox)
            between = sandbox.to_dict()
        with Journal(journal_path) as journal:
            earlier = journal.applied_earlier(loaded.sha256)
            the_plan = replace(the_plan, results=mark_done_earlier(the_plan.results, earlier))
            run_id = journal.start_run(loaded.name, loaded.sha256, "apply", str(opts.mode))
            journal.record_plan(run_id, the_plan.operations)
            async with client(sandbox) as zoom:
                results = await apply_operations(the_plan, zoom, journal, run_id)
            journal.finish_run(run_id, "finished")
            return the_plan, results, dict(journal.op_states(run_id))

    the_plan, results, states = asyncio.run(scenario())
    after = sandbox.to_dict()

    async def again() -> Plan:
        async with client(Sandbox.from_dict(after)) as zoom:
            return await read_and_plan(zoom, loaded.requests, file_results, opts)

    replanned = asyncio.run(again()).operations
    return Run(loaded.requests, the_plan, results, states, between, after, replanned)


# ---------------------------------------------------------------------------------------------
# What must hold


def holdings(data: Mapping[str, Any]) -> dict[str, Holding]:
    """Each user's type and add-on sizes, by lower-case email."""
    return {
        str(u["email"]).lower(): (
            str(u["type"]),
            u.get("large_meeting"),
            u.get("webinar"),
            u.get("zoom_events"),
        )
        for u in data["users"]
    }


def purchased(data: Mapping[str, Any]) -> dict[SeatKey, int]:
    """Purchased seats per license and size."""
    plans = data["plans"]
    seats: dict[SeatKey, int] = {(Kind.BASE, None): int(plans["base"]["hosts"])}
    for kind in ADDONS:
        for size, bought in plans.get(kind.value, {}).items():
            seats[(kind, int(size))] = int(bought)
    return seats


def used(data: Mapping[str, Any]) -> Counter[SeatKey]:
    """Seats held per license and size, every status counted (as Zoom's plan usage does)."""
    counts: Counter[SeatKey] = Counter()
    for user_type, *sizes in holdings(data).values():
        if UserType(user_type) in PAID_TYPES:
            counts[(Kind.BASE, None)] += 1
        for kind, size in zip(ADDONS, sizes, strict=True):
            if size is not None:
                counts[(kind, size)] += 1
    return counts


def assert_seats_not_overspent(data: Mapping[str, Any]) -> None:
    """(b) For every license and size, holders <= purchased (and no held size is unowned)."""
    bought = purchased(data)
    over = {k: n for k, n in used(data).items() if n > bought.get(k, 0)}
    assert not over, f"seats overspent: {over}"


def assert_addons_only_for_paid(data: Mapping[str, Any]) -> None:
    """(c) Every add-on holder is Licensed or On-prem."""
    wrong = [
        email
        for email, (user_type, *sizes) in holdings(data).items()
        if any(s is not None for s in sizes) and UserType(user_type) not in PAID_TYPES
    ]
    assert not wrong, f"add-ons held by Basic users: {wrong}"


def assert_lines_hold(run: Run, outcomes: Collection[str] = HOLDS) -> None:
    """(a) Every line with one of `outcomes` is so in the account after the run.

    Assign lines: the user has that type, or that add-on at the line's (resolved) size. Remove
    lines: the user no longer holds what the line named (no size named: nothing of that add-on).
    """
    held = holdings(run.after)
    asked = {int(r["request"]): r for r in records(run.requests)}
    for line in records(run.results):
        if line["outcome"] not in outcomes:
            continue
        # a file line as the file asked it; added lines (downgrade, sync) as planned
        request = asked.get(int(line["request"]), line)
        action, email = str(request["action"]), str(request["email"]).strip().lower()
        user_type, *sizes = held[email]
        where = f"{line['license']} ({line['outcome']}) for {email}: holds {held[email]}"
        if line["kind"] == Kind.BASE.value:
            named = str(request["user_type"])
            if line["outcome"] == Outcome.APPLIED.value:
                assert user_type == line["user_type"], where  # the type the line changed to
            elif action == Action.REMOVE.value:
                # "remove Licensed" leaves a user who is not Licensed alone; so "remove Basic"
                assert user_type != named or named == UserType.BASIC.value, where
            else:
                assert user_type == named, where
            continue
        size = sizes[ADDONS.index(Kind(line["kind"]))]
        if action != Action.REMOVE.value:
            assert size == line["size"], where
        elif request["size"] is None or line["outcome"] == Outcome.APPLIED.value:
            assert size is None, where
        else:
            assert size != request["size"], where


def records(table: pd.DataFrame) -> list[dict[str, Any]]:
    """A table's lines as dicts, missing values as None."""
    clean = table.astype(object).where(table.notna(), None)
    return [{str(k): v for k, v in line.items()} for line in clean.to_dict("records")]


def assert_one_line_per_request(run: Run) -> None:
    """(d) Every request of the file has exactly one result line; added lines have new ids."""
    ids = run.results["request"].astype(int).tolist()
    assert len(ids) == len(set(ids))
    n = len(run.requests)
    assert sorted(i for i in ids if i < n) == list(range(n))


def snapshot_of(data: Mapping[str, Any]) -> AccountSnapshot:
    """The sandbox data as a snapshot with every user's add-ons known."""
    users = {
        email: AccountUser(
            id=None,
            email=email,
            type=UserType(user_type),
            status="active",
            large_meeting=lm,
            webinar=web,
            zoom_events=ze,
        )
        for email, (user_type, lm, web, ze) in holdings(data).items()
    }
    count = used(data)
    seats = {k: Seats(n, count.get(k, 0)) for k, n in purchased(data).items()}
    return AccountSnapshot("stateful", "business", True, users, seats)


def assert_account_as_predicted(run: Run, operations: Iterable[Operation]) -> None:
    """(f) The account after the run equals the planner's prediction for these operations."""
    predicted = apply_to_snapshot(snapshot_of(run.applied_to), operations)
    expected = {
        e: (str(u.type), u.large_meeting, u.webinar, u.zoom_events)
        for e, u in predicted.users.items()
    }
    assert holdings(run.after) == expected
    assert {k: s.used for k, s in predicted.seats.items()} == {
        k: used(run.after).get(k, 0) for k in purchased(run.after)
    }


# ---------------------------------------------------------------------------------------------
# Property: one random file applied to one random account


_examples = itertools.count()


@st.composite
def cases(draw: st.DrawFn) -> tuple[dict[str, Any], bytes, Options]:
    """A random account, a random file about its users and random run options."""
    data = draw(accounts())
    emails = [u["email"] for u in data["users"]]
    _, content = draw(license_files(emails))
    return data, content, draw(options)


def check_one_apply(data: dict[str, Any], content: bytes, opts: Options, root: Path) -> None:
    """Apply the file, then check properties (a) to (f)."""
    journal = root / f"journal-{next(_examples)}.sqlite"
    run = apply_file(data, content, journal, opts)
    assert_all_applied(run)
    assert_lines_hold(run)
    assert_seats_not_overspent(run.after)
    assert_addons_only_for_paid(run.after)
    assert_one_line_per_request(run)
    assert run.replanned == ()
    assert_account_as_predicted(run, run.plan.operations)


def assert_all_applied(run: Run) -> None:
    """Over a perfect network, Zoom (the sandbox) accepts every operation the planner planned."""
    planned = run.plan.results["outcome"] == Outcome.PLANNED.value
    refused = run.results[planned & (run.results["outcome"] != Outcome.APPLIED.value)]
    assert refused.empty, refused[["row", "email", "license", "outcome", "code", "message"]]


# The fast suite's run of each property (the edit-test loop); the slow suite (.ci/run) runs the
# same properties far longer: LONG (300 examples) and the 30 x 20-step state machine.
FAST = settings(
    max_examples=15,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture],
)
LONG = settings(FAST, max_examples=300)


# A size change whose old seat another user's grant needs (the update is split: the old seat is
# freed first), an upgrade, and a grant past the free seats: random files reach this rarely.
SEAT_SWAP = (
    account(
        [
            {"email": "u0@example.com", "type": "Licensed", "webinar": 500},
            {"email": "u1@example.com", "type": "Licensed"},
            {"email": "u2@example.com", "type": "Basic"},
        ],
        hosts=3,
        plans={"webinar": {"500": 1, "1000": 1}},
        limits=FAST_LIMITS,
        account_id="stateful",
    ),
    b"email,license\r\nu1@example.com,Webinar 500\r\nu0@example.com,Webinar 1000\r\n"
    b"u2@example.com,Licensed\r\nu2@example.com,Webinar 1000\r\n",
    Options(),
)


@FAST
@given(case=cases())
@example(case=SEAT_SWAP)
def test_apply_leaves_what_the_file_asked(
    case: tuple[dict[str, Any], bytes, Options], tmp_path: Path
) -> None:
    """After apply every kept line holds, no seat is overspent, add-ons are on paid users only."""
    check_one_apply(*case, tmp_path)


@pytest.mark.slow
@LONG
@given(case=cases())
def test_apply_leaves_what_the_file_asked_long(
    case: tuple[dict[str, Any], bytes, Options], tmp_path: Path
) -> None:
    """The same properties over many more random accounts and files."""
    check_one_apply(*case, tmp_path)


@dataclass(frozen=True)
class PortalChange:
    """One change an admin makes in the portal: a PATCH of a user or of their settings."""

    email: str
    path: str  # "" (the user: type) or "/settings" (add-ons)
    body: dict[str, Any]

    def send(self, sandbox: Sandbox) -> None:
        """Send it to the sandbox; a refusal (no seat, not paid, not owned) changes nothing."""
        before = holdings(sandbox.to_dict())
        with httpx.Client(transport=sandbox.transport(), base_url=API_URL) as http:
            http.headers["Authorization"] = f"Bearer {get_token(http)}"
            answer = http.patch(f"/users/{self.email}{self.path}", json=self.body)
        assert answer.status_code in (204, 400), answer.text
        if answer.status_code == 400:
            assert holdings(sandbox.to_dict()) == before


@st.composite
def portal_changes(draw: st.DrawFn, emails: list[str]) -> PortalChange:
    """A random portal change of one of these users: a new type, or an add-on given,
    resized or removed."""
    email = draw(st.sampled_from(emails))
    if draw(st.booleans()):
        user_type = draw(st.sampled_from(list(UserType)))
        return PortalChange(email, "", {"type": USER_TYPE_CODES[user_type]})
    kind = draw(st.sampled_from(ADDONS))
    size = draw(st.sampled_from((None, *POOL_SIZES[kind])))
    feature: dict[str, Any] = {kind.value: size is not None}
    if size is not None:
        feature[f"{kind.value}_capacity"] = size
    return PortalChange(email, "/settings", {"feature": feature})


# ---------------------------------------------------------------------------------------------
# State machine: one account through many runs, faults and portal changes


class AccountMachine(RuleBasedStateMachine):
    """An account applied to again and again, sometimes over a faulty network."""

    root: Path = Path()

    def __init__(self) -> None:
        super().__init__()
        self.data: dict[str, Any] = {}
        self.journal = self.root / f"machine-{next(_examples)}.sqlite"
        self.last: Run | None = None
        self.last_file = b""
        self.last_opts = Options()

    @initialize(data=accounts(min_users=5, max_users=20))
    def open_account(self, data: dict[str, Any]) -> None:
        """Start from a random consistent account."""
        self.data = data

    def emails(self) -> list[str]:
        return [u["email"] for u in self.data["users"]]

    @rule(draw=st.data(), opts=options)
    def apply_a_file(self, draw: st.DataObject, opts: Options) -> None:
        """Apply a random file: every planned line ends applied, as the planner predicted."""
        _, content = draw.draw(license_files(self.emails()))
        before = self.data
        run = apply_file(before, content, self.journal, opts)
        assert_all_applied(run)
        assert_one_line_per_request(run)
        assert_lines_hold(run)
        assert run.replanned == ()
        assert_account_as_predicted(run, run.plan.operations)
        self.data, self.last, self.last_file, self.last_opts = run.after, run, content, opts

    @rule(draw=st.data(), opts=options, seed=st.integers(0, 2**32 - 1))
    def apply_a_file_over_faults(self, draw: st.DataObject, opts: Options, seed: int) -> None:
        """Apply a random file over a network that errs and drops: the account is what the
        operations that the journal says were applied make of it."""
        _, content = draw.draw(license_files(self.emails()))
        before = self.data
        faults = Faults(error_rate=0.1, drop_rate=0.02, seed=seed)
        run = apply_file(before, content, self.journal, opts, faults=faults)
        assert_one_line_per_request(run)
        done = [op for op in run.plan.operations if run.op_states[op.op_id] == "applied"]
        assert_account_as_predicted(run, done)
        self.data, self.last, self.last_file, self.last_opts = run.after, run, content, opts

    @rule()
    def apply_the_last_file_again(self) -> None:
        """Re-running the last file finishes what failed and leaves every kept line holding."""
        if self.last is None:
            return
        run = apply_file(self.data, self.last_file, self.journal, self.last_opts)
        assert_all_applied(run)
        assert_lines_hold(run)
        assert run.replanned == ()
        self.data, self.last = run.after, run

    @rule(change=st.data())
    def portal_changes_a_user(self, change: st.DataObject) -> None:
        """Someone changes a user's type or add-on in the portal (Zoom refuses what it must)."""
        sandbox = Sandbox.from_dict(self.data)
        change.draw(portal_changes(self.emails())).send(sandbox)
        self.data = sandbox.to_dict()
        self.last = None  # the portal may undo what the last run did

    @rule(draw=st.data(), opts=options)
    def apply_while_the_portal_changes(self, draw: st.DataObject, opts: Options) -> None:
        """A portal change between our read and our apply: what Zoom refuses fails, the rest
        applies, and the account is what the applied operations make of the changed one."""
        _, content = draw.draw(license_files(self.emails()))
        text = content.decode("utf-8").lower()
        named = [e for e in self.emails() if e in text]  # mostly a user the file is about
        change = draw.draw(portal_changes(named if draw.draw(st.booleans()) else self.emails()))
        run = apply_file(self.data, content, self.journal, opts, meanwhile=change)
        assert_one_line_per_request(run)
        done = [op for op in run.plan.operations if run.op_states[op.op_id] == "applied"]
        assert_account_as_predicted(run, done)
        self.data, self.last, self.last_file, self.last_opts = run.after, run, content, opts

    @invariant()
    def seats_are_not_overspent(self) -> None:
        """(b) holders <= purchased for every license and size."""
        if self.data:
            assert_seats_not_overspent(self.data)

    @invariant()
    def addon_holders_are_paid(self) -> None:
        """(c) every add-on holder is Licensed or On-prem."""
        if self.data:
            assert_addons_only_for_paid(self.data)

    @invariant()
    def applied_lines_hold(self) -> None:
        """(a) the lines of the last apply that ended applied hold in the account."""
        if self.last is not None:
            assert_lines_hold(self.last, outcomes=[Outcome.APPLIED.value])


def machine_test(root: Path, config: settings) -> None:
    """Run the account state machine with its files under `root`."""
    machine = type("Machine", (AccountMachine,), {"root": root})
    run_state_machine_as_test(machine, settings=config)


def test_account_through_many_runs(tmp_path: Path) -> None:
    """Runs, faulty runs and portal changes never overspend seats or strand add-ons."""
    machine_test(tmp_path, settings(FAST, max_examples=6, stateful_step_count=8))


@pytest.mark.slow
def test_account_through_many_runs_long(tmp_path: Path) -> None:
    """The same state machine over more and longer sequences (30 x 20 steps: about 12x the
    fast test's steps, within the CI's time; raise max_examples for a soak run)."""
    machine_test(tmp_path, settings(FAST, max_examples=30, stateful_step_count=20))
