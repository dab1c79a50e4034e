"""Stream the elements of a very large JSON import file without loading it whole.

An import file is one JSON object whose values are mostly long arrays of small
objects::

    {"users": [...], "accounts": [...], "licenses": [{...}, {...}, ...]}

`TopLevelStream` reads the file in binary chunks, decodes UTF-8 incrementally
and hands one array element at a time to `json.JSONDecoder.raw_decode`, so
memory stays at about one chunk plus the largest element, whatever the size of
the file.

Positions in error messages are those of the whole file: line and column count
from 1 (the column counts characters, as the `json` module does) and the byte
offset counts from 0, including a leading UTF-8 BOM if there is one.
"""

from __future__ import annotations

import codecs
import json
import re
from collections.abc import Generator, Iterator
from typing import Any, BinaryIO

__all__ = ["JsonStreamError", "TopLevelStream"]

# JSON whitespace is exactly these four characters (RFC 8259).
_skip_ws = re.compile(r"[ \t\n\r]*").match

# A failure this close to the end of the buffer may be a token cut at a chunk
# boundary ("1." of "1.5", "tru" of "true", "\u12" of "\u1234") rather than a
# real error: read more and try again before reporting it.
_NEAR_END = 8

# Finds where NaN/Infinity sits in an element, stepping over strings.
_find_constant = re.compile(r'"(?:[^"\\]|\\.)*"|(NaN|-?Infinity)', re.DOTALL).finditer


# Runs of elements decoded at once: at most this many characters, and given up after this many misses.
_RUN_CHARS = 1 << 18
_RUN_MISSES = 4


def _separator(buf: str, close: int, after: int) -> tuple[str, int] | None:
    """What separates two objects of an array, from the first's closing '}' through the second's first key
    (`},\n  {"id"`), and the characters from that '}' to the second object; None if they are not so simple."""
    if close < 0 or buf[after:after + 2] != '{"':
        return None
    quote = buf.find('"', after + 2, after + 66)
    separator = buf[close:quote + 1]
    if quote < 0 or "\\" in separator:
        return None
    return separator, after - close


class JsonStreamError(ValueError):
    """Malformed JSON; message says what and where (line, column, byte offset)."""

    offset: int
    line: int
    column: int

    def __init__(self, message: str, *, offset: int, line: int, column: int) -> None:
        super().__init__(message)
        self.offset = offset
        self.line = line
        self.column = column


class _Constant(ValueError):
    """Raised from parse_constant: NaN and Infinity are not JSON."""

    def __init__(self, name: str) -> None:
        super().__init__(name)
        self.name = name


def _reject_constant(name: str) -> Any:
    raise _Constant(name)


class _DuplicateKey(ValueError):
    """An object names one key twice: which value was meant is unknowable, so the file is refused."""


def _unique_keys(pairs: list[tuple[str, Any]]) -> dict:
    obj = dict(pairs)
    if len(obj) != len(pairs):
        seen: set[str] = set()
        for key, _ in pairs:
            if key in seen:
                raise _DuplicateKey(f"duplicate key {_quote(key)} in an object")
            seen.add(key)
    return obj


def _quote(key: str) -> str:
    return json.dumps(key, ensure_ascii=False)


class TopLevelStream:
    """Iterate over the top-level object of a JSON file, one array element at a time.

    >>> for key, index, element in TopLevelStream(open(path, "rb")): ...

    yields ``(key, index, element)`` for each element of a top-level array value,
    in file order, and ``(key, None, value)`` for a top-level value that is not
    an array. An empty array yields nothing. The whole file is checked: a
    duplicate top-level key, NaN/Infinity, invalid UTF-8 or anything after the
    closing ``}`` raise `JsonStreamError` when the reader gets there (elements
    before the fault have already been yielded).

    ``bytes_read`` is the number of bytes consumed from ``fp`` so far; at the
    end of a successful iteration it is the size of the file.
    """

    bytes_read: int

    def __init__(self, fp: BinaryIO, *, chunk_size: int = 1 << 20) -> None:
        if chunk_size < 1:
            raise ValueError(f"chunk_size must be at least 1, not {chunk_size}")
        self._fp = fp
        self._chunk_size = chunk_size
        self.bytes_read = 0
        self.keys: list[str] = []  # top-level keys met so far, even those of empty arrays
        self._decoder = codecs.getincrementaldecoder("utf-8")("strict")
        self._decode = json.JSONDecoder(parse_constant=_reject_constant, object_pairs_hook=_unique_keys).raw_decode
        self._buf = ""  # undecoded-as-JSON text; everything before it was dropped
        self._eof = False
        self._started = False
        self._bom_checked = False
        self._chars_seen = 0
        # Bytes of the file that produced text so far (what self._buf ends at).
        self._text_bytes = 0
        # For line/column of positions in self._buf: newlines in dropped text,
        # and characters after the last dropped newline.
        self._dropped_newlines = 0
        self._dropped_column = 0
        self._dropped_chars = 0
        self._pending_error: JsonStreamError | None = None

    # --- iteration -----------------------------------------------------------

    def __iter__(self) -> Iterator[tuple[str, int | None, Any]]:
        """Yield (key, index, element) for each element of a top-level array value,
        in file order, and (key, None, value) for a top-level value that is not an array."""
        if self._started:
            raise RuntimeError("a TopLevelStream can be iterated only once")
        self._started = True
        return self._parse()

    def _parse(self) -> Iterator[tuple[str, int | None, Any]]:
        pos = self._skip(0)
        buf = self._buf
        if pos >= len(buf):
            if self._chars_seen == 0:
                raise self._error(pos, "the file is empty")
            raise self._error(pos, "the file holds only whitespace, not a JSON object")
        if buf[pos] != "{":
            raise self._found(pos, "the file must hold one JSON object at the top level, found {}")

        seen: set[str] = set()
        pos = self._skip(pos + 1)
        if self._char(pos) == "}":
            pos += 1
        else:
            while True:
                # key
                if self._char(pos) != '"':
                    after = "after ','" if seen else "or '}' after '{'"
                    raise self._expected(pos, f"a string key {after}", "the top-level object")
                key_at = self._dropped_chars + pos
                key, pos, c = self._value(pos, ":", "a top-level key")
                if key in seen:
                    raise self._error(
                        key_at - self._dropped_chars, f"duplicate top-level key {_quote(key)}"
                    )
                seen.add(key)
                self.keys.append(key)
                if c != ":":
                    raise self._expected(
                        pos, f"':' after the key {_quote(key)}", "the top-level object"
                    )
                pos = self._skip(pos + 1)

                # value
                if self._char(pos) == "[":
                    pos = yield from self._array(key, pos + 1)
                    what = f"the array {_quote(key)}"
                    pos = self._skip(pos)
                    c = self._char(pos)
                else:
                    value, pos, c = self._value(pos, ",}", f"the value of {_quote(key)}")
                    yield key, None, value
                    what = f"the value of {_quote(key)}"
                if c == "}":
                    pos += 1
                    break
                if c != ",":
                    raise self._expected(pos, f"',' or '}}' after {what}", "the top-level object")
                pos = self._skip(pos + 1)

        pos = self._skip(pos)
        if pos < len(self._buf):
            raise self._found(
                pos, "expected the end of the file after the top-level object, found {}"
            )

    def _array(self, key: str, pos: int) -> Generator[tuple[str, int, Any], None, int]:
        """Yield the elements of the array whose '[' ends before pos.

        Returns the position just after the closing ']'. This is the hot loop:
        the common case (an element followed by ',' or ']' within the buffer)
        costs one raw_decode and a regex match or two; anything else (a chunk
        boundary, an error) goes through `_value`, which decodes the element
        again with refills and error reporting.
        """
        pos = self._skip(pos)
        buf = self._buf
        if pos < len(buf) and buf[pos] == "]":
            return pos + 1
        decode = self._decode
        skip_ws = _skip_ws
        n = len(buf)
        index = 0
        # Runs: once two elements show what separates them (say '},\n  {"id"'), the elements up to the last such
        # separator within _RUN_CHARS are decoded as one JSON array, which saves the per-call cost and shares
        # the key strings. A run that does not decode exactly (the separator was inside an element, a fault)
        # is dropped: the elements go one by one past it, and the one-by-one path reports any fault.
        separator: str | None = None
        gap = 0  # characters from an element's closing '}' to the next element
        retry_at = misses = 0
        read_all = False  # the end of the file, or a byte that is not UTF-8, is in the buffer
        while True:
            if separator is not None and pos >= retry_at:
                cut = buf.rfind(separator, pos, pos + _RUN_CHARS)
                if cut < 0 and n - pos < _RUN_CHARS and not read_all:
                    # The buffer ends first: read on, so that the element it cuts goes in the next run (one by
                    # one, it would be decoded to its cut, refused, and decoded again).
                    read_all = not self._refill(pos, stop_on_bad_utf8=True)
                    retry_at = max(0, retry_at - pos)
                    pos = 0
                    buf = self._buf
                    n = len(buf)
                    continue
                if cut > pos:
                    run = self._run(buf, pos, cut + 1)
                    if run is not None:
                        for obj in run:
                            yield key, index, obj
                            index += 1
                        pos = cut + gap
                        continue
                    misses += 1
                    retry_at = cut + 1
                    if misses >= _RUN_MISSES:
                        separator = None
            start = pos
            try:
                obj, end = decode(buf, pos)
                c = buf[end]  # IndexError when the element ends the buffer
                if c != ",":
                    end = skip_ws(buf, end).end()
                    c = buf[end]
                    if c != "]" and c != ",":
                        raise IndexError
            except (ValueError, IndexError, RecursionError):
                obj, end, c = self._value(pos, ",]", f"element {index} of {_quote(key)}")
                buf = self._buf
                n = len(buf)
                start = -1  # the element may have moved in the buffer
                if c != "," and c != "]":
                    raise self._expected(
                        end,
                        f"',' or ']' after an array element (element {index} of {_quote(key)})",
                        f"the array {_quote(key)}",
                    ) from None
            yield key, index, obj
            index += 1
            if c == "]":
                return end + 1
            pos = skip_ws(buf, end + 1).end()
            if pos >= n:
                pos = self._skip(pos)
                buf = self._buf
                n = len(buf)
            elif separator is None and misses < _RUN_MISSES and start >= 0 and obj.__class__ is dict:
                learned = _separator(buf, buf.rfind("}", start, end), pos)
                if learned is not None:
                    separator, gap = learned

    def _run(self, buf: str, pos: int, stop: int) -> list | None:
        """The elements in buf[pos:stop] decoded as one array, or None if that text is not exactly whole
        elements separated by commas."""
        text = "[" + buf[pos:stop] + "]"
        try:
            run, end = self._decode(text, 0)
        except (ValueError, RecursionError):
            return None
        return run if end == len(text) else None

    # --- decoding one value --------------------------------------------------

    def _value(self, pos: int, delimiters: str, where: str) -> tuple[Any, int, str]:
        """Decode the value at pos, reading more input as needed.

        Returns (value, q, c): c is the first non-whitespace character after
        the value and q its position, or c == "" at the end of the file. c is
        one of `delimiters` unless the input really continues with something
        else (the caller reports that).
        """
        grow = False
        while True:
            buf = self._buf
            try:
                obj, end = self._decode(buf, pos)
            except _Constant as e:
                raise self._constant_error(pos, e.name, where) from None
            except json.JSONDecodeError as e:
                cut = e.msg.startswith("Unterminated string") or len(buf) - e.pos <= _NEAR_END
                if cut and not self._eof:
                    self._refill(pos, grow)
                    pos, grow = 0, True
                    continue
                raise self._decode_error(e, pos, where) from None
            except RecursionError:
                raise self._error(pos, f"{where} is nested too deeply") from None
            except ValueError as e:  # e.g. an integer over sys.get_int_max_str_digits()
                raise self._error(pos, f"{e} (in {where})") from None
            q = _skip_ws(buf, end).end()
            if q < len(buf):
                c = buf[q]
                if c in delimiters or len(buf) - q > _NEAR_END or self._eof:
                    return obj, q, c
            elif self._eof:
                return obj, q, ""
            # The value may go on in the next chunk ("12" of "123"): read more
            # and decode it again.
            self._refill(pos, grow)
            pos, grow = 0, True

    # --- input ---------------------------------------------------------------

    def _char(self, pos: int) -> str:
        buf = self._buf
        return buf[pos] if pos < len(buf) else ""

    def _skip(self, pos: int) -> int:
        """Skip whitespace from pos, reading more input as needed; "" at pos means EOF."""
        while True:
            buf = self._buf
            pos = _skip_ws(buf, pos).end()
            if pos < len(buf):
                return pos
            more = self._refill(pos)
            pos = 0
            if not more:
                return 0

    def _refill(
        self, keep_from: int, grow: bool = False, *, stop_on_bad_utf8: bool = False
    ) -> bool:
        """Drop the text before keep_from, then append at least one more character.

        Positions in the buffer shift down by keep_from. Returns False at the
        end of the file. With grow, reads as much again as the buffer holds, so
        an element spanning many chunks costs linear, not quadratic, time.
        """
        buf = self._buf
        if keep_from:
            self._dropped_chars += keep_from
            self._dropped_newlines += buf.count("\n", 0, keep_from)
            last = buf.rfind("\n", 0, keep_from)
            if last >= 0:
                self._dropped_column = keep_from - last - 1
            else:
                self._dropped_column += keep_from
            buf = self._buf = buf[keep_from:]
        size = max(self._chunk_size, len(buf)) if grow else self._chunk_size
        while True:
            if self._pending_error is not None:
                if stop_on_bad_utf8:
                    return False
                raise self._pending_error
            if self._eof:
                return False
            data = self._fp.read(size)
            if isinstance(data, str):
                raise TypeError("TopLevelStream needs a file opened in binary mode ('rb')")
            if data:
                self.bytes_read += len(data)
            else:
                self._eof = True
            text = self._decode_bytes(data)
            if not self._bom_checked and text:
                self._bom_checked = True
                if text[0] == "\ufeff":
                    text = text[1:]
            if text:
                self._chars_seen += len(text)
                self._buf = buf + text
                return True

    def _decode_bytes(self, data: bytes) -> str:
        decoder = self._decoder
        final = not data
        pending = len(decoder.getstate()[0])
        try:
            text = decoder.decode(data, final)
        except UnicodeDecodeError as e:
            # e.object is the decoder's pending bytes followed by data.
            offset = self.bytes_read - len(data) - pending + e.start
            text = bytes(e.object[: e.start]).decode("utf-8")
            self._text_bytes = offset
            self._buf += text  # so that line and column are those of the bad byte
            line, column, _ = self._where(len(self._buf))
            self._buf = self._buf[: len(self._buf) - len(text)]
            self._pending_error = JsonStreamError(
                f"not UTF-8 at byte {offset} (line {line}, column {column}): {e.reason}",
                offset=offset,
                line=line,
                column=column,
            )
            return text
        self._text_bytes = self.bytes_read - len(decoder.getstate()[0])
        return text

    # --- errors --------------------------------------------------------------

    def _where(self, pos: int) -> tuple[int, int, int]:
        """(line, column, byte offset) of position pos of the buffer, in the whole file."""
        buf = self._buf
        line = self._dropped_newlines + buf.count("\n", 0, pos) + 1
        last = buf.rfind("\n", 0, pos)
        column = pos - last if last >= 0 else self._dropped_column + pos + 1
        offset = self._text_bytes - len(buf[pos:].encode("utf-8"))
        return line, column, offset

    def _error(self, pos: int, message: str) -> JsonStreamError:
        line, column, offset = self._where(pos)
        return JsonStreamError(
            f"not valid JSON at line {line}, column {column} (byte {offset}): {message}",
            offset=offset,
            line=line,
            column=column,
        )

    def _lookahead(self, pos: int, count: int) -> int:
        """Make sure count characters from pos are in the buffer if the file has them.

        Returns the new position of pos. Used on error paths only, so that a
        message names "true" rather than "t" whatever the chunk size.
        """
        while len(self._buf) - pos < count:
            more = self._refill(pos, stop_on_bad_utf8=True)
            pos = 0
            if not more:
                break
        return pos

    def _describe(self, pos: int) -> str:
        buf = self._buf
        if pos >= len(buf):
            return "the end of the file"
        c = buf[pos]
        if c == "[":
            return "an array"
        if c == "{":
            return "an object"
        if c == '"':
            return "a string"
        if c == "-" or "0" <= c <= "9":
            return "a number"
        for word in ("true", "false", "null"):
            if buf.startswith(word, pos):
                return word
        return repr(c)

    def _found(self, pos: int, template: str) -> JsonStreamError:
        # Not str.format: a key quoted into the template may itself hold braces.
        pos = self._lookahead(pos, 5)
        head, _, tail = template.rpartition("{}")
        return self._error(pos, head + self._describe(pos) + tail)

    def _expected(self, pos: int, expected: str, inside: str) -> JsonStreamError:
        pos = self._lookahead(pos, 5)
        if pos >= len(self._buf):
            return self._error(pos, f"the file ends inside {inside}: expected {expected}")
        return self._error(pos, f"expected {expected}, found {self._describe(pos)}")

    def _decode_error(self, e: json.JSONDecodeError, start: int, where: str) -> JsonStreamError:
        pos = e.pos
        if self._eof and pos >= len(self._buf):
            if pos == start:
                return self._error(pos, f"the file ends where {where} should be")
            return self._error(pos, f"the file ends in the middle of {where}")
        if e.msg == "Expecting value" and pos == start:
            return self._found(pos, "expected a value for " + where + ", found {}")
        message = e.msg
        for suffix in (" starting at", " at"):
            if message.endswith(suffix):
                message = message[: -len(suffix)]
                break
        return self._error(pos, f"{message[0].lower()}{message[1:]} (in {where})")

    def _constant_error(self, start: int, name: str, where: str) -> JsonStreamError:
        pos = start
        for m in _find_constant(self._buf, start):
            if m.group(1) == name:
                pos = m.start(1)
                break
        return self._error(pos, f"{name} is not valid JSON (in {where})")
