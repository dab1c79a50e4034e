"""The one place where named errors become exit codes and one-line messages (SPEC section 4)."""

from __future__ import annotations

import functools
import sys
from typing import Callable, TypeVar

import typer

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
    """First line says what is wrong; the lines after it may list every offending item."""
    lines = [f"Error: {error.message}"] + [f"  {d}" for d in error.details]
    text = "\n".join(lines) + "\n"
    # Echoed input may hold undecodable bytes (lone surrogates); show them escaped, never crash on them.
    sys.stderr.write(text.encode("utf-8", "backslashreplace").decode("utf-8"))


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
            sys.stderr.write("Cancelled.\n")
            raise typer.Exit(EXIT_CANCELLED) from None
        except BrokenPipeError:
            sys.stderr.close()  # the reader went away (e.g. `| head`); nothing more to say
            raise typer.Exit(0) from None

    return run  # type: ignore[return-value]


def _discard_new_databases(ctx) -> None:
    root = ctx.find_root() if ctx is not None else None
    discard = getattr(getattr(root, "obj", None), "discard_new_databases", None)
    if discard is not None:
        discard()


class AtmTyper(typer.Typer):
    """A Typer whose every command goes through `guarded`."""

    def command(self, *args, **kwargs):
        register = super().command(*args, **kwargs)

        def decorator(fn):
            register(guarded(fn))
            return fn

        return decorator
