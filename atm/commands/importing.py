"""`atm import FILE`: load users, accounts and assets (formats in docs/import.md)."""

import sys
from pathlib import Path
from typing import Annotated, Optional

import typer

from atm.commands._context import app_context
from atm.commands._output import JSON_HELP, emit_json, message


def import_file(
    ctx: typer.Context,
    file: Annotated[Path, typer.Argument(metavar="FILE", help="A .json file, or a .csv/.xlsx asset list "
                                                              "(formats: docs/import.md); - reads standard "
                                                              "input.", show_default=False)],
    fmt: Annotated[Optional[str], typer.Option("--format", metavar="json|csv|xlsx",
                                               help="The file's format (default: by extension).")] = None,
    json_out: Annotated[bool, typer.Option("--json", help=JSON_HELP)] = False,
) -> None:
    """Import users, accounts and assets; a bad file changes nothing.

    The whole file is one database transaction. Re-importing merges: a record sets only the fields it carries
    (an absent field keeps its stored value), and an import never moves an asset (its place is kept and
    counted). Formats (JSON, CSV, XLSX): docs/import.md.

    Example:

    \b
      printf 'kind,account,serial_number,pid\\n' > more.csv
      printf 'device,acme.co.jp,FOC9999X001,C9300-24T\\n' >> more.csv
      atm import more.csv
    """
    from atm.domain.errors import InvalidInput
    from atm.services.importing import import_file as run_import

    stream = None
    if str(file) == "-":
        stream, file = sys.stdin.buffer, Path("stdin")
    elif file.is_dir():
        raise InvalidInput(f"{file} is a directory; name an import file")
    elif not file.exists():
        raise InvalidInput(f"cannot read {file}: no such file")
    uow = app_context(ctx).unit_of_work(create=True)
    if sys.stderr.isatty() and not json_out and stream is None:
        summary = _with_progress(lambda progress: run_import(uow, file, fmt=fmt, progress=progress), file)
    else:
        summary = run_import(uow, file, fmt=fmt, stream=stream)
    if json_out:
        emit_json(summary.as_dict())
        return
    message(
        f"Imported {summary.users} users, {summary.accounts} Smart Accounts, {summary.licenses} license lines "
        f"and {summary.devices} devices from {file.name} ({summary.created} assets new, {summary.updated} updated)."
    )
    if summary.locations_kept:
        moved = (f", {summary.locations_kept_moved} of them moved by an atm transfer since"
                 if summary.locations_kept_moved else "")
        message(f"Kept the current place of {summary.locations_kept} asset(s) that the file places elsewhere{moved}: "
                "an import never moves an asset (transfer it with atm request).")
    if summary.recheck:
        held = sum(summary.recheck.values())
        message(f"{held} asset(s) in unfinished transactions ({', '.join(sorted(summary.recheck))}) are now stopped "
                "by a rule flag (R5: EA-bound, pending upgrade or SSM On-Prem): atm submit will refuse them; "
                "cancel and request again without them.")


def _with_progress(run, file: Path):
    from rich.progress import BarColumn, DownloadColumn, Progress, TextColumn, TimeRemainingColumn

    from atm.commands._output import stderr_console

    with Progress(TextColumn("Importing {task.description}"), BarColumn(), DownloadColumn(),
                  TimeRemainingColumn(), console=stderr_console(), transient=True) as bar:
        task = bar.add_task(file.name, total=None)

        def progress(done: int, total: int) -> None:
            bar.update(task, completed=done, total=total)

        return run(progress)
