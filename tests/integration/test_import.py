"""`atm import`: one transaction, named errors, upserts (docs/import.md)."""

import copy
import csv

import pytest

from atm.domain.errors import InvalidInput
from atm.services.importing import import_file
from tests.conftest import small_world, write_json


def counts(uow):
    db = uow.db
    return {t: db.one(f"SELECT count(*) FROM {t}")
            for t in ("users", "accounts", "virtual_accounts", "roles", "assets", "minor_lines")}


def test_a_file_is_imported_whole(uow, tmp_path):
    summary = import_file(uow, write_json(tmp_path / "w.json", small_world()))
    assert (summary.users, summary.accounts, summary.licenses, summary.devices) == (3, 2, 3, 3)
    assert counts(uow) == {"users": 3, "accounts": 2, "virtual_accounts": 3, "roles": 3, "assets": 6,
                           "minor_lines": 1}


def test_reimporting_updates_instead_of_duplicating(uow, tmp_path):
    world = small_world()
    import_file(uow, write_json(tmp_path / "w.json", world))
    world["licenses"][0]["quantity"] = 9
    world["licenses"][0]["minor_lines"] = [{"line": "1.2", "pid": "LIC-A-2", "quantity": 9}]
    world["devices"][0]["pnp_status"] = "Error"
    import_file(uow, write_json(tmp_path / "w.json", world))
    assert counts(uow)["assets"] == 6 and counts(uow)["minor_lines"] == 1
    assert uow.db.one("SELECT quantity FROM assets WHERE id = 'SO500-1'") == 9
    assert uow.db.one("SELECT line FROM minor_lines WHERE license_id = 'SO500-1'") == "1.2"
    assert uow.db.one("SELECT pnp_status FROM assets WHERE id = 'SER1'") == "Error"


@pytest.mark.parametrize("field, value", [("account", "south.example"), ("virtual_account", "Edge")])
def test_an_import_never_moves_an_existing_asset_but_imports_the_rest(uow, tmp_path, field, value):
    import_file(uow, write_json(tmp_path / "w.json", small_world()))
    world = small_world()
    world["devices"][0][field] = value
    world["devices"][0]["pnp_status"] = "Error"
    summary = import_file(uow, write_json(tmp_path / "w.json", world))
    assert (summary.locations_kept, summary.locations_kept_moved, summary.updated) == (1, 0, 6)
    assert uow.db.one("SELECT account || '/' || virtual_account FROM assets WHERE id = 'SER1'") == \
        "north.example/DEFAULT"
    assert uow.db.one("SELECT pnp_status FROM assets WHERE id = 'SER1'") == "Error"


def test_a_serial_number_is_one_device_whatever_its_case(uow, tmp_path):
    world = small_world()
    world["devices"].append({"serial_number": " ser1", "pid": "DEV-X", "account": "north.example"})
    assert "devices[3] (SER1): id: 'SER1' appears twice in the file" in refused(uow, tmp_path, world)
    world["devices"][3]["id"] = "OTHER-ID"
    assert "devices[3] (OTHER-ID): serial_number: 'SER1' appears twice in the file" in refused(uow, tmp_path, world)


def test_a_sales_order_line_is_one_license_whatever_its_id(uow, tmp_path):
    import_file(uow, write_json(tmp_path / "w.json", small_world()))
    world = {"licenses": [{"id": "COPY-1", "account": "north.example", "sales_order": "500", "line": "1",
                           "pid": "LIC-A", "quantity": 5}]}
    assert "line: sales order 500 line 1 already belongs to asset SO500-1" in refused(uow, tmp_path, world)
    world["licenses"].append(dict(world["licenses"][0], id="COPY-2", sales_order="501"))
    world["licenses"].append(dict(world["licenses"][0], id="COPY-3", sales_order="501"))
    assert "sales order 501 line 1 appears twice in the file" in refused(uow, tmp_path, world)


def refused(uow, tmp_path, world, name="bad.json"):
    before = counts(uow)
    with pytest.raises(InvalidInput) as info:
        import_file(uow, write_json(tmp_path / name, world))
    assert counts(uow) == before, "a refused file must change nothing"
    return str(info.value)


def test_a_bad_record_at_the_end_changes_nothing(uow, tmp_path):
    import_file(uow, write_json(tmp_path / "w.json", small_world()))
    world = small_world()
    world["users"].append({"id": "new@north.example", "name": "New"})
    world["devices"] = world["devices"] + [{"serial_number": f"NEW{i}", "pid": "D", "account": "north.example"}
                                           for i in range(5000)]
    world["devices"].append({"serial_number": "LAST", "pid": "D", "account": "north.example", "cslu": "perhaps"})
    message = refused(uow, tmp_path, world)
    assert message.startswith("bad.json: devices[5003] (LAST): cslu: must be true or false")
    assert "nothing was imported" in message


def test_an_unknown_key_names_the_record_and_the_key(uow, tmp_path):
    world = small_world()
    world["licenses"][1]["quantitty"] = 1
    assert refused(uow, tmp_path, world).startswith("bad.json: licenses[1] (SO500-2): quantitty: unknown field")


def test_an_unknown_top_level_key_is_refused(uow, tmp_path):
    world = dict(small_world(), device=[])
    assert "unknown top-level key 'device'" in refused(uow, tmp_path, world)


def test_an_asset_in_an_unknown_account_or_va_is_refused(uow, tmp_path):
    world = small_world()
    world["devices"][0]["account"] = "nowhere.example"
    assert "devices[0] (SER1): account: no Smart Account 'nowhere.example'" in refused(uow, tmp_path, world)
    world = small_world()
    world["devices"][0]["virtual_account"] = "Lab"
    assert "devices[0] (SER1): virtual_account: no virtual account 'Lab' in north.example" in refused(
        uow, tmp_path, world)


def test_a_role_for_an_unknown_user_is_refused(uow, tmp_path):
    world = small_world()
    world["accounts"][0]["admins"].append("ghost@north.example")
    assert "admins[1]: no user 'ghost@north.example'" in refused(uow, tmp_path, world)


def test_the_same_id_twice_in_one_file_is_refused(uow, tmp_path):
    world = small_world()
    world["devices"].append(copy.deepcopy(world["devices"][0]))
    assert "devices[3] (SER1): id: 'SER1' appears twice in the file (first at bad.json: devices[0])" in refused(
        uow, tmp_path, world)


def test_an_id_of_the_other_kind_is_refused(uow, tmp_path):
    import_file(uow, write_json(tmp_path / "w.json", small_world()))
    world = small_world()
    world["devices"] = [{"id": "SO500-1", "serial_number": "OTHER", "pid": "D", "account": "north.example"}]
    world["licenses"] = []
    assert "'SO500-1' already exists as a license" in refused(uow, tmp_path, world)


def test_a_serial_owned_by_another_asset_is_refused(uow, tmp_path):
    import_file(uow, write_json(tmp_path / "w.json", small_world()))
    world = {"devices": [{"id": "NEW-ID", "serial_number": "SER1", "pid": "D", "account": "north.example"}]}
    assert "serial_number: serial number 'SER1' already belongs to asset SER1" in refused(uow, tmp_path, world)


def test_invalid_json_is_refused_with_its_place(uow, tmp_path):
    path = tmp_path / "broken.json"
    path.write_text('{"users": [{"id": "a@b.example"},, ]}')
    with pytest.raises(InvalidInput, match=r"broken.json: .*line 1"):
        import_file(uow, path)


def test_several_problems_are_listed_after_the_first(uow, tmp_path):
    world = small_world()
    for lic in world["licenses"]:
        lic["quantity"] = 0
    message = refused(uow, tmp_path, world)
    assert "(and 2 more problems)" in message


def write_csv(path, rows):
    with path.open("w", newline="", encoding="utf-8") as fh:
        writer = csv.DictWriter(fh, fieldnames=list(rows[0]))
        writer.writeheader()
        writer.writerows(rows)
    return path


def csv_rows():
    return [
        {"kind": "license", "id": "", "account": "north.example", "sales_order": "900", "line": "1", "pid": "L",
         "quantity": "2", "minor_lines": "1.1:L-1:2;1.2:L-2:2", "serial_number": "", "cslu": ""},
        {"kind": "device", "id": "", "account": "north.example", "sales_order": "900", "line": "", "pid": "D",
         "quantity": "", "minor_lines": "", "serial_number": "CSV1", "cslu": "yes"},
    ]


def test_a_csv_asset_list_is_imported(uow, tmp_path):
    import_file(uow, write_json(tmp_path / "w.json", small_world()))
    import_file(uow, write_csv(tmp_path / "assets.csv", csv_rows()))
    assert uow.db.one("SELECT count(*) FROM minor_lines WHERE license_id = 'SO900-1'") == 2
    assert uow.db.one("SELECT cslu FROM assets WHERE id = 'CSV1'") == 1


def test_a_csv_with_an_unknown_column_or_a_bad_cell_is_refused(uow, tmp_path):
    import_file(uow, write_json(tmp_path / "w.json", small_world()))
    rows = [dict(r, colour="red") for r in csv_rows()]
    with pytest.raises(InvalidInput, match="row 1: unknown column 'colour'"):
        import_file(uow, write_csv(tmp_path / "a.csv", rows))
    rows = csv_rows()
    rows[1]["serial_number"] = ""
    before = counts(uow)
    with pytest.raises(InvalidInput, match=r"a.csv: row 3: serial_number: is required"):
        import_file(uow, write_csv(tmp_path / "a.csv", rows))
    assert counts(uow) == before


def test_an_xlsx_asset_list_is_imported_and_formulas_are_not_evaluated(uow, tmp_path):
    from openpyxl import Workbook

    import_file(uow, write_json(tmp_path / "w.json", small_world()))
    book = Workbook()
    sheet = book.active
    sheet.append(["kind", "serial_number", "pid", "account", "host_id"])
    sheet.append(["device", "XL1", "D", "north.example", "=1+1"])
    sheet.append(["device", 12345, "D", "north.example", None])
    book.save(tmp_path / "a.xlsx")
    import_file(uow, tmp_path / "a.xlsx")
    assert uow.db.one("SELECT host_id FROM assets WHERE id = 'XL1'") is None  # no cached value: not "2"
    assert uow.db.one("SELECT pid FROM assets WHERE id = '12345'") == "D"


def test_an_unknown_extension_is_refused(uow, tmp_path):
    path = tmp_path / "assets.txt"
    path.write_text("x")
    with pytest.raises(InvalidInput, match="unknown import format 'txt'"):
        import_file(uow, path)
