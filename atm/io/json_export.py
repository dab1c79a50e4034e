"""Write a JSON object one of whose lists is streamed, byte for byte as `json.dumps` would write it whole."""

from __future__ import annotations

import json
import secrets
from typing import Any, Iterable, TextIO


def _split_around(value: dict, key: str, indent: int | None) -> tuple[str, str]:
    """The text before and after `value[key]`: a random placeholder marks the spot, and is checked to be
    the only one of its kind, so no text in the data can be taken for it."""
    while True:
        mark = json.dumps(f"\x00{secrets.token_hex(16)}\x00")
        text = json.dumps({**value, key: json.loads(mark)}, ensure_ascii=False, indent=indent)
        if text.count(mark) == 1:
            head, tail = text.split(mark)
            return head, tail


def write_streamed(out: TextIO, value: dict, key: str, items: Iterable[Any], *, indent: int | None) -> None:
    """`value` with `value[key]` replaced by `items`, which are encoded one at a time and never held."""
    head, tail = _split_around(value, key, indent)
    out.write(head)
    first = True
    if indent is None:
        for item in items:
            out.write("[" if first else ", ")
            out.write(json.dumps(item, ensure_ascii=False))
            first = False
        out.write("[]" if first else "]")
    else:
        pad = " " * (2 * indent)  # the list's items sit two levels down: object, then list
        for item in items:
            out.write("[\n" if first else ",\n")
            out.write(pad + json.dumps(item, ensure_ascii=False, indent=indent).replace("\n", "\n" + pad))
            first = False
        out.write("[]" if first else "\n" + " " * indent + "]")
    out.write(tail + "\n")
