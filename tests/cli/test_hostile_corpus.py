"""A corpus of hostile import files, each run through the installed `atm` (docs/import.md).

A refused file exits 2 with one line that names the file, and leaves the database exactly as it was (a full
dump before and after). Files that are odd but honest (BOM, CRLF, formula-like text, partial re-imports) are
imported, and then only what they name changes.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from pathlib import Path

import pytest

from tests import backends
from tests.conftest import SAMPLE, atm_executable

SAMPLE_DOC = json.loads(SAMPLE.read_text(encoding="utf-8"))
LICENSE = next(r for r in SAMPLE_DOC["licenses"] if r["id"] == "SO12345678-1")
EA_LINE = next(r for r in SAMPLE_DOC["licenses"] if r["id"] == "SO12345679-1")
HEADER = "kind,id,account,virtual_account,pid,quantity,enterprise_agreement\n"


def _json(doc) -> bytes:
    return json.dumps(doc, ensure_ascii=False).encode("utf-8")


def _new_license(**extra) -> dict:
    return dict({"id": "SO77777777-1", "account": "acme.co.jp", "pid": "NEW-PID", "quantity": 1}, **extra)


# name, file content, words the one-line error must hold
REFUSED: list[tuple[str, bytes, tuple[str, ...]]] = [
    ("truncated.json", SAMPLE.read_bytes()[: len(SAMPLE.read_bytes()) // 2], ("not valid JSON",)),
    ("truncated_record.json", b'{"licenses": [{"id": "SO1-1", "account": "acme.co.jp", "pid": "P", "quan',
     ("not valid JSON", "line 1")),
    ("empty.json", b"", ("empty",)),
    ("top_list.json", b"[]", ("one JSON object",)),
    ("wrong_type_quantity.json", _json({"licenses": [_new_license(quantity="ten")]}), ("quantity", "whole number")),
    ("wrong_type_flag.json", _json({"licenses": [_new_license(enterprise_agreement="maybe")]}),
     ("enterprise_agreement", "true or false")),
    ("wrong_type_record.json", _json({"licenses": ["SO1-1"]}), ("must be an object",)),
    ("wrong_type_section.json", _json({"licenses": {"id": "SO1-1"}}), ("must be a list",)),
    ("huge_string.json", _json({"licenses": [_new_license(pid="P" * 100_000)]}), ("pid", "longer than")),
    ("huge_number.json", b'{"licenses": [{"id": "SO1-1", "account": "acme.co.jp", "pid": "P", "quantity": '
     + b"9" * 5000 + b"}]}", ("not valid JSON",)),
    ("control_esc.json", _json({"licenses": [_new_license(pid="P\x1b]52;c;ZWNobyBoaQ==\x07")]}),
     ("pid", "control character")),
    ("control_c1.json", _json({"accounts": [{"domain": "acme.co.jp", "name": "Acme\x9b31m"}]}),
     ("name", "control character")),
    ("control_nul.csv", (HEADER + "license,SO1-1,acme.co.jp,DEFAULT,P\x00,1,no\n").encode(), ("row 2",)),
    ("non_utf8.json", b'{"users": [{"id": "a@b.example", "name": "\xff\xfe"}]}', ("not UTF-8",)),
    ("non_utf8.csv", HEADER.encode() + b"license,SO1-1,acme.co.jp,DEFAULT,P\xe9,1,no\n", ("not UTF-8",)),
    ("utf16.csv", HEADER.encode("utf-16"), ("not UTF-8",)),
    ("duplicate_ids.json", _json({"licenses": [_new_license(), _new_license(pid="OTHER")]}),
     ("appears twice",)),
    ("duplicate_ids_case.json", _json({"licenses": [_new_license(), _new_license(id="so77777777-1")]}),
     ("appears twice",)),
    ("duplicate_key.json", b'{"licenses": [{"id": "SO12345679-1", "enterprise_agreement": false, '
     b'"enterprise_agreement": true}]}', ('duplicate key "enterprise_agreement"',)),
    ("duplicate_top_key.json", b'{"licenses": [], "licenses": []}', ("duplicate top-level key",)),
    ("open_quote.csv", (HEADER + 'license,SO1-1,acme.co.jp,DEFAULT,"P,1,no\n').encode(), ("never closed",)),
    ("unknown_column.csv", b"kind,id,quantiy\nlicense,SO1-1,1\n", ("unknown column", "quantiy")),
    ("unknown_key.json", _json({"licenses": [_new_license(quantiy=3)]}), ("quantiy", "unknown field")),
    ("new_without_required.json", _json({"licenses": [{"id": "SO88888888-1", "pid": "P"}]}),
     ("required for a new license",)),
    ("nan.json", b'{"licenses": [{"id": "SO1-1", "account": "acme.co.jp", "pid": "P", "quantity": NaN}]}',
     ("NaN",)),
    ("deep.json", b'{"licenses": [' + b"[" * 50_000 + b"]" * 50_000 + b"]}", ("nested too deeply",)),
    ("unknown_account.json", _json({"licenses": [_new_license(account="nowhere.example")]}),
     ("no Smart Account 'nowhere.example'",)),
    ("kind_clash.json", _json({"devices": [{"id": "SO12345678-1", "serial_number": "NEWSER1", "pid": "D",
                                            "account": "acme.co.jp"}]}), ("already exists as a license",)),
    ("serial_clash.json", _json({"devices": [{"id": "NEW-DEV", "serial_number": "foc2231x0ab", "pid": "D",
                                              "account": "acme.co.jp"}]}), ("already belongs to asset FOC2231X0AB",)),
    ("bad_at_the_end.json", _json({"licenses": [_new_license(id=f"SO9{n:07d}-1") for n in range(5000)]
                                   + [_new_license(id="SO99999999-9", quantity=-1)]}), ("quantity",)),
]


@pytest.fixture(scope="module")
def seeded(tmp_path_factory) -> Path:
    home = tmp_path_factory.mktemp("corpus")
    db = home / "seed.db"
    result = _atm(home, db, "init", "--sample")
    assert result.returncode == 0, result.stderr
    return db


def _atm(home: Path, db: Path, *args: str) -> subprocess.CompletedProcess:
    env = dict(os.environ, ATM_DB=str(db), HOME=str(home), XDG_DATA_HOME=str(home / "xdg"), COLUMNS="200")
    env.pop("ATM_USER", None)
    return subprocess.run(atm_executable() + list(args), capture_output=True, text=True, env=env, timeout=120,
                          stdin=subprocess.DEVNULL)


def _dump(db) -> list[str]:
    return backends.dump(db)


@pytest.fixture
def db(seeded, tmp_path):
    """The seeded sample for one test: a copy of the file, or (PostgreSQL leg) copied into the test's schema."""
    if backends.ON_POSTGRES:
        target = os.environ["ATM_DB"]
        result = _atm(tmp_path, seeded, "db", "copy", "--to", target)
        assert result.returncode == 0, result.stderr
        return target
    copy = tmp_path / "atm.db"
    shutil.copyfile(seeded, copy)
    return copy


@pytest.mark.parametrize("name, content, words", REFUSED, ids=[r[0] for r in REFUSED])
def test_a_hostile_file_is_refused_in_one_line_and_changes_nothing(db, tmp_path, name, content, words):
    path = tmp_path / name
    path.write_bytes(content)
    before = _dump(db)
    result = _atm(tmp_path, db, "import", str(path))
    assert result.returncode == 2, result.stderr
    lines = result.stderr.splitlines()
    assert lines and lines[0].startswith(f"Error: {name}") and "Traceback" not in result.stderr, result.stderr
    for word in words:
        assert word in lines[0], result.stderr
    assert "\x1b" not in result.stderr and "\x9b" not in result.stderr
    assert _dump(db) == before


def _asset(tmp_path, db, asset_id: str) -> dict:
    result = _atm(tmp_path, db, "--as", "legal@atm-vendor.example", "assets", "list", "--account", "acme.co.jp",
                  "--json")
    return next(a for a in json.loads(result.stdout) if a["id"] == asset_id)


@pytest.mark.parametrize("name, content", [
    ("bom.json", b"\xef\xbb\xbf" + _json({"licenses": [{"id": "SO12345678-1", "web_order": "W-BOM"}]})),
    ("bom.csv", b"\xef\xbb\xbfkind,id,web_order\r\nlicense,SO12345678-1,W-BOM\r\n"),
    ("crlf.csv", b"kind,id,web_order\r\nlicense,SO12345678-1,W-BOM\r\n"),
    ("crlf.json", _json({"licenses": [{"id": "SO12345678-1", "web_order": "W-BOM"}]}).replace(b", ", b",\r\n")),
])
def test_a_bom_or_crlf_file_imports_like_any_other(db, tmp_path, name, content):
    path = tmp_path / name
    path.write_bytes(content)
    before = _asset(tmp_path, db, "SO12345678-1")
    result = _atm(tmp_path, db, "import", str(path))
    assert result.returncode == 0, result.stderr
    assert _asset(tmp_path, db, "SO12345678-1") == dict(before, web_order="W-BOM")


def test_formula_like_text_is_stored_as_text(db, tmp_path):
    path = tmp_path / "formula.csv"
    path.write_text('kind,id,pid,web_order\nlicense,SO12345678-1,"=HYPERLINK(""http://x"",""y"")",@SUM(A1)\n',
                    encoding="utf-8")
    result = _atm(tmp_path, db, "import", str(path))
    assert result.returncode == 0, result.stderr
    got = _asset(tmp_path, db, "SO12345678-1")
    assert (got["pid"], got["web_order"]) == ('=HYPERLINK("http://x","y")', "@SUM(A1)")


@pytest.mark.parametrize("row", [
    "license,SO12345679-1,,,,,",  # every field empty: nothing given
    "license,SO12345679-1,acme.co.jp,DEFAULT,C9300-DNA-A-48-5Y,20,",  # the flag column left empty
])
def test_a_partial_reimport_never_clears_a_rule_flag(db, tmp_path, row):
    path = tmp_path / "partial.csv"
    path.write_text(HEADER + row + "\n", encoding="utf-8")
    before = _asset(tmp_path, db, "SO12345679-1")
    result = _atm(tmp_path, db, "import", str(path))
    assert result.returncode == 0, result.stderr
    assert _asset(tmp_path, db, "SO12345679-1") == before and before["enterprise_agreement"] is True  # R5
