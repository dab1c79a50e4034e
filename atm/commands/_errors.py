"""The one place where named errors become exit codes and one-line messages (docs/exit-codes.md), and where
every command gets the same help conventions and the options that work anywhere on the line."""

from __future__ import annotations

import functools
import inspect
import sys
import typing
from typing import Annotated, Callable, Optional, TypeVar

import typer
from typer.core import TyperArgument, TyperCommand, TyperGroup, TyperOption

from atm.domain.errors import (
    AtmError, InvalidInput, NotFound, PermissionDenied, PromptCancelled, RuleViolation, StorageError,
)

EXIT_CANCELLED = 130
EXIT_CODES: tuple[tuple[type[AtmError], int], ...] = (
    (PromptCancelled, EXIT_CANCELLED),
    (RuleViolation, 1),
    (InvalidInput, 2),
    (NotFound, 3),
    (PermissionDenied, 4),
    (StorageError, 5),
)

F = TypeVar("F", bound=Callable)


def exit_code(error: AtmError) -> int:
    for cls, code in EXIT_CODES:
        if isinstance(error, cls):
            return code
    return 1


def report(error: AtmError) -> None:
    """First line says what is wrong; the lines after it may list every offending item.

    Messages quote what the user typed or what is stored (an id, a file name, a --db path), so every line is
    shown through `visible`: an escape sequence in it is printed escaped, never acted on by the terminal.
    """
    from atm.commands._output import visible

    lines = [f"Error: {visible(error.message)}"] + [f"  {visible(d)}" for d in error.details]
    sys.stderr.write("\n".join(lines) + "\n")


def guarded(fn: F) -> F:
    """Run a command; a named error is reported and becomes its exit code, never a traceback."""

    @functools.wraps(fn)
    def run(*args, **kwargs):
        try:
            from atm.commands._inputs import refuse_control_characters

            refuse_control_characters(kwargs.get("ctx"), kwargs)
            return fn(*args, **kwargs)
        except AtmError as error:
            _discard_new_databases(kwargs.get("ctx"))
            report(error)
            raise typer.Exit(exit_code(error)) from None
        except KeyboardInterrupt:
            # Only the commands that change something know what an interrupt left behind; they say it
            # themselves. Here nothing was being changed, so nothing is cancelled: it just stopped.
            sys.stderr.write("\nInterrupted.\n")
            raise typer.Exit(EXIT_CANCELLED) from None
        except BrokenPipeError:
            quiet_broken_pipe()
            raise typer.Exit(0) from None

    return run  # type: ignore[return-value]


def _discard_new_databases(ctx) -> None:
    root = ctx.find_root() if ctx is not None else None
    discard = getattr(getattr(root, "obj", None), "discard_new_databases", None)
    if discard is not None:
        discard()


def quiet_broken_pipe() -> None:
    """The reader went away (`| head`): stop writing, and let the interpreter's last flush go nowhere."""
    import os

    try:
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
    except (OSError, ValueError):
        pass


# --- options that work after the command name too -------------------------------------------------

GLOBAL_PANEL = "Global options (also before the command)"


def _set_db(ctx: typer.Context, value: Optional[str]) -> None:
    if value is not None:
        from atm.commands._context import app_context

        app_context(ctx).db_option = value


def _set_user(ctx: typer.Context, value: Optional[str]) -> None:
    if value is not None:
        from atm.commands._context import app_context

        app_context(ctx).user_option = value


def _set_no_color(value: bool) -> None:
    if value:
        from atm.commands import _output

        _output.no_color = True


SHARED_OPTIONS = {
    "_global_db": (Annotated[Optional[str], typer.Option(
        "--db", metavar="PATH_OR_URL", callback=_set_db, expose_value=False, rich_help_panel=GLOBAL_PANEL,
        help="Database file or postgresql:// URL (env ATM_DB).", show_default=False)], None),
    "_global_as": (Annotated[Optional[str], typer.Option(
        "--as", metavar="USER", callback=_set_user, expose_value=False, rich_help_panel=GLOBAL_PANEL,
        help="Act as this user (env ATM_USER).", show_default=False)], None),
    "_global_no_color": (Annotated[bool, typer.Option(
        "--no-color", callback=_set_no_color, expose_value=False, rich_help_panel=GLOBAL_PANEL,
        help="No colours (env NO_COLOR).", show_default=False)], False),
}


def with_shared_options(fn: Callable) -> Callable:
    """`fn` with --db, --as and --no-color added, so `atm accounts list --as U` works like `atm --as U ...`."""
    hints = typing.get_type_hints(fn, include_extras=True)
    sig = inspect.signature(fn)
    params = [p.replace(annotation=hints.get(p.name, p.annotation)) for p in sig.parameters.values()]
    params += [inspect.Parameter(name, inspect.Parameter.KEYWORD_ONLY, annotation=annotation, default=default)
               for name, (annotation, default) in SHARED_OPTIONS.items()]

    @functools.wraps(fn)
    def run(*args, **kwargs):
        for name in SHARED_OPTIONS:
            kwargs.pop(name, None)
        return fn(*args, **kwargs)

    run.__signature__ = sig.replace(parameters=params, return_annotation=inspect.Signature.empty)
    run.__annotations__ = {p.name: p.annotation for p in params}
    return run


# --- help as people write it -----------------------------------------------------------------------

_TYPE_METAVARS = {"str": "TEXT", "int": "N", "float": "NUMBER", "path": "FILE", "Path": "FILE"}


def _plain_help(params) -> None:
    """Usage `atm import FILE` and `atm status [TXN]`, flags without `<bool>`, values without `<str>`.

    Typer's own help writes `{file}`, `[[TXN]]` and `--json <bool>`; each parameter is adjusted once.
    """
    from atm.commands._params import install

    for param in params:
        if getattr(param, "_atm_plain", False):
            continue
        param._atm_plain = True
        install(param)
        if isinstance(param, TyperArgument):
            name = (param.metavar or param.name or "").strip("[]").upper()
            param.metavar = name
            shown = name if param.required else f"[{name}]"
            param._usage_display_name = lambda shown=shown, many=param.nargs != 1: shown + ("..." if many else "")
            param.display_type_rich = lambda ctx=None: None
        elif isinstance(param, TyperOption):
            if param.is_flag or param.count:
                param.display_type_rich = lambda ctx=None: None
            elif param.metavar is None:
                label = param.display_type(None).strip("<>") if hasattr(param, "display_type") else "TEXT"
                param.metavar = _TYPE_METAVARS.get(label.split()[0], label.upper())
            param._get_number_range_help_str = lambda: None


class AtmCommand(TyperCommand):
    def get_params(self, ctx):
        params = super().get_params(ctx)
        _plain_help(params)
        return params


class AtmGroup(TyperGroup):
    def get_params(self, ctx):
        params = super().get_params(ctx)
        _plain_help(params)
        return params


class AtmTyper(typer.Typer):
    """A Typer whose every command goes through `guarded`, takes the shared options and reads plainly."""

    def __init__(self, *args, **kwargs):
        kwargs.setdefault("cls", AtmGroup)
        kwargs.setdefault("rich_markup_mode", None)
        super().__init__(*args, **kwargs)

    def command(self, *args, **kwargs):
        kwargs.setdefault("cls", AtmCommand)
        register = super().command(*args, **kwargs)

        def decorator(fn):
            register(with_shared_options(guarded(fn)))
            return fn

        return decorator
