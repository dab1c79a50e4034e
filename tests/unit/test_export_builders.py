"""The pure export builders: layout rows, CSV neutralizing, streamed JSON, and the workbook writer.

Expected values come from the rules the export promises (no cell is ever a formula; OWASP's CSV
guidance; minor lines beneath their major line, R6), not from the code under test.
"""

from __future__ import annotations

import csv
import io
import json
from datetime import datetime

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from atm.domain.model import MinorLine
from atm.io.csv_export import neutralized, restored, write_csv
from atm.io.export_layout import (
    DATETIME, NUMBER, Column, Detail, Sheet, license_rows, minor_lines_text, sized, text_width,
)
from atm.io.json_export import write_streamed
from atm.storage.exports import LicenseLine

HOSTILE = ['=HYPERLINK("http://x","y")', "@SUM(A1)", "+1", "-1", "\t=1+2", "\r=1+2", "#REF!", "#N/A",
           "=", "'=quoted", "日本語", "plain"]


# --- CSV (OWASP CSV injection guidance) ----------------------------------------------------


@pytest.mark.parametrize("text", ['=HYPERLINK("http://x","y")', "@SUM(A1)", "+1", "-1", "\tx", "\rx"])
def test_text_a_spreadsheet_could_run_gets_a_leading_quote(text):
    assert neutralized(text) == "'" + text


@pytest.mark.parametrize("value, written", [("plain", "plain"), ("日本語", "日本語"), (10, 10), (-1, -1),
                                            (None, ""), ("a=b", "a=b")])
def test_other_values_are_written_as_they_are(value, written):
    assert neutralized(value) == written


@given(st.text())
def test_reading_back_a_neutralized_field_gives_the_text(text):
    assert restored(neutralized(text)) == text
    assert str(neutralized(text))[:1] not in ("=", "+", "-", "@", "\t", "\r")


def test_every_csv_field_is_quoted_so_a_separator_cannot_start_a_cell():
    out = io.StringIO()
    write_csv(out, ["a", "b"], [("x;=1+2", 5), ("=cmd", None)])
    lines = out.getvalue().splitlines()
    assert lines == ['"a","b"', '"x;=1+2","5"', '"\'=cmd",""']
    assert list(csv.reader(io.StringIO(out.getvalue())))[2] == ["'=cmd", ""]


# --- streamed JSON -------------------------------------------------------------------------

json_values = st.recursive(st.none() | st.booleans() | st.integers() | st.text(),
                           lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(), inner,
                                                                                       max_size=3),
                           max_leaves=8)


@settings(max_examples=200)
@given(head=st.dictionaries(st.text(), json_values, max_size=4), items=st.lists(json_values, max_size=4),
       indent=st.sampled_from([None, 2]))
def test_a_streamed_list_is_written_as_json_dumps_writes_it_whole(head, items, indent):
    value = {**head, "items": None, "after": [1, {"a": "b"}]}
    out = io.StringIO()
    write_streamed(out, value, "items", (json.dumps(i, ensure_ascii=False) for i in items), indent=indent)
    whole = {**value, "items": items}
    assert json.loads(out.getvalue()) == whole  # the same data, whatever text the keys hold
    assert not any(0x7f <= ord(c) <= 0x9f for c in out.getvalue())  # escaped, never raw (a terminal acts on C1)
    if indent is None and not any(0x7f <= ord(c) <= 0x9f or 0x202a <= ord(c) <= 0x2069 or 0xd800 <= ord(c) <= 0xdfff
                                  for c in json.dumps(whole, ensure_ascii=False)):
        assert out.getvalue() == json.dumps(whole, ensure_ascii=False) + "\n"  # byte for byte, in a pipe


# --- layout ---------------------------------------------------------------------------------


def _line(asset_id, minors=()):
    return LicenseLine(asset_id, "100", "1", "W1", "Sub1", None, "PID-A", 10, "DEFAULT", "transferred", None,
                       "in_use", tuple(minors))


def test_minor_lines_follow_their_major_line_one_level_down():
    rows = list(license_rows([_line("SO100-1", [MinorLine("1.1", "PID-B", 10), MinorLine("1.2", "PID-C", 5)]),
                              _line("SO100-2")], {"DEFAULT": "a.example / DEFAULT"}, "b.example / Lab"))
    assert [type(r) is Detail for r in rows] == [False, True, True, False]
    assert rows[0][0] == "SO100-1" and rows[0][8:11] == ("a.example / DEFAULT", "b.example / Lab", "transferred")
    assert rows[1][0] is None and rows[1][2] == "1.1" and rows[1][6:8] == ("PID-B", 10)
    assert rows[2][2] == "1.2" and rows[2][7] == 5


def test_minor_lines_in_one_field_use_the_import_format():
    assert minor_lines_text((MinorLine("1.1", "P1", 10), MinorLine("1.4", "P2", 3))) == "1.1:P1:10;1.4:P2:3"
    assert minor_lines_text(()) is None


def test_a_cjk_character_is_two_columns_wide():
    assert text_width("東京ラボ") == 8 and text_width("Lab") == 3
    assert sized("PID", 200).width == 60 and sized("PID", 0).width == 6 and sized("Serial number", 5).width == 15


# --- the workbook writer ----------------------------------------------------------------------


def _workbook(sheets):
    from openpyxl import load_workbook

    from atm.io.xlsx_export import write_workbook

    out = io.BytesIO()
    write_workbook(sheets, out)
    out.seek(0)
    return load_workbook(out)


def test_no_written_cell_is_a_formula_and_text_stays_the_same_text():
    book = _workbook([Sheet("S", (Column("Text", width=10), Column("N", NUMBER, 8)),
                            [(text, i) for i, text in enumerate(HOSTILE)])])
    ws = book["S"]
    rows = list(ws.iter_rows(min_row=2))
    assert [r[0].value for r in rows] == HOSTILE
    assert all(r[0].data_type == "s" for r in rows)
    assert [r[1].value for r in rows] == list(range(len(HOSTILE))) and all(r[1].data_type == "n" for r in rows)


def test_characters_a_workbook_cannot_hold_are_shown_not_fatal():
    ws = _workbook([Sheet("S", (Column("Text", width=10),), [("a\x00b\x1fc",), ("=\x07",)])])["S"]
    assert ws["A2"].value == "a\\x00b\\x1fc" and ws["A3"].value == "=\\x07" and ws["A3"].data_type == "s"


def test_header_is_bold_and_frozen_with_a_filter_over_every_row_and_set_widths():
    ws = _workbook([Sheet("S", (Column("Alpha", width=12), Column("At (UTC)", DATETIME, 21)),
                          [("a", datetime(2026, 1, 2, 3, 4, 5)), ("b", None)])])["S"]
    assert [c.font.b for c in ws[1]] == [True, True]
    assert ws.freeze_panes == "A2" and ws.auto_filter.ref == "A1:B3"
    assert ws.column_dimensions["A"].width == 12 and ws.column_dimensions["B"].width == 21
    assert ws["B2"].value == datetime(2026, 1, 2, 3, 4, 5) and ws["B2"].is_date


def test_detail_rows_sit_one_outline_level_down_and_are_indented():
    ws = _workbook([Sheet("S", (Column("Id"), Column("So"), Column("Line")),
                          [("A", "1", "1"), Detail((None, "1", "1.1")), Detail((None, "1", "=1.2")), ("B", "2", "2")],
                          outline=True, indent=2)])["S"]
    assert [ws.row_dimensions[r].outlineLevel for r in range(2, 6)] == [0, 1, 1, 0]
    assert ws["C3"].alignment.indent > 0 and ws["C4"].value == "=1.2" and ws["C4"].data_type == "s"
    assert ws.sheet_properties.outlinePr.summaryBelow is False


def test_text_where_a_number_belongs_is_still_never_a_formula():
    ws = _workbook([Sheet("S", (Column("N", NUMBER, 8),), [("=1+1",), (float("nan"),), (2.5,), (True,)])])["S"]
    assert [(c.value, c.data_type) for c in ws["A"][1:]] == [("=1+1", "s"), ("nan", "s"), (2.5, "n"), ("yes", "s")]
