"""Write a JSON object one of whose lists is streamed, byte for byte as `json.dumps` would write it whole."""

from __future__ import annotations

import json
from typing import Any, Iterable, TextIO

_MARK = "\x00streamed\x00"


def write_streamed(out: TextIO, value: dict, key: str, items: Iterable[Any], *, indent: int | None) -> None:
    """`value` with `value[key]` replaced by `items`, which are encoded one at a time and never held."""
    head, tail = json.dumps({**value, key: _MARK}, ensure_ascii=False, indent=indent).split(
        json.dumps(_MARK), 1)
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
