"""`atm notifications`: your outbox of transfer news (R14)."""

from __future__ import annotations

from typing import Annotated

import typer

from atm.commands._context import app_context
from atm.commands._output import JSON_HELP, emit_json, escape, message, stdout_console


def notifications(
    ctx: typer.Context,
    unread: Annotated[bool, typer.Option("--unread", help="Only those not yet read.")] = False,
    mark_read: Annotated[bool, typer.Option("--mark-read", help="Deliver them: mark what is shown as read.")] = False,
    json_out: Annotated[bool, typer.Option("--json", help=JSON_HELP)] = False,
) -> None:
    """List your notifications: completions, failures, rejections, declines, consents awaited.

    Example: atm --as taro.yamada@acme.co.jp notifications --unread --mark-read
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
    console = stdout_console()
    for n in found:
        mark = " " if n.read else "[bold]•[/bold]"
        console.print(f"{mark} {n.created_at:%Y-%m-%d %H:%M}  {escape(n.kind):<19} {escape(n.message)}")
