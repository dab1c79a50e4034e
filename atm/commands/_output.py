"""Rendering: JSON to stdout for scripts, tables for people, TSV for pipes, messages to stderr.

Every piece of stored or typed text goes through `visible` before it reaches a terminal: a name, a PID or a
file name may hold an escape sequence (`\\x1b]52;...`) or a bidi override that would act on the reader's
terminal instead of being read. `visible` shows such characters escaped, and rich markup in data stays text.
"""

from __future__ import annotations

import re
import sys
from dataclasses import dataclass
from typing import Any, Iterable, Sequence

ITEM_ROWS = 20  # items of each kind a transaction view shows unless asked for more
JSON_HELP = "Print JSON (a stable interface for scripts)."
WIDE_HELP = "Show every column in full, however wide the table gets."

# C0 controls, DEL, C1 controls, bidi embeddings/overrides/isolates, lone surrogates.
_BIDI = "\u202a-\u202e\u2066-\u2069"
_UNSAFE = re.compile(f"[\x00-\x1f\x7f-\x9f{_BIDI}\ud800-\udfff]")
_UNSAFE_BUT_NEWLINE = re.compile(f"[\x00-\x09\x0b-\x1f\x7f-\x9f{_BIDI}\ud800-\udfff]")
_SHORT = {"\t": "\\t", "\n": "\\n", "\r": "\\r"}

no_color = False  # set by the global --no-color option (NO_COLOR in the environment works too)


def _escaped(match: re.Match) -> str:
    ch = match.group()
    if ch in _SHORT:
        return _SHORT[ch]
    code = ord(ch)
    return f"\\x{code:02x}" if code < 0x100 else f"\\u{code:04x}"


def visible(text: object, *, multiline: bool = False) -> str:
    """Text safe for a terminal: control characters, bidi overrides and lone surrogates shown escaped.

    >>> visible("Acme\\x1b[31m\\u202e")
    'Acme\\\\x1b[31m\\\\u202e'

    `multiline` keeps newlines (a block of several lines); a tab is always shown as `\\t`.
    """
    s = "" if text is None else str(text)
    return (_UNSAFE_BUT_NEWLINE if multiline else _UNSAFE).sub(_escaped, s)


def escape(text: object) -> str:
    """Data for a rich markup string: never markup (a PID like `[red]` stays text), never a control character."""
    from rich.markup import escape as rich_escape

    return rich_escape(visible(text))


# --- where output goes ----------------------------------------------------------------


def stdout_is_terminal() -> bool:
    """People get tables, pipes get TSV (tests replace this to see the tables)."""
    return sys.stdout.isatty()


def emit_json(value: Any, out=None) -> None:
    """Indented for a person at a terminal; compact (and several times faster) for a pipe.

    A list with `json_rows()` (a transaction's items, as JSON text the database writes row by row) is streamed in
    its place, so a transaction of a hundred thousand items never sits in memory as Python objects."""
    from atm.io.json_export import dumps, write_streamed

    out = out or sys.stdout
    indent = 2 if out.isatty() else None
    if isinstance(value, dict):
        for key, item in value.items():
            rows = getattr(item, "json_rows", None)
            if rows is not None:
                write_streamed(out, value, key, rows(), indent=indent)
                return
    out.write(dumps(value, indent=indent) + "\n")


def emit_json_list(items: Iterable[Any]) -> None:
    """Stream a JSON list item by item, so a million assets never sit in memory at once."""
    from atm.io.json_export import dumps

    out = sys.stdout
    first = True
    for item in items:
        out.write("[\n  " if first else ",\n  ")
        out.write(dumps(item))
        first = False
    out.write("[]\n" if first else "\n]\n")


def emit_tsv(header: Sequence[str], rows: Iterable[Sequence[object]]) -> None:
    """For pipes: a header, then one record a line, tab-separated, every value whole (`grep`, `cut`, `awk`).

    A tab, a newline or any other control character inside a value is shown escaped (`\\t`, `\\n`, `\\x1b`),
    so it can never split a record or a field.
    """
    out = sys.stdout
    out.write("\t".join(header) + "\n")
    for row in rows:
        out.write("\t".join(visible(v) for v in row) + "\n")


def plural(n: int, one: str, many: str | None = None) -> str:
    """"1 device", "1,204 devices": the count with its thousands separator and the word that goes with it."""
    return f"{n:,} {one if n == 1 else (many or one + 's')}"


def message(text: str) -> None:
    """A message for the person at the terminal, on stderr (never mixed with data on stdout).

    At a terminal long lines wrap between words, never inside an id or an option; elsewhere each line stays
    whole.
    """
    text = visible(text, multiline=True)
    if sys.stderr.isatty():
        import shutil
        import textwrap

        width = shutil.get_terminal_size().columns
        text = "\n".join(textwrap.fill(line, width=max(width - 1, 20), break_long_words=False,
                                        break_on_hyphens=False, subsequent_indent="  " if line[:1] != " " else
                                        " " * (len(line) - len(line.lstrip()) + 2))
                         if len(line) >= width else line for line in text.split("\n"))
    sys.stderr.write(text + "\n")


def stdout_console(*, width: int | None = None):
    from rich.console import Console

    # highlight/emoji off: data like ":skull:" or "1.2.3.4" stays plain text. In a pipe, a line is never
    # wrapped (grep sees it whole).
    return Console(highlight=False, emoji=False, no_color=no_color or None, width=width,
                   soft_wrap=width is None and not stdout_is_terminal())


def stderr_console():
    from rich.console import Console

    return Console(stderr=True, highlight=False, emoji=False, no_color=no_color or None)


# --- tables for people ------------------------------------------------------------------

KEY, WHOLE, WORDS, FOLD = "key", "whole", "words", "fold"
GAP = 2  # blank cells between two columns


@dataclass(frozen=True)
class Col:
    """A table column. `fit` says how it may give way when the terminal is narrow:

    - KEY (ids, domains, serials, dates): never wrapped, never cut;
    - WHOLE (statuses): kept on one line, leaving optional columns out for it; wrapped between words only
      when even the columns that cannot be left out leave no room;
    - WORDS (reasons, notes, messages): wrapped between words only, never inside one;
    - FOLD (names): may fold anywhere.

    `drop` > 0: the column may be left out to fit (the highest first); `--wide` shows it.
    """

    header: str
    fit: str = KEY
    drop: int = 0
    right: bool = False
    style: str | None = None


def _longest_word(text: str) -> int:
    from rich.cells import cell_len

    return max((cell_len(w) for w in text.split()), default=0)


def _widths(cols: Sequence[Col], rows: Sequence[Sequence[str]], available: int, wide: bool
            ) -> tuple[list[int], list[int], int]:
    """(indexes of the columns shown, their widths, the total width)."""
    shown, widths, needed = _fit(cols, rows, available, wide, whole=True)
    if needed > available and any(c.fit == WHOLE for c in cols):
        return _fit(cols, rows, available, wide, whole=False)
    return shown, widths, needed


def _fit(cols: Sequence[Col], rows: Sequence[Sequence[str]], available: int, wide: bool, whole: bool
         ) -> tuple[list[int], list[int], int]:
    from rich.cells import cell_len

    full, least = [], []
    for i, col in enumerate(cols):
        lines = [line for row in rows for line in row[i].split("\n")] + [col.header]
        f = max(cell_len(line) for line in lines)
        if col.fit == KEY or wide or (col.fit == WHOLE and whole):
            m = f
        elif col.fit in (WORDS, WHOLE):
            m = max([_longest_word(line) for line in lines] + [cell_len(col.header)])
        else:
            m = min(f, 8)
        full.append(f)
        least.append(max(m, 1))
    shown = list(range(len(cols)))

    def total(ws: Iterable[int]) -> int:
        ws = list(ws)
        return sum(ws) + GAP * (len(ws) - 1)

    while True:
        if wide or total(full[i] for i in shown) <= available:
            widths = [full[i] for i in shown]
            break
        if total(least[i] for i in shown) <= available:
            widths = [least[i] for i in shown]
            spare = available - total(widths)
            # The spare cells make as many columns whole as they can, smallest need first; what is left goes to
            # the column that needs the most (usually free text, which reads better wide).
            growing = sorted((full[i] - least[i], k) for k, i in enumerate(shown) if full[i] > least[i])
            for need, k in list(growing):
                if need <= spare:
                    widths[k] += need
                    spare -= need
                    growing.remove((need, k))
            if growing and spare:
                widths[growing[-1][1]] += spare
            break
        droppable = [i for i in shown if cols[i].drop]
        if not droppable:
            widths = [least[i] for i in shown]  # wider than the terminal rather than cut
            break
        shown.remove(max(droppable, key=lambda i: (cols[i].drop, i)))
    return shown, widths, total(widths)


def print_table(cols: Sequence[Col], rows: Sequence[Sequence[object]], *, wide: bool = False,
                title: str | None = None, styles: Sequence[Sequence[str | None]] | None = None) -> None:
    """A table that fits the terminal without cutting a key value; what it had to leave out is said on stderr.

    Cells are plain text (never markup); `styles`, when given, holds a rich style per cell.
    """
    from rich import box
    from rich.table import Table
    from rich.text import Text

    cells = [[visible(v, multiline=True) for v in row] for row in rows]
    console = stdout_console()
    shown, widths, needed = _widths(cols, cells, console.width, wide)
    if needed > console.width:
        console = stdout_console(width=needed)
    if title:  # above the table, not as its title: a title wider than the table would wrap
        console.print(Text(title, style="bold"))
    table = Table(box=box.SIMPLE_HEAD, show_edge=False, pad_edge=False, padding=(0, GAP - 1, 0, 0),
                  header_style="bold", collapse_padding=False)
    for k, i in enumerate(shown):
        col = cols[i]
        table.add_column(col.header, width=widths[k], min_width=widths[k], no_wrap=col.fit == KEY or wide,
                         overflow="fold", justify="right" if col.right else "left", style=col.style)
    for r, row in enumerate(cells):
        table.add_row(*(Text(row[i], style=(styles[r][i] if styles and styles[r][i] else "")) for i in shown))
    console.print(table)
    left_out = [cols[i].header for i in range(len(cols)) if i not in shown]
    if left_out:
        message(f"Left out to fit {console.width} columns: {', '.join(left_out)} (--wide shows every column).")
