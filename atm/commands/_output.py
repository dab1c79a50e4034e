"""Rendering: JSON to stdout for scripts, rich tables for people, messages to stderr (STYLE.md rule 8)."""

from __future__ import annotations

import json
import sys
from typing import Any, Iterable

JSON_HELP = "Print JSON (a stable interface for scripts)."


def emit_json(value: Any) -> None:
    """Indented for a person at a terminal; compact (and several times faster) for a pipe.

    A value with `json_rows()` (a large list the database writes as JSON text, row by row) is streamed in its
    place, so a transaction of a hundred thousand items never sits in memory as Python objects."""
    indent = 2 if sys.stdout.isatty() else None
    streams: list = []

    def stream_marker(obj: Any) -> str:
        rows = getattr(obj, "json_rows", None)
        if rows is None:
            raise TypeError(f"{type(obj).__name__} is not JSON serializable")
        streams.append(rows)
        return f"\x00atm-stream-{len(streams) - 1}\x00"

    text = json.dumps(value, ensure_ascii=False, indent=indent, default=stream_marker)
    out = sys.stdout
    for n, rows in enumerate(streams):
        head, text = text.split(json.dumps(f"\x00atm-stream-{n}\x00"), 1)
        out.write(head + "[")
        batch: list[str] = []
        written = False
        for row in rows():
            batch.append(row)
            if len(batch) == 5000:
                out.write((", " if written else "") + ", ".join(batch))
                batch, written = [], True
        out.write((", " if written and batch else "") + ", ".join(batch) + "]")
    out.write(text + "\n")


def emit_json_list(items: Iterable[Any]) -> None:
    """Stream a JSON list item by item, so a million assets never sit in memory at once."""
    out = sys.stdout
    first = True
    for item in items:
        out.write("[\n  " if first else ",\n  ")
        out.write(json.dumps(item, ensure_ascii=False))
        first = False
    out.write("[]\n" if first else "\n]\n")


def message(text: str) -> None:
    sys.stderr.write(text + "\n")


def stdout_console():
    from rich.console import Console

    return Console(highlight=False, emoji=False)  # data like ":skull:" stays text


def stderr_console():
    from rich.console import Console

    return Console(stderr=True, highlight=False, emoji=False)


def escape(text: object) -> str:
    """Data never becomes rich markup (a PID like `[red]` stays text)."""
    from rich.markup import escape as rich_escape

    return rich_escape("" if text is None else str(text))
