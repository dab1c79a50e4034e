"""Command-line text is hostile too: a value with a control character is refused before anything runs."""

from __future__ import annotations

from pathlib import PurePath

from atm.domain.errors import InvalidInput
from atm.domain.text import control_character

# Options whose values are prose a person writes (newlines and tabs allowed); every other value is a name or an id.
PROSE = frozenset({"reason"})


def refuse_control_characters(ctx, values: dict) -> None:
    """Exit 2 naming the option when any text value holds a control character (docs/rules.md, input)."""
    options = {p.name: (p.opts[0] if getattr(p, "opts", None) else p.name) for p in getattr(ctx, "command", None)
               and ctx.command.params or ()}
    for name, value in values.items():
        for item in value if isinstance(value, (list, tuple)) else (value,):
            text = str(item) if isinstance(item, PurePath) else item
            if not isinstance(text, str):
                continue
            bad = control_character(text, prose=name in PROSE)
            if bad is not None:
                option = options.get(name, name)
                shown = option.upper() if not option.startswith("-") else option
                raise InvalidInput(f"{shown}: contains a control character ({bad}); type it without one")
