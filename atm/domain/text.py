"""Text from outside, checked: control characters, and the normal form of domains and user ids.

Small on purpose: every command checks its arguments with it before anything else is loaded.
"""

from __future__ import annotations

import re

# C0 and C1 control characters (ESC and CSI start terminal escape sequences), DEL, and lone surrogates
# (undecodable bytes): never part of a name, an id or a note.
_CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f\ud800-\udfff]")
_CONTROL_IN_PROSE = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f\ud800-\udfff]")  # newline and tab allowed


def has_control_characters(text: str) -> bool:
    """Control characters or lone surrogates (undecodable bytes): never part of a name or an id."""
    return _CONTROL.search(text) is not None


def control_character(text: str, *, prose: bool = False) -> str | None:
    """The first control character in `text`, escaped for a message (`\\x1b`), or None.

    `prose` (a reason, a note) may hold newlines and tabs; names and ids may not."""
    found = (_CONTROL_IN_PROSE if prose else _CONTROL).search(text)
    if found is None:
        return None
    return found.group().encode("unicode_escape", "backslashreplace").decode("ascii")


def normalize_domain(value: str) -> str:
    return value.strip().lower()


def normalize_user_id(value: str) -> str:
    return value.strip().lower()
