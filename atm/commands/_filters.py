"""The filters of the landing list, shared by `atm status` and `atm export --all`."""

from typing import Annotated, Optional

import typer


def landing_filters(scope: str = "") -> dict:
    """The five filter options, their help prefixed with `scope` (e.g. "With --all: ")."""
    def say(text: str) -> str:
        return f"{scope}{text[0].lower()}{text[1:]}" if scope else text

    return {
        "account": Annotated[Optional[str], typer.Option(
            "--account", metavar="SA", help=say("Only transactions from or to this SA."))],
        "statuses": Annotated[Optional[list[str]], typer.Option(
            "--status", metavar="STATUS", help=say("Only this status (label or state code); repeatable."))],
        "since": Annotated[Optional[str], typer.Option(
            "--since", metavar="DATE", help=say("Requested on or after (YYYY-MM-DD, UTC)."))],
        "until": Annotated[Optional[str], typer.Option(
            "--until", metavar="DATE", help=say("Requested on or before (YYYY-MM-DD, UTC)."))],
        "initiator": Annotated[Optional[str], typer.Option(
            "--initiator", metavar="USER", help=say("Only transactions requested by this user."))],
    }
