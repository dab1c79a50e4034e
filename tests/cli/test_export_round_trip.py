"""The round trip: a file written by `atm export` names the assets of a new request (`--assets-file`).

A past transfer can thus be replayed or reversed. The old id-list formats keep working.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.cli.test_export import ANN, DST, FORM, SRC, completed_cross, export, world  # noqa: F401 (fixture)
from tests.conftest import TARO, write_json


@pytest.fixture
def done(cli, world, monkeypatch) -> str:
    monkeypatch.chdir(world)
    return completed_cross(cli, world)


@pytest.mark.parametrize("name, fmt", [("back.xlsx", "--xlsx"), ("back.csv", "--csv")])
def test_an_export_replays_as_the_assets_of_a_new_request(cli, done, name, fmt):
    assert export(cli, done, fmt, "-o", name).exit_code == 0
    original = cli.json("status", done, user=ANN)["items"]
    back = cli.json("request", "--from", DST, "--to", SRC, "--to-va", "+1", "--same-company", "no",
                    "--form", str(write_json(Path("f.json"), FORM)), "--assets-file", name, user=ANN)
    assert [i["asset_id"] for i in back["items"]] == [i["asset_id"] for i in original]
    assert [i["kind"] for i in back["items"]] == [i["kind"] for i in original]


def test_the_old_id_list_formats_still_work(cli, sample_db, tmp_path, monkeypatch):
    from openpyxl import Workbook

    monkeypatch.chdir(tmp_path)
    book = Workbook()
    book.active.append(["id"])
    book.active.append(["SO12345678-1"])
    book.save("ids.xlsx")
    Path("ids.csv").write_text("id,kind\nFOC2231X0AB,device\n")
    for name, asset_id in (("ids.xlsx", "SO12345678-1"), ("ids.csv", "FOC2231X0AB")):
        result = cli.json("request", "--from", "acme.co.jp", "--to", "acme-osaka.co.jp", "--to-va", "DEFAULT",
                          "--same-company", "yes", "--assets-file", name, "--dry-run", user=TARO)
        assert [a["asset_id"] for a in result["transferable"]] == [asset_id]
