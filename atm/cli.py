"""The `atm` command: global options, then one module per command group.

Start-up stays light: command modules import only typer at the top; the
database, spreadsheets and prompts are imported inside the commands that
need them, so `atm --help` costs about what a bare Typer app costs. A run
that names a command imports and builds only that command (`app_for`).
"""

from typing import Annotated, Iterable, Optional

import typer

from atm import __version__
from atm.commands._context import AppContext
from atm.commands._errors import AtmTyper

# Command name -> (its module in atm.commands, the function, or the Typer app of a group), in `--help` order.
COMMANDS = {
    "init": ("init", "init"),
    "import": ("importing", "import_file"),
    "accounts": ("accounts", "app"),
    "assets": ("assets", "app"),
    "request": ("request", "request"),
    "submit": ("workflow", "submit"),
    "consent": ("workflow", "consent"),
    "screen": ("workflow", "screen"),
    "cancel": ("workflow", "cancel"),
    "status": ("status", "status"),
    "export": ("export", "export"),
    "notifications": ("notifications", "app"),
    "db": ("db", "app"),
}


def _version(value: bool) -> None:
    if value:
        typer.echo(f"atm {__version__}")
        raise typer.Exit()


def root(
    ctx: typer.Context,
    db: Annotated[Optional[str], typer.Option(
        "--db", metavar="PATH_OR_URL",
        help="Database file, or a postgresql:// URL for a team server (env ATM_DB; default: atm.db in your "
             "data directory).")] = None,
    as_user: Annotated[Optional[str], typer.Option(
        "--as", metavar="USER", help="Act as this user, an e-mail id (env ATM_USER).")] = None,
    no_color: Annotated[bool, typer.Option("--no-color", help="No colours (env NO_COLOR).")] = False,
    version: Annotated[bool, typer.Option(
        "--version", callback=_version, is_eager=True, help="Show the version and exit.")] = False,
) -> None:
    """Asset Transfer Manager: move licenses and devices between Smart Accounts.

    --db, --as and --no-color work before or after the command name.

    Example:
      atm init --sample
      atm --as taro.yamada@acme.co.jp assets list --account acme.co.jp --transferable
    """
    from atm.commands import _output

    _output.no_color = no_color
    ctx.obj = AppContext(db_option=db, user_option=as_user)


def build(names: Iterable[str]) -> AtmTyper:
    """The `atm` app with these commands (names of COMMANDS), importing only their modules."""
    built = AtmTyper(
        name="atm",
        help="Asset Transfer Manager: move licenses and devices between Smart Accounts.",
        no_args_is_help=True,
        pretty_exceptions_enable=False,
        context_settings={"help_option_names": ["-h", "--help"]},
    )
    built.callback()(root)
    for name in names:
        module, attribute = COMMANDS[name]
        # __import__ rather than importlib.import_module: Python's import-time report (-X importtime) sees it.
        target = getattr(__import__(f"atm.commands.{module}", fromlist=[attribute]), attribute)
        if isinstance(target, typer.Typer):
            built.add_typer(target, name=name)
        else:
            built.command(name)(target)
    return built


def __getattr__(name: str):
    """`atm.cli.app`, the whole app (for tests and tools), built on first use."""
    if name == "app":
        globals()["app"] = whole = build(COMMANDS)
        return whole
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


GLOBAL_VALUE_OPTIONS = ("--db", "--as")  # the root options that take a value
HELP_OPTIONS = ("-h", "--help")
COMPLETION_VARIABLE = "_ATM_COMPLETE"  # set by the shell completion script (click's _<PROG>_COMPLETE)


def named_command(args: list[str]) -> str | None:
    """The command or group the arguments name (`assets` in `atm --as U assets list`), or None: the root's
    help (`atm --help assets` too, which lists every command), the version, or nothing."""
    values = iter(args)
    for arg in values:
        if arg in GLOBAL_VALUE_OPTIONS:
            next(values, None)
        elif arg in HELP_OPTIONS:
            return None
        elif not arg.startswith("-"):
            return arg
    return None


def app_for(args: list[str]) -> typer.Typer:
    """The app for a run with these arguments: only the command they name, when they name one.

    Typer turns every registered command into a click command on each run (reading signatures, evaluating
    annotations, building about 150 parameters), and each command module costs its import: only `atm --help`
    needs them all. `atm assets list` imports and builds one command instead of twenty. An unknown name, and
    shell completion, get the whole app, so its errors and suggestions stay as they are."""
    import os

    name = named_command(args)
    if name not in COMMANDS or COMPLETION_VARIABLE in os.environ:
        return build(COMMANDS)
    return build([name])


def _usage_error_class() -> type[Exception]:
    # Typer raises click's ClickException (vendored in new Typer releases); find it without a private import.
    return next(c for c in typer.BadParameter.__mro__ if c.__name__ == "ClickException")


def main() -> None:
    """The console script: usage errors come out as one `Error:` line first (docs/exit-codes.md), exit 2."""
    import sys

    from atm.commands._errors import quiet_broken_pipe
    from atm.commands._output import visible

    try:
        code = app_for(sys.argv[1:])(standalone_mode=False)
    except _usage_error_class() as error:
        if not error.format_message():  # no arguments: the help was shown
            sys.exit(error.exit_code)
        hint = ""
        ctx = getattr(error, "ctx", None)
        if ctx is not None:
            hint = f"\nTry '{ctx.command_path} --help' for help."
        # The message may quote what was typed (an unknown command, a bad value): shown escaped.
        sys.stderr.write(f"Error: {visible(error.format_message())}{visible(hint, multiline=True)}\n")
        sys.exit(error.exit_code)
    except typer.Abort:  # Ctrl-C while the command line was being read: nothing had started
        sys.stderr.write("Interrupted.\n")
        sys.exit(130)
    except BrokenPipeError:
        quiet_broken_pipe()
        sys.exit(0)
    try:
        sys.stdout.flush()
    except BrokenPipeError:  # `atm ... | head -1`: the reader has all it wanted
        quiet_broken_pipe()
    sys.exit(code if isinstance(code, int) else 0)
