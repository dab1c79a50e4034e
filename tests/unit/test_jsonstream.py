"""The streaming reader of large JSON import files (atm.io.jsonstream)."""

from __future__ import annotations

import io
import json
import tracemalloc

import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st

from atm.io.jsonstream import JsonStreamError, TopLevelStream

BOM = b"\xef\xbb\xbf"


# --- helpers -------------------------------------------------------------------


def read_all(data: bytes, chunk_size: int = 1 << 20) -> list:
    return list(TopLevelStream(io.BytesIO(data), chunk_size=chunk_size))


def expected_items(text: str | bytes) -> list:
    """What the stream should yield, computed with json.loads of the whole file."""
    out = []
    for key, value in json.loads(text).items():
        if isinstance(value, list):
            out.extend((key, i, x) for i, x in enumerate(value))
        else:
            out.append((key, None, value))
    return out


def error_of(data: bytes, chunk_size: int = 1 << 20) -> JsonStreamError:
    with pytest.raises(JsonStreamError) as info:
        read_all(data, chunk_size)
    return info.value


def error_at_every_chunk_size(data: bytes) -> JsonStreamError:
    """The error for data, after checking it is the same whatever the chunk size."""
    first = error_of(data)
    for chunk_size in range(1, len(data) + 2):
        e = error_of(data, chunk_size)
        assert (str(e), e.line, e.column, e.offset) == (
            str(first),
            first.line,
            first.column,
            first.offset,
        ), f"chunk_size={chunk_size}"
    return first


def items_at_every_chunk_size(data: bytes) -> list:
    whole = read_all(data)
    for chunk_size in range(1, len(data) + 2):
        assert repr(read_all(data, chunk_size)) == repr(whole), f"chunk_size={chunk_size}"
    return whole


class CountingReader(io.RawIOBase):
    """A binary file that records the size of every read."""

    def __init__(self, data: bytes) -> None:
        self._inner = io.BytesIO(data)
        self.reads: list[int] = []

    def readable(self) -> bool:
        return True

    def read(self, size: int = -1) -> bytes:
        self.reads.append(size)
        return self._inner.read(size)


# --- round trip against json.loads ---------------------------------------------

json_scalars = (
    st.none()
    | st.booleans()
    | st.integers(min_value=-(10**30), max_value=10**30)
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.text(max_size=12)
)
json_values = st.recursive(
    json_scalars,
    lambda children: st.lists(children, max_size=4)
    | st.dictionaries(st.text(max_size=6), children, max_size=4),
    max_leaves=15,
)
documents = st.dictionaries(
    st.text(max_size=10), st.lists(json_values, max_size=8) | json_values, max_size=5
)
dump_styles = st.sampled_from(
    [
        {},
        {"ensure_ascii": False},
        {"indent": 2},
        {"indent": "\t", "ensure_ascii": False},
        {"separators": (",", ":")},
        {"separators": (" ,\r\n ", " : "), "ensure_ascii": False},
    ]
)


@settings(max_examples=300, deadline=None)
@given(
    doc=documents,
    style=dump_styles,
    chunk_size=st.integers(min_value=1, max_value=64),
    bom=st.booleans(),
)
@example(doc={"a": [123, -4.5e-7, True, False, None]}, style={}, chunk_size=1, bom=False)
@example(
    doc={"é€": ["😀\u00e9", {"ü": ["\U0010ffff"]}]},
    style={"ensure_ascii": False},
    chunk_size=1,
    bom=True,
)
def test_every_document_reads_as_json_loads_reads_it_at_any_chunk_size(
    doc, style, chunk_size, bom
):
    text = json.dumps(doc, **style)
    data = (BOM if bom else b"") + text.encode("utf-8")
    stream = TopLevelStream(io.BytesIO(data), chunk_size=chunk_size)
    got = list(stream)
    # repr, not ==, so that 1, 1.0 and True are told apart.
    assert repr(got) == repr(expected_items(text))
    assert stream.bytes_read == len(data)


@settings(max_examples=300, deadline=None)
@given(
    doc=documents,
    style=dump_styles,
    chunk_size=st.integers(min_value=1, max_value=64),
    where=st.integers(min_value=0),
    edit=st.sampled_from(["delete", *',:[]{}"1 xe.-\\']),
)
def test_a_damaged_document_is_refused_exactly_when_json_loads_refuses_it(
    doc, style, chunk_size, where, edit
):
    text = json.dumps(doc, **style)
    i = where % (len(text) + 1)
    text = text[:i] + text[i + 1 :] if edit == "delete" else text[:i] + edit + text[i:]
    data = text.encode("utf-8")

    try:
        duplicates: list[bool] = []

        def pairs(items: list) -> dict:
            # The reader refuses an object that names a key twice, at the top or inside an element.
            obj = dict(items)
            duplicates.append(len(obj) != len(items))
            return obj

        reference = json.loads(text, object_pairs_hook=pairs)
        refused = not isinstance(reference, dict) or any(duplicates)
    except json.JSONDecodeError:
        refused = True

    if refused:
        e = error_of(data, chunk_size)
        whole = error_of(data)
        assert (str(e), e.offset, e.line, e.column) == (
            str(whole),
            whole.offset,
            whole.line,
            whole.column,
        )
        assert 0 <= e.offset <= len(data)
    else:
        assert repr(read_all(data, chunk_size)) == repr(expected_items(text))


# --- chunk boundaries ----------------------------------------------------------


def test_a_number_cut_at_a_chunk_boundary_is_read_whole():
    data = b'{"n": [123, 4.5e6, -7, 0.25, 1E+2, 98765432109876543210, -0.0e-0]}'
    items = items_at_every_chunk_size(data)
    assert [x for _, _, x in items] == [123, 4.5e6, -7, 0.25, 100.0, 98765432109876543210, -0.0]
    assert repr(items[-1][2]) == "-0.0"


def test_a_number_as_a_top_level_value_cut_at_a_chunk_boundary_is_read_whole():
    items = items_at_every_chunk_size(b'{"version": 12345, "pi": 3.14159}')
    assert items == [("version", None, 12345), ("pi", None, 3.14159)]


def test_literals_cut_at_a_chunk_boundary_are_read_whole():
    items = items_at_every_chunk_size(b'{"a": [true, false, null], "b": true, "c": null}')
    assert items == [
        ("a", 0, True),
        ("a", 1, False),
        ("a", 2, None),
        ("b", None, True),
        ("c", None, None),
    ]


def test_strings_and_escapes_cut_at_a_chunk_boundary_are_read_whole():
    data = rb'{"s": ["abc def", "tab\there \"quoted\" \\ \/", "\u00e9\ud83d\ude00", ""]}'
    items = items_at_every_chunk_size(data)
    assert [x for _, _, x in items] == ["abc def", 'tab\there "quoted" \\ /', "é😀", ""]


def test_multi_byte_characters_cut_at_a_chunk_boundary_are_read_whole():
    data = '{"clé": ["€uro", "😀", "日本語", {"ü": "ß"}]}'.encode()
    items = items_at_every_chunk_size(data)
    assert items == [
        ("clé", 0, "€uro"),
        ("clé", 1, "😀"),
        ("clé", 2, "日本語"),
        ("clé", 3, {"ü": "ß"}),
    ]


def test_keys_cut_at_a_chunk_boundary_are_read_whole():
    items = items_at_every_chunk_size(b'{"licenses" : [1], "devices":[2]}')
    assert items == [("licenses", 0, 1), ("devices", 0, 2)]


def test_whitespace_anywhere_between_tokens_is_accepted():
    data = b' \r\n\t{ "a" :\n[ 1 ,\n\t2 ] ,"b"\t:\r\n"x" ,  "c" : [ ] } \n'
    assert items_at_every_chunk_size(data) == [("a", 0, 1), ("a", 1, 2), ("b", None, "x")]


def test_an_element_much_larger_than_a_chunk_is_read_in_few_reads():
    big = "x" * 200_000
    data = json.dumps({"a": [1, big, 2]}).encode()
    reader = CountingReader(data)
    items = list(TopLevelStream(reader, chunk_size=16))
    assert items == [("a", 0, 1), ("a", 1, big), ("a", 2, 2)]
    # Reading the same 16 bytes at a time would take 12,500 reads and decode
    # the element again after each one.
    assert len(reader.reads) < 100


# --- top-level shapes ----------------------------------------------------------


def test_non_array_values_are_yielded_with_index_none():
    data = b'{"meta": {"version": 2, "tags": [1, 2]}, "name": "x", "licenses": [{"id": 1}]}'
    assert read_all(data, 7) == [
        ("meta", None, {"version": 2, "tags": [1, 2]}),
        ("name", None, "x"),
        ("licenses", 0, {"id": 1}),
    ]


def test_an_empty_object_and_empty_arrays_yield_nothing():
    assert read_all(b"{}") == []
    assert read_all(b'{"users": [], "accounts": [ ]}', 3) == []


def test_a_utf8_bom_is_skipped():
    data = BOM + '{"é": ["€"]}'.encode()
    assert items_at_every_chunk_size(data) == [("é", 0, "€")]


def test_a_bom_counts_in_byte_offsets_but_not_in_columns():
    e = error_at_every_chunk_size(BOM + b'{"a": [1 2]}')
    assert (e.line, e.column, e.offset) == (1, 10, 12)


def test_a_bom_anywhere_but_the_start_is_refused():
    e = error_at_every_chunk_size(b" " + BOM + b"{}")
    assert str(e) == (
        "not valid JSON at line 1, column 2 (byte 1): the file must hold one JSON object "
        "at the top level, found '\\ufeff'"
    )


# --- progress and memory -------------------------------------------------------


def test_bytes_read_reaches_the_file_size_at_the_end():
    data = json.dumps({"licenses": [{"id": i} for i in range(1000)]}).encode() + b"\n\n"
    stream = TopLevelStream(io.BytesIO(data), chunk_size=1000)
    seen = []
    for _ in stream:
        seen.append(stream.bytes_read)
    assert seen == sorted(seen)
    assert seen[0] == 1000
    assert stream.bytes_read == len(data)


def test_the_file_is_read_in_chunks_not_all_at_once():
    data = json.dumps({"licenses": [{"id": i, "sku": "C9300"} for i in range(5000)]}).encode()
    reader = CountingReader(data)
    stream = TopLevelStream(reader, chunk_size=4096)
    it = iter(stream)
    assert next(it) == ("licenses", 0, {"id": 0, "sku": "C9300"})
    assert stream.bytes_read == 4096
    assert sum(1 for _ in it) == 4999
    assert set(reader.reads) == {4096}


def test_memory_stays_near_one_chunk_for_a_large_file():
    elements = [
        {"id": f"LIC-{i:08d}", "sku": "C9300-DNA-E-24", "quantity": i % 500, "notes": "n" * 40}
        for i in range(30_000)
    ]
    data = json.dumps({"users": [], "licenses": elements}).encode()
    assert len(data) > 3_000_000
    fp = io.BytesIO(data)
    tracemalloc.start()
    try:
        count = 0
        for _key, _index, _element in TopLevelStream(fp, chunk_size=1 << 16):
            count += 1
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert count == 30_000
    assert peak < 1_000_000, f"peak {peak} bytes for a {len(data)}-byte file"


def test_a_stream_can_be_iterated_only_once():
    stream = TopLevelStream(io.BytesIO(b'{"a": [1]}'))
    assert list(stream) == [("a", 0, 1)]
    with pytest.raises(RuntimeError):
        iter(stream)


def test_a_text_mode_file_is_refused():
    with pytest.raises(TypeError, match="binary"):
        list(TopLevelStream(io.StringIO('{"a": 1}')))


# --- errors: each names what and where -----------------------------------------


def test_an_empty_file_is_refused():
    e = error_at_every_chunk_size(b"")
    assert str(e) == "not valid JSON at line 1, column 1 (byte 0): the file is empty"
    assert (e.line, e.column, e.offset) == (1, 1, 0)


def test_a_file_holding_only_a_bom_is_empty():
    e = error_at_every_chunk_size(BOM)
    assert str(e) == "not valid JSON at line 1, column 1 (byte 3): the file is empty"


def test_a_file_of_only_whitespace_is_refused():
    e = error_at_every_chunk_size(b" \n\n  ")
    assert str(e) == (
        "not valid JSON at line 3, column 3 (byte 5): "
        "the file holds only whitespace, not a JSON object"
    )


@pytest.mark.parametrize(
    ("data", "found"),
    [
        (b"[1, 2]", "an array"),
        (b'"text"', "a string"),
        (b"-12", "a number"),
        (b"true", "true"),
        (b"null", "null"),
        (b"<html>", "'<'"),
    ],
)
def test_a_top_level_value_that_is_not_an_object_is_refused(data, found):
    e = error_at_every_chunk_size(data)
    assert str(e) == (
        "not valid JSON at line 1, column 1 (byte 0): the file must hold one JSON object "
        f"at the top level, found {found}"
    )


def test_a_key_that_is_not_a_string_is_refused():
    e = error_at_every_chunk_size(b'{"a": 1, 2: [3]}')
    assert str(e) == (
        "not valid JSON at line 1, column 10 (byte 9): expected a string key after ',', "
        "found a number"
    )
    e = error_at_every_chunk_size(b"{'a': 1}")
    assert str(e) == (
        "not valid JSON at line 1, column 2 (byte 1): expected a string key or '}' after '{', "
        "found \"'\""
    )


def test_a_missing_colon_is_refused():
    e = error_at_every_chunk_size(b'{\n  "licenses" [1]}')
    assert str(e) == (
        "not valid JSON at line 2, column 14 (byte 15): expected ':' after the key "
        '"licenses", found an array'
    )
    assert (e.line, e.column, e.offset) == (2, 14, 15)


def test_a_missing_comma_between_elements_is_refused():
    e = error_at_every_chunk_size(b'{"a": [1, 2 3]}')
    assert str(e) == (
        "not valid JSON at line 1, column 13 (byte 12): expected ',' or ']' after an array "
        'element (element 1 of "a"), found a number'
    )


def test_a_missing_comma_between_top_level_values_is_refused():
    e = error_at_every_chunk_size(b'{"a": [1] "b": 2}')
    assert str(e) == (
        "not valid JSON at line 1, column 11 (byte 10): expected ',' or '}' after the array "
        '"a", found a string'
    )
    e = error_at_every_chunk_size(b'{"a": 1 "b": 2}')
    assert str(e) == (
        "not valid JSON at line 1, column 9 (byte 8): expected ',' or '}' after the value "
        'of "a", found a string'
    )


def test_trailing_commas_are_refused():
    e = error_at_every_chunk_size(b'{"a": [1, 2, ]}')
    assert str(e) == (
        "not valid JSON at line 1, column 14 (byte 13): expected a value for element 2 "
        "of \"a\", found ']'"
    )
    e = error_at_every_chunk_size(b'{"a": 1, }')
    assert str(e) == (
        "not valid JSON at line 1, column 10 (byte 9): expected a string key after ',', "
        "found '}'"
    )


def test_data_after_the_closing_brace_is_refused():
    e = error_at_every_chunk_size(b'{"a": [1]}\n\n  {"b": [2]}')
    assert str(e) == (
        "not valid JSON at line 3, column 3 (byte 14): expected the end of the file after "
        "the top-level object, found an object"
    )


def test_an_unterminated_array_is_refused():
    e = error_at_every_chunk_size(b'{"a": [1, 2')
    assert str(e) == (
        'not valid JSON at line 1, column 12 (byte 11): the file ends inside the array "a": '
        "expected ',' or ']' after an array element (element 1 of \"a\")"
    )
    e = error_at_every_chunk_size(b'{"a": [1, 2,\n')
    assert str(e) == (
        'not valid JSON at line 2, column 1 (byte 13): the file ends where element 2 of "a" '
        "should be"
    )


def test_an_unterminated_element_is_refused():
    e = error_at_every_chunk_size(b'{"a": [{"id": 1, "tags": [1, 2')
    assert str(e) == (
        "not valid JSON at line 1, column 31 (byte 30): the file ends in the middle of "
        'element 0 of "a"'
    )
    e = error_at_every_chunk_size(b'{"a": ["abc')
    assert str(e) == (
        'not valid JSON at line 1, column 8 (byte 7): unterminated string (in element 0 of "a")'
    )


def test_an_unterminated_top_level_object_is_refused():
    e = error_at_every_chunk_size(b'{"a": [1]')
    assert str(e) == (
        "not valid JSON at line 1, column 10 (byte 9): the file ends inside the top-level "
        "object: expected ',' or '}' after the array \"a\""
    )
    e = error_at_every_chunk_size(b'{"a": ')
    assert str(e) == (
        'not valid JSON at line 1, column 7 (byte 6): the file ends where the value of "a" '
        "should be"
    )
    e = error_at_every_chunk_size(b'{"lic')
    assert str(e) == (
        "not valid JSON at line 1, column 2 (byte 1): unterminated string (in a top-level key)"
    )
    e = error_at_every_chunk_size(b"{")
    assert str(e) == (
        "not valid JSON at line 1, column 2 (byte 1): the file ends inside the top-level "
        "object: expected a string key or '}' after '{'"
    )


def test_a_duplicate_top_level_key_is_refused():
    e = error_at_every_chunk_size(b'{"licenses": [1],\n "devices": [],\n "licenses": [2]}')
    assert str(e) == (
        'not valid JSON at line 3, column 2 (byte 35): duplicate top-level key "licenses"'
    )


@pytest.mark.parametrize("chunk", [3, 1 << 20])
def test_a_duplicate_key_inside_an_element_is_refused_with_its_place(chunk):
    # Which of two values was meant is unknowable: the record is refused, never half-read.
    with pytest.raises(JsonStreamError) as info:
        read_all(b'{"a": [{"x": 1}, {"x": 1, "y": {"z": 1, "z": 2}}]}', chunk)
    assert 'duplicate key "z"' in str(info.value) and 'element 1 of "a"' in str(info.value)


@pytest.mark.parametrize(
    ("data", "message"),
    [
        (b'{"a": [1, NaN]}', '(byte 10): NaN is not valid JSON (in element 1 of "a")'),
        (
            b'{"a": [{"NaN": "Infinity", "v": Infinity}]}',
            '(byte 32): Infinity is not valid JSON (in element 0 of "a")',
        ),
        (
            b'{"a": [[1, -Infinity]]}',
            '(byte 11): -Infinity is not valid JSON (in element 0 of "a")',
        ),
        (b'{"a": NaN}', '(byte 6): NaN is not valid JSON (in the value of "a")'),
    ],
)
def test_nan_and_infinity_are_refused(data, message):
    e = error_at_every_chunk_size(data)
    assert str(e) == f"not valid JSON at line 1, column {e.offset + 1} {message}"
    assert data[e.offset :].lstrip(b"-")[:1] in (b"N", b"I")


@pytest.mark.parametrize(
    ("data", "offset", "line", "column", "reason"),
    [
        (b'{"a": ["ok", "\xff"]}', 14, 1, 15, "invalid start byte"),
        (b'{\n"\xc3\xa9": ["\xe2\x82"]}', 10, 2, 8, "invalid continuation byte"),
        (b'{"a": [1]}\n\xf0\x9f\x98', 11, 2, 1, "unexpected end of data"),
        (b'{"a": ["\xed\xa0\x80"]}', 8, 1, 9, "invalid continuation byte"),
    ],
)
def test_bytes_that_are_not_utf8_are_refused(data, offset, line, column, reason):
    e = error_at_every_chunk_size(data)
    assert str(e) == f"not UTF-8 at byte {offset} (line {line}, column {column}): {reason}"
    assert (e.offset, e.line, e.column) == (offset, line, column)


def test_elements_before_bad_utf8_are_still_yielded():
    stream = iter(TopLevelStream(io.BytesIO(b'{"a": [1, 2, "\xff"]}'), chunk_size=4))
    assert next(stream) == ("a", 0, 1)
    assert next(stream) == ("a", 1, 2)
    with pytest.raises(JsonStreamError, match="not UTF-8 at byte 14"):
        next(stream)


@pytest.mark.parametrize(
    "text",
    [
        '{"users": [],\n "licenses": [\n  {"id": 1},\n  {"id": 2, "sku": tru},\n  {"id": 3}]}',
        '{"a": ["é", "ü",\n {"x": [1, 2,, 3]}]}',
        '{"a": [{"id": 1 "sku": 2}]}',
        '{"a": [{"id": 1, sku: 2}]}',
        '{"a": ["ok", "bad \\q escape"]}',
        '{"a": ["ok", "bad \\u12x4 escape"]}',
        '{"a": ["line\nbreak"]}',
        '{"€": {"deep": [1, {"x": [2, 01]}]}}',
    ],
)
def test_an_error_inside_an_element_is_placed_in_the_whole_file(text):
    with pytest.raises(json.JSONDecodeError) as reference:
        json.loads(text)
    ref = reference.value
    for prefix in (b"", BOM):
        data = prefix + text.encode()
        e = error_at_every_chunk_size(data)
        assert (e.line, e.column) == (ref.lineno, ref.colno)
        assert e.offset == len(prefix) + len(text[: ref.pos].encode())
        assert str(e).startswith(
            f"not valid JSON at line {ref.lineno}, column {ref.colno} (byte {e.offset}): "
        )


def test_element_error_messages_name_the_problem_and_the_element():
    e = error_of(b'{"licenses": [{"id": 1}, {"id": 2, "sku": tru}]}')
    assert str(e) == (
        "not valid JSON at line 1, column 43 (byte 42): expecting value "
        '(in element 1 of "licenses")'
    )
    e = error_of(b'{"a": ["line\nbreak"]}')
    assert str(e) == (
        "not valid JSON at line 1, column 13 (byte 12): invalid control character "
        '(in element 0 of "a")'
    )


def test_an_error_is_a_value_error_carrying_its_position():
    e = error_of(b'{"a": [1 2]}')
    assert isinstance(e, ValueError)
    assert (e.line, e.column, e.offset) == (1, 10, 9)


def test_a_key_with_braces_does_not_break_the_error_message():
    import io

    with pytest.raises(JsonStreamError, match=r'expected a value for element 0 of "a\{b\}"'):
        list(TopLevelStream(io.BytesIO(b'{"a{b}": [,]}')))


# --- runs: many elements decoded at once ------------------------------------------


def without_runs(monkeypatch) -> None:
    import atm.io.jsonstream as jsonstream

    monkeypatch.setattr(jsonstream, "_RUN_CHARS", 0)  # no run fits: every element goes one by one


def records(n: int) -> list[dict]:
    return [{"id": f"R{i}", "pid": "P}, {\"id\"", "quantity": i,
             "minor_lines": [{"id": "M", "line": f"{i}.1"}, {"id": "M", "line": f"{i}.2"}] if i % 3 else []}
            for i in range(n)]


LAYOUTS = {
    "one per line": lambda doc: '{"licenses": [\n' + ",\n".join("  " + json.dumps(r) for r in doc) + "\n]}",
    "compact": lambda doc: json.dumps({"licenses": doc}, separators=(",", ":")),
    "default": lambda doc: json.dumps({"licenses": doc}),
    "indented": lambda doc: json.dumps({"licenses": doc}, indent=2),
    # The records' separator again after the array's end: a run must not read past ']'.
    "two arrays": lambda doc: json.dumps({"licenses": doc[:2900], "devices": doc[2900:]}, separators=(",", ":")),
}


@pytest.mark.parametrize("layout", LAYOUTS)
@pytest.mark.parametrize("chunk_size", [1 << 20, 4096, 777])
def test_runs_yield_exactly_the_elements_one_by_one_reading_yields(layout, chunk_size, monkeypatch):
    # Nested objects start with the same key as the records, and a value holds the separator's text: a run
    # cut at a nested separator must be dropped, not read as records.
    data = LAYOUTS[layout](records(3000)).encode()
    expected = expected_items(data)
    assert read_all(data, chunk_size) == expected
    without_runs(monkeypatch)
    assert read_all(data, chunk_size) == expected


@pytest.mark.parametrize("fault", [
    lambda t: t.replace('"R1500", ', '"R1500", "id": "again", ', 1),  # a duplicate key
    lambda t: t.replace('"quantity": 1500', '"quantity": NaN', 1),
    lambda t: t.replace('"quantity": 1500}', '"quantity": 1500', 1),  # an object not closed
    lambda t: t.replace('"R1500"', '"R1500', 1),  # a string not closed
    lambda t: t.replace('{"id": "R1500"', '{"id": "R1500\x01"', 1),  # a control character
    lambda t: t.replace('}, {"id": "R1500"', '} {"id": "R1500"', 1),  # a missing comma
    lambda t: t.replace('"quantity": 1500', '"quantity": ' + "[" * 5000 + "]" * 5000, 1),
    lambda t: t.replace('"quantity": 1500', '"quantity": 1' + "0" * 5000, 1),  # past int's digit limit
    lambda t: t.replace(', {"id": "R1500"', ', 7, {"id": "R1500"', 1),  # not an object
])
def test_a_fault_inside_a_run_is_reported_as_one_by_one_reading_reports_it(fault, monkeypatch):
    text = fault(json.dumps({"licenses": records(3000)}))
    try:
        found = read_all(text.encode())
    except JsonStreamError as e:
        found = (str(e), e.line, e.column, e.offset)
    without_runs(monkeypatch)
    try:
        expected = read_all(text.encode())
    except JsonStreamError as e:
        expected = (str(e), e.line, e.column, e.offset)
    assert found == expected


def test_most_elements_of_a_large_array_are_read_in_runs(monkeypatch):
    data = LAYOUTS["one per line"](records(3000)).encode()
    in_runs = []
    real = TopLevelStream._run

    def counting(self, buf, pos, stop):
        run = real(self, buf, pos, stop)
        in_runs.append(len(run or ()))
        return run

    monkeypatch.setattr(TopLevelStream, "_run", counting)
    assert read_all(data) == expected_items(data)
    assert sum(in_runs) >= 2990 and len(in_runs) < 30  # a few one by one, to learn the separator
