"""`atm export`: the guide's "Download" of one transaction, or the history of transfers, as XLSX, CSV or JSON."""

import sys
from pathlib import Path
from typing import Annotated, Optional

import typer

from atm.commands._context import app_context
from atm.commands._filters import landing_filters

SUFFIXES = {".xlsx": "xlsx", ".csv": "csv", ".json": "json"}
HISTORY_NAME = "atm-transfers"
LANDING = landing_filters("With --all: ")


def export(
    ctx: typer.Context,
    txn: Annotated[Optional[str], typer.Argument(metavar="TXN", help="The transaction to export (or --all).",
                                                 show_default=False)] = None,
    all_: Annotated[bool, typer.Option("--all", help="Export the history of transfers you can see instead.")] = False,
    xlsx: Annotated[bool, typer.Option("--xlsx", help="An Excel workbook (the default; written to a file).")] = False,
    csv_out: Annotated[bool, typer.Option("--csv", help="CSV, one row per item (stdout unless -o).")] = False,
    json_out: Annotated[bool, typer.Option("--json", help="JSON, as `atm status --json` prints it (stdout unless "
                                                          "-o).")] = False,
    output: Annotated[Optional[Path], typer.Option(
        "--output", "-o", metavar="FILE",
        help="Write here (a folder: the default name inside it). Default for --xlsx: TXN.xlsx, or "
             f"{HISTORY_NAME}.xlsx with --all, in the current folder.")] = None,
    force: Annotated[bool, typer.Option("--force", help="Replace FILE if it exists.")] = False,
    account: LANDING["account"] = None,
    statuses: LANDING["statuses"] = None,
    since: LANDING["since"] = None,
    until: LANDING["until"] = None,
    initiator: LANDING["initiator"] = None,
) -> None:
    """Download a transaction (items, consents, form, warnings, history) or the history of transfers.

    No cell is ever a formula. A file appears only when complete, and an existing one is kept unless --force.

    Example:

    \b
      export ATM_USER=taro.yamada@acme.co.jp
      T=$(atm status --status transfer_completed | sed -n 2p | cut -f1)
      atm export "$T" --xlsx -o transfer.xlsx
      atm export --all --csv --account acme.co.jp > history.csv
    """
    from atm.domain.errors import InvalidInput
    from atm.services.views import LandingQuery

    fmt = _format(xlsx, csv_out, json_out, output)
    filters = {"--account": account, "--status": statuses, "--since": since, "--until": until,
               "--initiator": initiator}
    if all_ == (txn is not None):
        raise InvalidInput("name one transaction (atm export TXN) or export the history (atm export --all)")
    if txn is not None and any(filters.values()):
        used = ", ".join(k for k, v in filters.items() if v)
        raise InvalidInput(f"{used}: only with --all (they filter the history of transfers)")
    to_stdout = fmt != "xlsx" and (output is None or str(output) == "-")
    if fmt == "xlsx" and output is not None and str(output) == "-":
        raise InvalidInput("an Excel workbook is written to a file: name it with -o FILE")
    app = app_context(ctx)
    if all_:
        query = LandingQuery(account=account, statuses=tuple(statuses or ()), since=since, until=until,
                             initiator=initiator)
        _history(app, query, fmt, None if to_stdout else _target(output, HISTORY_NAME, fmt), force)
    else:
        _transaction(app, txn, fmt, to_stdout, output, force)


def _format(xlsx: bool, csv_out: bool, json_out: bool, output: Path | None) -> str:
    from atm.domain.errors import InvalidInput

    chosen = [name for name, on in (("xlsx", xlsx), ("csv", csv_out), ("json", json_out)) if on]
    if len(chosen) > 1:
        raise InvalidInput(f"choose one format: --{' or --'.join(chosen)}")
    if chosen:
        return chosen[0]
    if output is not None and output.suffix.lower() in SUFFIXES:
        return SUFFIXES[output.suffix.lower()]
    return "xlsx"


def _target(output: Path | None, name: str, fmt: str) -> Path:
    """-o FILE, a default name inside -o FOLDER, or the default name in the current folder."""
    default = f"{name}.{fmt}"
    if output is None:
        return Path(default)
    return output / default if output.is_dir() else output


def _transaction(app, txn: str, fmt: str, to_stdout: bool, output: Path | None, force: bool) -> None:
    from atm.commands._output import message
    from atm.io.export_writers import write_transaction
    from atm.io.staged import StagedFile, file_name
    from atm.services.exporting import transaction_export

    uow = app.unit_of_work()
    if to_stdout:
        with transaction_export(uow, app.user_id, txn, fmt=fmt) as export:
            write_transaction(export, fmt, sys.stdout, indent=2 if sys.stdout.isatty() else None)
        return
    # The file is renamed into place only once the export is on the audit trail (R15).
    with StagedFile(force=force) as staged:
        with transaction_export(uow, app.user_id, txn, fmt=fmt) as export:
            write_transaction(export, fmt, _open(staged, _target(output, file_name(export.txn.id), fmt), fmt))
    message(f"Wrote {staged.path} ({fmt}).")


def _history(app, query, fmt: str, target: Path | None, force: bool) -> None:
    from atm.commands._output import message
    from atm.io.export_writers import write_history
    from atm.io.staged import StagedFile
    from atm.services.exporting import history_export

    if target is None:
        history = history_export(app.unit_of_work(), app.user_id, query)
        write_history(history, fmt, sys.stdout, indent=2 if sys.stdout.isatty() else None)
        return
    with StagedFile(force=force) as staged:
        staged.check(target)  # refuse an existing file before reading anything
        history = history_export(app.unit_of_work(), app.user_id, query)
        write_history(history, fmt, _open(staged, target, fmt))
    message(f"Wrote {target}: {len(history.rows):,} transaction(s) ({fmt}).")


def _open(staged, path: Path, fmt: str):
    if fmt == "xlsx":
        return staged.open(path, "wb")
    # A UTF-8 mark first, so that Excel reads Japanese names in a CSV file right.
    return staged.open(path, "w", encoding="utf-8-sig" if fmt == "csv" else "utf-8", newline="")
