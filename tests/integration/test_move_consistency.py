"""R12: a chunk of a move never records a move that did not happen, nor the reverse.

Execution re-checks every item before it moves (tests/integration/test_execution.py),
so the storage's last consistency check is reached only when something slips
past those checks. Here the move is called directly on a chunk whose asset
left the source SA behind the checks' back.
"""

import pytest

from atm.domain.errors import StorageError
from atm.services.importing import import_file
from atm.services.transfers import RequestSpec, request
from atm.storage.database import open_database
from tests.conftest import write_json

ADMIN = "ops@corp.example"
DEVICES = ("S1", "S2", "S3")


@pytest.fixture
def txn_id(uow, tmp_path) -> str:
    world = {
        "users": [{"id": ADMIN, "name": "Ops"}],
        "accounts": [
            {"domain": "corp.example", "name": "Corp", "admins": [ADMIN],
             "virtual_accounts": [{"name": "DEFAULT"}, {"name": "West"}]},
            {"domain": "else.example", "name": "Else", "admins": [ADMIN]},
        ],
        "devices": [{"serial_number": s, "pid": "D", "account": "corp.example"} for s in DEVICES],
    }
    import_file(uow, write_json(tmp_path / "w.json", world))
    view = request(uow, ADMIN, RequestSpec(source="corp.example", target="corp.example", target_va="West",
                                           asset_ids=DEVICES))
    return view.txn.id


def test_r12_a_chunk_whose_moves_and_items_disagree_is_refused_and_rolled_back_whole(uow, txn_id, db_target):
    other = open_database(db_target)
    other.execute("UPDATE assets SET account = 'else.example' WHERE id = 'S2'")  # behind atm's back
    other.close()
    with pytest.raises(StorageError, match="consistency check"):
        with uow.write():
            txn = uow.transfers.get(txn_id)
            uow.transfers.move_pending(txn, first_seq=1, last_seq=len(DEVICES))
            uow.commit()
    places = dict(uow.db.execute("SELECT id, account || '/' || virtual_account FROM assets").fetchall())
    assert places == {"S1": "corp.example/DEFAULT", "S2": "else.example/DEFAULT", "S3": "corp.example/DEFAULT"}
    assert {r for (r,) in uow.db.execute("SELECT result FROM transaction_items")} == {"pending"}
