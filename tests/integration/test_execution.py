"""R12 execution: chunks, per-item failures for assets changed meanwhile, resumption."""

import pytest

from atm.services import execution
from atm.services.importing import import_file
from atm.services.transfers import RequestSpec, request, submit
from atm.storage.database import open_database
from tests.conftest import write_json

ADMIN = "ops@corp.example"


def world(n: int) -> dict:
    return {
        "users": [{"id": ADMIN, "name": "Ops"}],
        "accounts": [{"domain": "corp.example", "name": "Corp", "admins": [ADMIN],
                      "virtual_accounts": [{"name": "DEFAULT"}, {"name": "West"}]}],
        "devices": [{"serial_number": f"S{i:04d}", "pid": "D", "account": "corp.example"} for i in range(n)],
    }


@pytest.fixture
def corp(uow, tmp_path, monkeypatch):
    monkeypatch.setattr(execution, "CHUNK", 10)
    import_file(uow, write_json(tmp_path / "w.json", world(35)))
    view = request(uow, ADMIN, RequestSpec(source="corp.example", target="corp.example", target_va="West",
                                           asset_ids=tuple(f"S{i:04d}" for i in range(35))))
    return view.txn.id


def places(db):
    return dict(db.execute("SELECT id, virtual_account FROM assets").fetchall())


def test_an_asset_changed_by_another_process_between_chunks_fails_alone(uow, corp, db_target):
    other = open_database(db_target)
    calls = []

    def meanwhile(done, total):
        if not calls:  # after the first chunk: another process makes a later asset ineligible
            other.execute("UPDATE assets SET virtual_account = 'DEFAULT', pid = 'CHANGED' WHERE id = 'S0030'")
            other.execute("DELETE FROM assets WHERE id = 'S0031'")
        calls.append(done)

    view = submit(uow, ADMIN, corp, progress=meanwhile, item_limit=1000)
    assert calls[:2] == [10, 20]
    items = {i.asset_id: i for i in view.items}
    assert view.txn.status.value == "transfer_completed_with_failure"
    assert items["S0031"].result == "failed" and "no such asset" in items["S0031"].reason
    moved = places(uow.db)
    assert sum(1 for va in moved.values() if va == "West") == 34  # S0030 moved: still eligible (only pid changed)
    assert "S0031" not in moved


def test_an_ineligible_change_between_chunks_is_caught(uow, corp, db_target):
    other = open_database(db_target)
    other.execute("INSERT INTO virtual_accounts (account, name, ssm_onprem) VALUES ('corp.example', 'Sat', 1)")
    calls = []

    def meanwhile(done, total):
        if not calls:
            other.execute("UPDATE assets SET virtual_account = 'Sat' WHERE id = 'S0025'")
        calls.append(done)

    view = submit(uow, ADMIN, corp, progress=meanwhile, item_limit=1000)
    items = {i.asset_id: i for i in view.items}
    assert items["S0025"].result == "failed" and "SSM On-Prem" in items["S0025"].reason
    assert places(uow.db)["S0025"] == "Sat"
    assert sum(i.result == "transferred" for i in view.items) == 34


def test_without_outside_writes_the_chunks_are_not_checked_again(uow, corp, monkeypatch):
    checked = []
    real = execution._changed_items
    monkeypatch.setattr(execution, "_changed_items", lambda *a: checked.append(1) or real(*a))
    view = submit(uow, ADMIN, corp)
    # SQLite tells whether anyone else wrote (data_version); a server cannot cheaply, so there every chunk
    # of 35 items / 10 is checked.
    expected = [] if uow.db.dialect.sees_outside_writes else [1] * 4
    assert view.txn.status.value == "transfer_completed" and checked == expected


def test_a_resumed_transfer_checks_every_chunk_and_moves_nothing_twice(uow, corp, monkeypatch):
    class Crash(Exception):
        pass

    def crash(done, total):
        raise Crash()

    with pytest.raises(Crash):
        submit(uow, ADMIN, corp, progress=crash)
    assert uow.db.one("SELECT state FROM transactions") == "transfer_initiated"
    assert uow.db.one("SELECT count(*) FROM transaction_items WHERE result = 'transferred'") == 10
    checked = []
    real = execution._changed_items
    monkeypatch.setattr(execution, "_changed_items", lambda *a: checked.append(1) or real(*a))
    view = submit(uow, ADMIN, corp)
    assert view.txn.status.value == "transfer_completed" and len(checked) == 4  # every seq range, 35 / 10
    assert sum(1 for va in places(uow.db).values() if va == "West") == 35


def test_a_va_turned_ssm_onprem_stops_its_devices_at_submit(uow, corp, tmp_path):
    accounts = world(0)["accounts"]
    accounts[0]["virtual_accounts"] = [{"name": "DEFAULT", "ssm_onprem": True}, {"name": "West"}]
    import_file(uow, write_json(tmp_path / "flip.json", {"accounts": accounts}))
    from atm.domain.errors import RuleViolation

    with pytest.raises(RuleViolation, match="35 asset"):
        submit(uow, ADMIN, corp)


def test_every_kind_of_change_is_caught_by_the_suspect_query(uow, corp, db_target):
    other = open_database(db_target)
    other.execute("INSERT INTO virtual_accounts (account, name, ssm_onprem) VALUES ('corp.example', 'Sat', 1)")
    other.execute("INSERT INTO accounts (domain, name, legal_entity) VALUES ('else.example', 'E', 'E')")
    other.execute("INSERT INTO virtual_accounts (account, name) VALUES ('else.example', 'DEFAULT')")
    changes = {
        "S0001": "DELETE FROM assets WHERE id = 'S0001'",
        "S0002": "UPDATE assets SET virtual_account = 'Sat' WHERE id = 'S0002'",
        "S0003": "UPDATE assets SET account = 'else.example' WHERE id = 'S0003'",
        "S0004": "UPDATE assets SET virtual_account = 'West' WHERE id = 'S0004'",
    }
    for sql in changes.values():
        other.execute(sql)
    from atm.domain.errors import RuleViolation

    with pytest.raises(RuleViolation) as refused:
        submit(uow, ADMIN, corp)
    assert sorted(d.split(":")[0] for d in refused.value.details) == sorted(changes)
