"""`batch show [EMAIL...]`: the account as it is, the real one or the sandbox.

Without emails: plan, seats purchased / used / free per license and size, users by type and
status (no add-on is read: one listing of the users and one of the plan's usage). With emails,
also what each of those users holds (their add-ons read, one request each). An email that is not
a user of the account is listed as such and makes the exit code 1.
"""

from __future__ import annotations

import sys
from collections import Counter
from pathlib import Path

import click

from batch.cli.common import (
    announce,
    build_settings,
    handle_errors,
    make_output,
    output_options,
    reading_options,
)
from batch.cli.sandbox import Table, print_tables
from batch.model import AccountSnapshot
from batch.vocabulary import ADDON_NAMES, ADDONS, EXIT_OK, EXIT_ROWS, UserType

STATUSES = ("active", "pending", "inactive")
NOT_SHOWN = "(not shown)"  # Zoom does not show a pending user's settings


def account_tables(state: AccountSnapshot, emails: tuple[str, ...]) -> tuple[list[Table], int]:
    """The tables to print, and how many of `emails` are not users of the account."""
    from batch.report.labels import seat_label, seat_order

    seats: list[tuple[str, ...]] = [
        (seat_label(key), str(s.purchased), str(s.used), str(s.purchased - s.used))
        for key, s in sorted(state.seats.items(), key=lambda item: seat_order(item[0]))
    ]
    counts: Counter[tuple[str, str]] = Counter(
        (str(u.type) if u.type else "other", str(u.status)) for u in state.users.values()
    )
    types = [str(t) for t in UserType] + (["other"] if any(k[0] == "other" for k in counts) else [])
    by_type: list[tuple[str, ...]] = [(t, *(str(counts[(t, s)]) for s in STATUSES)) for t in types]
    tables: list[Table] = [
        ("Seats", ("License", "Purchased", "Used", "Free"), seats),
        ("Users by type and status", ("Type", *STATUSES), by_type),
    ]
    missing = 0
    if emails:
        rows: list[tuple[str, ...]] = []
        for email in emails:
            user = state.users.get(email.strip().lower())
            if user is None:
                missing += 1
                rows.append((email, "not a user of this account", "", "", "", "", "", "", ""))
                continue
            held = [
                NOT_SHOWN if not user.addons_known else str(user.addon(k) or "") for k in ADDONS
            ]
            if user.type not in (UserType.LICENSED, UserType.ON_PREM):
                held = ["" for _ in ADDONS]  # only Licensed and On-prem users hold add-ons
            rows.append(
                (
                    user.email,
                    f"{user.first_name} {user.last_name}".strip(),
                    user.dept,
                    user.cost_center,
                    str(user.type) if user.type else "other",
                    user.status,
                    *held,
                )
            )
        headers = ("Email", "Name", "Department", "Cost center", "Type", "Status")
        tables.append(("Users", (*headers, *(ADDON_NAMES[k] for k in ADDONS)), rows))
    return tables, missing


@click.command("show", short_help="Show seats, users by type and status, and holdings.")
@click.argument("emails", nargs=-1)
@reading_options
@output_options
@handle_errors
def show_command(emails: tuple[str, ...], config_path: Path | None, **options: object) -> None:
    """Show the account: plan, seats per license and size, users by type and status; with
    EMAILs, what each of those users holds."""
    from batch.account import read_account_now

    settings = build_settings(config_path, **options)
    output = make_output(settings)
    announce(settings)
    wanted = {e.strip().lower() for e in emails}
    state = read_account_now(settings, output, lambda users: wanted)
    tables, missing = account_tables(state, emails)
    title = (
        f"Account {state.account_id}: {state.plan} plan, On-prem user type "
        f"{'available' if state.on_prem_available else 'not available'}"
    )
    print_tables(title, tables)
    sys.exit(EXIT_ROWS if missing else EXIT_OK)
