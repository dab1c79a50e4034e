"""R5 and R13 run as set-based SQL over staged ids; the domain rule stays the definition.

A property test holds the SQL pre-selection and the domain rule together on random assets, and the plan of the
move statement is checked so that no whole-account scan comes back.
"""

from __future__ import annotations

import pytest
from hypothesis import HealthCheck, given, settings, strategies as st

from atm.domain.eligibility import Place, ineligibility, not_found
from atm.domain.side_effects import WarningTally, item_warning
from atm.domain.model import Device, License
from atm.storage.assets import asset_row
from atm.storage.database import open_database
from atm.storage.migrations import ensure_schema
from atm.storage.requests import RequestStage
from atm.storage.transfers import MOVE_CHUNK
from atm.storage.assets import INSERT as INSERT_ASSET
from tests import backends

SRC, DST, OTHER = "src.example", "dst.example", "other.example"
VAS = {SRC: {"DEFAULT": False, "Lab": True, "Spare": False}, DST: {"DEFAULT": False, "Prod": False},
       OTHER: {"DEFAULT": False}}
PLACES = [(a, v) for a, vs in VAS.items() for v in vs]


@pytest.fixture(scope="module")
def db(tmp_path_factory):
    database = open_database(backends.fresh_target(tmp_path_factory.mktemp("setbased")), create=True)
    ensure_schema(database)
    with database.transaction(write=True):
        database.execute("INSERT INTO users (id, name) VALUES ('u@x.example', 'U')")
        for account, vas in VAS.items():
            database.execute("INSERT INTO accounts (domain, name, legal_entity) VALUES (?, ?, ?)",
                             (account, account, account))
            for va, ssm in vas.items():
                database.execute("INSERT INTO virtual_accounts (account, name, ssm_onprem) VALUES (?, ?, ?)",
                                 (account, va, int(ssm)))
        database.execute("INSERT INTO transactions (id, source_account, target_account, target_va, same_company, "
                         "state, requested_by, created_at) VALUES ('ATM-HOLD', ?, ?, 'DEFAULT', 1, "
                         "'pending_submission', 'u@x.example', '2026-01-01T00:00:00Z')", (SRC, DST))
    yield database
    database.close()


@st.composite
def assets(draw):
    n = draw(st.integers(1, 25))
    out = []
    for i in range(n):
        account, va = draw(st.sampled_from(PLACES))
        flags = st.booleans()
        if draw(st.booleans()):
            qty = draw(st.integers(1, 5))
            out.append(License(f"SO{i}-1", account, va, "P", qty, str(i), "1", reserved=draw(flags),
                               in_use=draw(st.integers(0, qty)), enterprise_agreement=draw(flags),
                               pending_upgrade=draw(flags)))
        else:
            out.append(Device(f"SER{i}", f"SER{i}", "D", account, va, cslu=draw(flags), reserved=draw(flags),
                              pnp_status=draw(st.sampled_from([None, "", "Provisioned"]))))
    return out


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(found=assets(), booked=st.sets(st.integers(0, 24)), source_va=st.sampled_from([None, "DEFAULT", "Lab"]),
       target=st.sampled_from([(DST, "Prod"), (DST, "DEFAULT"), (SRC, "Spare"), (SRC, "DEFAULT")]),
       unknown=st.lists(st.sampled_from(["nope", "SO999-1"]), max_size=2, unique=True))
def test_the_sql_preselection_and_the_domain_rule_agree_on_random_assets(db, found, booked, source_va, target,
                                                                         unknown):
    held = {a.id for i, a in enumerate(found) if i in booked}
    db.begin(write=True)  # each example is rolled back
    try:
        db.execute("DELETE FROM transaction_items")
        db.execute("DELETE FROM assets")
        db.executemany(INSERT_ASSET, [asset_row(a) for a in found])
        db.executemany("INSERT INTO transaction_items (transaction_id, seq, asset_id, kind, from_va) "
                       "VALUES ('ATM-HOLD', ?, ?, ?, ?)",
                       [(n, a.id, a.kind, a.virtual_account) for n, a in enumerate(found, 1) if a.id in held])
        stage = RequestStage(db)
        ids = [a.id for a in found] + unknown
        stage.stage(ids)
        suspects = stage.suspects(SRC, source_va, *target)
        # The domain rule, asset by asset: what R5 stops (an asset outside the source is "not found", R2).
        src, dst = Place(SRC, source_va), Place(*target)
        by_id = {a.id: a for a in found}
        expected = {}
        for aid in ids:
            asset = by_id.get(aid)
            verdict = not_found(aid, SRC) if asset is None or asset.account != SRC else ineligibility(
                asset, in_ssm_onprem_va=VAS[asset.account][asset.virtual_account],
                active_transaction="ATM-HOLD" if aid in held else None, source=src, target=dst)
            if verdict is not None:
                expected[aid] = verdict
        # The SQL pre-selects exactly the assets the domain stops, with what the domain needs to say why.
        assert {given for _, given, _, _, _ in suspects} == set(expected)
        for seq, given_id, asset, in_ssm, active in suspects:
            if asset is not None and asset.account == SRC:
                assert ineligibility(asset, in_ssm_onprem_va=in_ssm, active_transaction=active, source=src,
                                     target=dst) == expected[given_id]
        stage.leave_out([seq for seq, *_ in suspects])
        kinds, effects = stage.tally()
        moving = [a for a in found if a.id not in expected]
        tally = WarningTally(target[0])
        codes = {a.id: tally.add(a) for a in moving}
        assert kinds == {k: n for k in ("license", "device") if (n := sum(a.kind == k for a in moving))}
        assert effects == tally.found  # R13: the same counts and the same first ids
        assert {aid: code for aid, _, code in stage.transferable()} == codes
        assert all(codes[a.id] == item_warning(a) for a in moving)
    finally:
        db.rollback()


@pytest.mark.sqlite_only  # SQLite's query plan
def test_a_chunk_is_moved_by_id_never_by_scanning_the_source_account(db):
    plan = [row[3] for row in db.execute(f"EXPLAIN QUERY PLAN {MOVE_CHUNK}",
                                         (DST, "Prod", "ATM-HOLD", 1, 5000, SRC))]
    assets = [step for step in plan if " assets " in f" {step} "]
    assert assets and all("(id=?)" in step for step in assets), plan
    assert not any("ix_assets_place" in step or step.startswith("SCAN assets") for step in plan), plan
