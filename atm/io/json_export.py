"""Write JSON whose one large list is streamed: the `items` of a transaction, as text the database wrote.

`atm status TXN --json` and `atm export TXN --json` both write through here, so the two are byte for byte the
same, and a transaction of a million items never sits in memory as Python objects.
"""

from __future__ import annotations

import json
import re
from typing import Any, Iterable, TextIO

_BIDI = "\u202a-\u202e\u2066-\u2069"
# What json.dumps(ensure_ascii=False) leaves raw that a terminal would act on: it escapes only C0 controls.
_UNSAFE = re.compile(f"[\x7f-\x9f{_BIDI}\ud800-\udfff]")
BATCH = 5000


def safe(text: str) -> str:
    """JSON text with DEL, C1 controls, bidi overrides and lone surrogates written as \\u escapes (same data)."""
    return _UNSAFE.sub(lambda m: f"\\u{ord(m.group()):04x}", text)


def dumps(value: Any, *, indent: int | None = None) -> str:
    return safe(json.dumps(value, ensure_ascii=False, indent=indent))


def _split_around(value: dict, key: str, indent: int | None) -> tuple[str, str]:
    """The text before and after `value[key]`: a random placeholder marks the spot, and is checked to be the
    only one of its kind, so no text in the data can be taken for it."""
    import secrets  # only here: it costs a listing of assets 7 ms to load

    while True:
        mark = json.dumps(f"\x00{secrets.token_hex(16)}\x00")
        text = dumps({**value, key: json.loads(mark)}, indent=indent)
        if text.count(mark) == 1:
            head, tail = text.split(mark)
            return head, tail


def write_streamed(out: TextIO, value: dict, key: str, rows: Iterable[str], *, indent: int | None) -> None:
    """`value` with `value[key]` replaced by the list of `rows`, each already one JSON value's text."""
    head, tail = _split_around(value, key, indent)
    out.write(head)
    pad = "" if indent is None else "\n" + " " * (2 * indent)  # the list's items sit two levels down
    sep = ", " if indent is None else "," + pad
    opened = False
    batch: list[str] = []
    for row in rows:
        batch.append(row)
        if len(batch) == BATCH:
            out.write((sep if opened else "[" + pad) + safe(sep.join(batch)))
            batch, opened = [], True
    if batch:
        out.write((sep if opened else "[" + pad) + safe(sep.join(batch)))
        opened = True
    if not opened:
        out.write("[]")
    else:
        out.write("]" if indent is None else "\n" + " " * indent + "]")
    out.write(tail + "\n")
