"""`atm assets list`: the licenses and devices of one Smart Account."""

from typing import Annotated, Optional

import typer

from atm.commands._context import app_context
from atm.commands._errors import AtmTyper
from atm.commands._output import JSON_HELP, WIDE_HELP, emit_json_list, message

app = AtmTyper(help="Licenses and devices of a Smart Account.", no_args_is_help=True)
TABLE_LIMIT = 1000


@app.command("list")
def list_(
    ctx: typer.Context,
    account: Annotated[str, typer.Option("--account", metavar="SA", help="Domain (or exact name) of the SA.",
                                         show_default=False)],
    va: Annotated[Optional[str], typer.Option("--va", metavar="VA", help="Only this virtual account.")] = None,
    licenses: Annotated[Optional[bool], typer.Option("--licenses/--devices",
                                                     help="Only license lines, or only devices.",
                                                     show_default=False)] = None,
    sales_order: Annotated[Optional[str], typer.Option("--sales-order", metavar="ORDER", help="License or device sales order.")] = None,
    web_order: Annotated[Optional[str], typer.Option("--web-order", metavar="ORDER", help="License web order number.")] = None,
    subscription: Annotated[Optional[str], typer.Option("--subscription", metavar="ID", help="License subscription id.")] = None,
    pak: Annotated[Optional[str], typer.Option("--pak", metavar="PAK", help="Classic license PAK.")] = None,
    serial: Annotated[Optional[str], typer.Option("--serial", metavar="SERIAL", help="Device serial number.")] = None,
    pid: Annotated[Optional[str], typer.Option("--pid", metavar="PID", help="Product id (device, or license major line).")] = None,
    host_id: Annotated[Optional[str], typer.Option("--host-id", metavar="HOST_ID", help="Device host id.")] = None,
    uuid: Annotated[Optional[str], typer.Option("--uuid", metavar="UUID", help="Device UUID.")] = None,
    search: Annotated[Optional[str], typer.Option("--search", metavar="TEXT", help="Match part of any text field.")] = None,
    lines: Annotated[bool, typer.Option("--lines", help="Show the minor lines of each license.")] = False,
    transferable: Annotated[bool, typer.Option(
        "--transferable", help="Hide assets that R5 stops from moving; stderr says how many, and why.")] = False,
    limit: Annotated[Optional[int], typer.Option("--limit", metavar="N", min=0, max=10**9,
                                                 help=f"Show at most N (0: all; default {TABLE_LIMIT}, "
                                                      "all with --json).")] = None,
    wide: Annotated[bool, typer.Option("--wide", help=WIDE_HELP)] = False,
    json_out: Annotated[bool, typer.Option("--json", help=JSON_HELP)] = False,
) -> None:
    """List the assets of a Smart Account (licenses and devices).

    Filters match exactly; --search matches any part of any text field. In a pipe: tab-separated lines with
    a header and a kind column, one asset a line.

    Example:

    \b
      export ATM_USER=taro.yamada@acme.co.jp
      atm assets list --account acme.co.jp --sales-order 12345678 --lines
      atm assets list --account acme.co.jp --devices --transferable
      atm assets list --account acme.co.jp | grep -w reserved | cut -f2
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
        limit=(limit + 1 if limit and not json_out else limit) or None,  # one more: are there more?
    )
    app_ctx = app_context(ctx)
    hidden: dict = {}
    rows = list_assets(app_ctx.unit_of_work(), app_ctx.user_id, query, hidden=hidden if transferable else None)
    if json_out:
        emit_json_list(asset_to_dict(row.asset) for row in rows)
        partial = bool(limit)
    else:
        rows = list(rows)
        partial = bool(limit) and len(rows) > limit
        _render(rows, limit=limit, lines=lines, transferable=transferable, wide=wide)
    if transferable:
        _say_hidden(hidden, partial)


def _say_hidden(hidden: dict, partial: bool) -> None:
    """--transferable says what it left out, by R5 reason, in one line on stderr."""
    if hidden:
        parts = [f"{n:,} {reason.label}" for reason, n in sorted(hidden.items(), key=lambda kv: (-kv[1], kv[0]))]
        among = " among those looked at before the limit" if partial else ""
        message(f"Hidden{among}: {', '.join(parts)} (R5; without --transferable they are listed with the "
                "reason).")


LICENSE_FLAGS = (("EA-bound", "enterprise_agreement"), ("reserved", "reserved"), ("pending upgrade", "pending_upgrade"))
DEVICE_FLAGS = (("CSLU", "cslu"), ("reserved", "reserved"))
TSV_HEADER = ("kind", "id", "virtual_account", "pid", "quantity", "in_use", "license_type", "sales_order",
              "serial_number", "pnp_status", "flags", "not_transferable")


def _render(rows, *, limit: int, lines: bool, transferable: bool, wide: bool) -> None:
    from atm.commands._output import stdout_is_terminal

    more = bool(limit) and len(rows) > limit
    rows = rows[:limit] if limit else rows
    if not rows:
        message("No assets match.")
        return
    if stdout_is_terminal():
        _tables(rows, lines=lines, transferable=transferable, wide=wide)
    else:
        _tsv(rows, lines=lines)
    if more:
        message(f"Showing the first {limit:,}; use --limit N (0 for all) or --json for more.")
    elif not transferable and any(r.ineligible for r in rows):
        message("'atm request' names the full reason for each asset it refuses; --json has every field.")


def _tsv(rows, *, lines: bool) -> None:
    from atm.commands._output import emit_tsv

    def record(row):
        a = row.asset
        if a.kind == "license":
            out = ["license", a.id, a.virtual_account, a.pid, a.quantity, a.in_use, a.license_type or "",
                   a.sales_order or "", "", "", _flags(a, LICENSE_FLAGS), _why(row.ineligible)]
            if lines:
                out.append(";".join(f"{m.line}:{m.pid}:{m.quantity}" for m in a.minor_lines))
            return out
        out = ["device", a.id, a.virtual_account, a.pid, "", "", a.license_type or "", a.sales_order or "",
               a.serial_number, a.pnp_status or "", _flags(a, DEVICE_FLAGS), _why(row.ineligible)]
        return out + [""] if lines else out

    emit_tsv(TSV_HEADER + (("minor_lines",) if lines else ()), map(record, rows))


def _tables(rows, *, lines: bool, transferable: bool, wide: bool) -> None:
    from atm.commands._output import WHOLE, WORDS, Col, print_table, stdout_console

    licenses = [r for r in rows if r.asset.kind == "license"]
    devices = [r for r in rows if r.asset.kind == "device"]
    why = [] if transferable else [Col("Not transferable", WHOLE, style="yellow")]
    if licenses:
        table = []
        for row in licenses:
            a = row.asset
            table.append([a.id, a.virtual_account, a.pid, str(a.quantity), str(a.in_use), a.license_type or "",
                          _flags(a, LICENSE_FLAGS)] + ([] if transferable else [_why(row.ineligible)]))
            if lines:
                for m in a.minor_lines:
                    table.append([f"  └ {m.line}", "", m.pid, str(m.quantity), "", "", ""]
                                 + ([] if transferable else [""]))
        print_table([Col("License"), Col("VA"), Col("PID"), Col("Qty", right=True),
                     Col("In use", right=True, drop=2), Col("Type", drop=3), Col("Flags", WORDS, drop=1)] + why,
                    table, wide=wide, title="Licenses")
    if devices:
        if licenses:
            stdout_console().print()
        table = [[a.serial_number, a.virtual_account, a.pid, a.license_type or "", a.pnp_status or "",
                  _flags(a, DEVICE_FLAGS)] + ([] if transferable else [_why(row.ineligible)])
                 for row in devices for a in (row.asset,)]
        print_table([Col("Serial"), Col("VA"), Col("PID"), Col("Type", drop=3), Col("PnP", WORDS, drop=2),
                     Col("Flags", WORDS, drop=1)] + why, table, wide=wide, title="Devices")


def _flags(asset, flags) -> str:
    return ", ".join(name for name, attr in flags if getattr(asset, attr))


def _why(ineligible) -> str:
    if ineligible is None:
        return ""
    return f"in {ineligible.transaction}" if ineligible.transaction else ineligible.reason.label
