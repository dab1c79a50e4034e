"""`atm notifications`: your outbox of transfer news (R14)."""

from typing import Annotated

import typer

from atm.commands._context import app_context
from atm.commands._output import (
    JSON_HELP, WIDE_HELP, WORDS, Col, emit_json, emit_tsv, message, print_table, stdout_is_terminal,
)


def notifications(
    ctx: typer.Context,
    unread: Annotated[bool, typer.Option("--unread", help="Only those not yet read.")] = False,
    mark_read: Annotated[bool, typer.Option("--mark-read", help="Deliver them: mark what is shown as read.")] = False,
    wide: Annotated[bool, typer.Option("--wide", help=WIDE_HELP)] = False,
    json_out: Annotated[bool, typer.Option("--json", help=JSON_HELP)] = False,
) -> None:
    """List your notifications (completions, failures, consents awaited...).

    Unread ones are marked •. In a pipe: tab-separated lines with a header, one notification a line.

    Example:

    \b
      atm --as taro.yamada@acme.co.jp notifications --unread --mark-read
      atm --as partner@netpartner.co.jp notifications | grep consent_requested
    """
    from atm.services.views import notifications as run

    app = app_context(ctx)
    found = run(app.unit_of_work(), app.user_id, unread_only=unread, mark_read=mark_read)
    if json_out:
        from atm.domain.times import iso

        emit_json([{"id": n.id, "transaction_id": n.transaction_id, "kind": n.kind, "message": n.message,
                    "created_at": iso(n.created_at), "read": n.read} for n in found])
        return
    if not found:
        message("No notifications.")
        return
    rows = [(n.id, n.transaction_id, n.kind, n.created_at.strftime("%Y-%m-%d %H:%M"), "true" if n.read else "false",
             n.message) for n in found]
    if not stdout_is_terminal():
        emit_tsv(("id", "transaction_id", "kind", "created_at", "read", "message"),
                 ((r[0], r[1], r[2], iso_at(n), r[4], r[5]) for r, n in zip(rows, found)))
        return
    print_table([Col(""), Col("When (UTC)"), Col("Kind", drop=1), Col("Message", WORDS)],
                [("" if n.read else "•", r[3], r[2], r[5]) for r, n in zip(rows, found)], wide=wide,
                styles=[("bold", None, None, None if n.read else "bold") for n in found])


def iso_at(n) -> str:
    from atm.domain.times import iso

    return iso(n.created_at)
