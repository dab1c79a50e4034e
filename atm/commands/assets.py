"""`atm assets list`: the licenses and devices of one Smart Account."""

from __future__ import annotations

from typing import Annotated, Optional

import typer

from atm.commands._context import app_context
from atm.commands._errors import AtmTyper
from atm.commands._output import JSON_HELP, emit_json_list, escape, message, stdout_console

app = AtmTyper(help="Licenses and devices of a Smart Account.", no_args_is_help=True)
TABLE_LIMIT = 1000


@app.command("list")
def list_(
    ctx: typer.Context,
    account: Annotated[str, typer.Option("--account", metavar="SA", help="Domain (or exact name) of the SA.",
                                         show_default=False)],
    va: Annotated[Optional[str], typer.Option("--va", help="Only this virtual account.")] = None,
    licenses: Annotated[Optional[bool], typer.Option("--licenses/--devices",
                                                     help="Only license lines, or only devices.",
                                                     show_default=False)] = None,
    sales_order: Annotated[Optional[str], typer.Option("--sales-order", help="License or device sales order.")] = None,
    web_order: Annotated[Optional[str], typer.Option("--web-order", help="License web order number.")] = None,
    subscription: Annotated[Optional[str], typer.Option("--subscription", help="License subscription id.")] = None,
    pak: Annotated[Optional[str], typer.Option("--pak", help="Classic license PAK.")] = None,
    serial: Annotated[Optional[str], typer.Option("--serial", help="Device serial number.")] = None,
    pid: Annotated[Optional[str], typer.Option("--pid", help="Product id (device, or license major line).")] = None,
    host_id: Annotated[Optional[str], typer.Option("--host-id", help="Device host id.")] = None,
    uuid: Annotated[Optional[str], typer.Option("--uuid", help="Device UUID.")] = None,
    search: Annotated[Optional[str], typer.Option("--search", help="Match part of any text field.")] = None,
    lines: Annotated[bool, typer.Option("--lines", help="Show the minor lines of each license.")] = False,
    transferable: Annotated[bool, typer.Option("--transferable", help="Hide assets that R5 stops from moving.")] = False,
    limit: Annotated[Optional[int], typer.Option("--limit", min=0, max=10**9,
                                                 help=f"Show at most N (0: all; tables default to {TABLE_LIMIT}).")] = None,
    json_out: Annotated[bool, typer.Option("--json", help=JSON_HELP)] = False,
) -> None:
    """List the assets of a Smart Account; filters match exactly, --search matches any part.

    Example: atm assets list --account acme.co.jp --devices --transferable
    """
    from atm.domain.model import asset_to_dict
    from atm.services.assets import AssetQuery, list_assets

    filters = {
        "sales_order": sales_order, "web_order": web_order, "subscription": subscription, "pak": pak,
        "serial": serial, "pid": pid, "host_id": host_id, "uuid": uuid,
    }
    if limit is None:
        limit = 0 if json_out else TABLE_LIMIT
    query = AssetQuery(
        account=account,
        virtual_account=va,
        kind=None if licenses is None else ("license" if licenses else "device"),
        filters={k: v for k, v in filters.items() if v is not None},
        search=search,
        transferable=transferable,
        limit=(limit + 1 if not json_out else limit) or None,
    )
    app_ctx = app_context(ctx)
    rows = list_assets(app_ctx.unit_of_work(), app_ctx.user_id, query)
    if json_out:
        emit_json_list(asset_to_dict(row.asset) for row in rows)
        return
    _render_tables(list(rows), limit=limit, lines=lines, transferable=transferable)


def _render_tables(rows, *, limit: int, lines: bool, transferable: bool) -> None:
    from rich import box
    from rich.table import Table

    more = bool(limit) and len(rows) > limit
    rows = rows[:limit] if limit else rows
    if not rows:
        message("No assets match.")
        return
    lic = Table(title="Licenses", box=box.SIMPLE_HEAD, pad_edge=False)
    dev = Table(title="Devices", box=box.SIMPLE_HEAD, pad_edge=False)
    for name in ("License", "VA", "PID", "Qty", "In use", "Type", "Flags"):
        lic.add_column(name, no_wrap=name in ("License", "PID"), justify="right" if name in ("Qty", "In use") else "left")
    for name in ("Serial", "VA", "PID", "Type", "PnP", "Flags"):
        dev.add_column(name, no_wrap=name in ("Serial", "PID"))
    if not transferable:
        lic.add_column("Not transferable", style="yellow")
        dev.add_column("Not transferable", style="yellow")
    for row in rows:
        a = row.asset
        why = [] if transferable else [_why(row.ineligible)]
        if a.kind == "license":
            flags = (("EA", a.enterprise_agreement), ("reserved", a.reserved), ("upgrade", a.pending_upgrade))
            lic.add_row(*map(escape, (a.id, a.virtual_account, a.pid, a.quantity, a.in_use, a.license_type)),
                        _flags(flags), *why)
            if lines:
                for m in a.minor_lines:
                    lic.add_row(f"  └ {escape(m.line)}", "", escape(m.pid), str(m.quantity),
                                *[""] * (len(lic.columns) - 4))
        else:
            flags = (("CSLU", a.cslu), ("reserved", a.reserved))
            dev.add_row(*map(escape, (a.serial_number, a.virtual_account, a.pid, a.license_type, a.pnp_status)),
                        _flags(flags), *why)
    console = stdout_console()
    for table in (lic, dev):
        if table.row_count:
            console.print(table)
    if more:
        message(f"Showing the first {limit}; use --limit N (0 for all) or --json for more.")
    elif not transferable and any(r.ineligible for r in rows):
        message("Run with --json for every field; 'atm request' names the full reason for each refusal.")


def _flags(flags) -> str:
    return ", ".join(name for name, on in flags if on)


def _why(ineligible) -> str:
    if ineligible is None:
        return ""
    return escape(f"in {ineligible.transaction}" if ineligible.transaction else ineligible.reason.label)
