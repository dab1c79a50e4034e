"""Crashes and concurrent processes on one database (R5, R12; exit code 5, docs/exit-codes.md).

Every test runs the installed `atm` as real processes against the test's own
ATM_DB (an SQLite file, or a schema on the PostgreSQL leg), and checks the
database with a separate connection of the test (tests/backends.py):

- a transfer killed with SIGKILL mid-way leaves every asset in exactly one
  place and `atm submit` again resumes it without moving anything twice (R12);
- concurrent `atm request`s for the same assets create exactly one
  transaction; the others are refused by R5 naming the transaction (R5);
- concurrent `atm submit`s of one transaction move it exactly once;
- a process that cannot get the write lock fails with exit 5 within a bounded
  time and changes nothing.
"""

from __future__ import annotations

import json
import os
import random
import signal
import sqlite3
import subprocess
import time
from contextlib import closing
from pathlib import Path

import pytest

from tests import backends
from tests.conftest import atm_executable, interruptible, write_json

ADMIN = "ops@corp.example"
EAST, WEST = "east.corp.example", "west.corp.example"  # two SAs of one company
ONE_SA = "corp.example"  # one SA with two VAs
TARGET_VA = "Target"
BYSTANDERS = 7  # assets of the source that are not requested and must never move


# --- worlds ---------------------------------------------------------------------------


def world(n: int, *, two_accounts: bool) -> tuple[dict, list[str]]:
    """An import document with `n` transferable assets (about half license lines with minor lines, half
    devices) in the source, plus a few bystanders; returns it with the ids to request."""
    users = [{"id": ADMIN, "name": "Ops Admin"}]
    if two_accounts:
        accounts = [
            {"domain": EAST, "name": "Corp East", "legal_entity": "Corp KK",
             "virtual_accounts": [{"name": "DEFAULT"}, {"name": "Lab"}], "admins": [ADMIN]},
            {"domain": WEST, "name": "Corp West", "legal_entity": "Corp KK",
             "virtual_accounts": [{"name": "DEFAULT"}, {"name": TARGET_VA}], "admins": [ADMIN]},
        ]
        source = EAST
    else:
        accounts = [{"domain": ONE_SA, "name": "Corp", "legal_entity": "Corp KK",
                     "virtual_accounts": [{"name": "DEFAULT"}, {"name": TARGET_VA}], "admins": [ADMIN]}]
        source = ONE_SA
    n_licenses = n // 2
    licenses, devices, ids = [], [], []
    for i in range(n_licenses):
        order, line = 10_000_000 + i // 4, str(i % 4 + 1)
        va = "Lab" if two_accounts and i % 5 == 0 else "DEFAULT"
        licenses.append({
            "account": source, "virtual_account": va, "sales_order": str(order), "line": line,
            "pid": "C9300-DNA-E-24-3Y", "quantity": 10,
            "minor_lines": [{"line": f"{line}.1", "pid": "C9300-DNA-E-24", "quantity": 10}] if i % 3 == 0 else [],
        })
        ids.append(f"SO{order}-{line}")
    for i in range(n - n_licenses):
        serial = f"FOC{i:08d}"
        va = "Lab" if two_accounts and i % 7 == 0 else "DEFAULT"
        devices.append({"serial_number": serial, "pid": "C9300-24T", "account": source, "virtual_account": va})
        ids.append(serial)
    for i in range(BYSTANDERS):
        devices.append({"serial_number": f"STAY{i}", "pid": "C9300-24T", "account": source})
    return {"users": users, "accounts": accounts, "licenses": licenses, "devices": devices}, ids


def load_world(run_atm, tmp_path: Path, n: int, *, two_accounts: bool) -> list[str]:
    doc, ids = world(n, two_accounts=two_accounts)
    result = run_atm("import", str(write_json(tmp_path / "world.json", doc)), timeout=300)
    assert result.returncode == 0, result.stderr
    (tmp_path / "ids.txt").write_text("\n".join(ids) + "\n", encoding="utf-8")
    return ids


def request_args(tmp_path: Path, *, two_accounts: bool) -> list[str]:
    source, target = (EAST, WEST) if two_accounts else (ONE_SA, ONE_SA)
    return ["request", "--from", source, "--to", target, "--to-va", TARGET_VA, "--same-company", "yes",
            "--assets-file", str(tmp_path / "ids.txt"), "--json"]


def make_request(run_atm, tmp_path: Path, *, two_accounts: bool) -> str:
    result = run_atm(*request_args(tmp_path, two_accounts=two_accounts), env={"ATM_USER": ADMIN}, timeout=300)
    assert result.returncode == 0, result.stderr
    view = json.loads(result.stdout)
    assert view["state"] == "pending_submission"
    return view["transaction_id"]


# --- processes and the database ----------------------------------------------------------


def start_atm(*args: str, env: dict | None = None) -> subprocess.Popen:
    """Start `atm` without waiting (the test's ATM_DB comes from the environment)."""
    full_env = dict(os.environ, ATM_USER=ADMIN, **(env or {}))
    return subprocess.Popen(atm_executable() + list(args), env=full_env, stdin=subprocess.DEVNULL,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, preexec_fn=interruptible)


def finish(procs: list[subprocess.Popen], timeout: float = 300) -> list[tuple[int, str, str]]:
    out = []
    for p in procs:
        stdout, stderr = p.communicate(timeout=timeout)
        out.append((p.returncode, stdout, stderr))
    return out


def start_together(commands: list[list[str]]) -> list[tuple[int, str, str]]:
    """Start every command at once (ATM_LOCK_TIMEOUT=30) and let them race for real.

    Starting a process takes longer than a small request, so without help they would mostly run one after
    the other. The test holds the write lock while they start, waits until each has the database open, then
    releases it: they all meet at the lock.
    """
    gate = hold_write_lock()
    try:
        procs = [start_atm(*cmd, env={"ATM_LOCK_TIMEOUT": "30"}) for cmd in commands]
        wait_until_waiting(procs, db_file())
        time.sleep(0.5)  # from opening the file to asking for the lock: a few PRAGMAs
    finally:
        gate.rollback()
        gate.close()
    return finish(procs)


def wait_until_waiting(procs: list[subprocess.Popen], db: str, timeout: float = 30) -> None:
    """Until every process waits at the gate: on a server, waits for a lock; with an SQLite file, has the file
    open (Linux /proc; elsewhere a fixed pause)."""
    if backends.is_server(db):
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline and \
                backends.waiting_for_locks(db) < sum(1 for p in procs if p.poll() is None):
            time.sleep(0.02)
        return
    if not Path("/proc/self/fd").is_dir():
        time.sleep(3)
        return
    target = str(Path(db).resolve())
    deadline = time.monotonic() + timeout
    waiting = list(procs)
    while waiting and time.monotonic() < deadline:
        for p in list(waiting):
            try:
                fds = os.listdir(f"/proc/{p.pid}/fd")
                if any(os.readlink(f"/proc/{p.pid}/fd/{fd}") == target for fd in fds):
                    waiting.remove(p)
            except OSError:  # it exited already, or an fd closed while we looked
                if p.poll() is not None:
                    waiting.remove(p)
        time.sleep(0.01)


def hold_write_lock():
    """Take what atm's writers wait for, from a connection of the test: the SQLite write lock (BEGIN
    IMMEDIATE), or on a server the tables whose rows atm locks."""
    return backends.hold_write_lock(db_file())


def db_file() -> str:
    return os.environ["ATM_DB"]


def connect_read_only():
    """A separate, read-only connection: it sees only what atm committed."""
    if backends.is_server(db_file()):
        return backends.connect(db_file())
    return sqlite3.connect(f"file:{db_file()}?mode=ro", uri=True, timeout=30)


def read_only():
    return closing(connect_read_only())


def one(conn, sql: str, params=()):
    return conn.execute(sql, params).fetchone()[0]


def places(conn) -> dict[tuple[str, str], int]:
    return {(a, va): n for a, va, n in conn.execute(
        "SELECT account, virtual_account, count(*) FROM assets GROUP BY account, virtual_account")}


def item_counts(conn, txn: str) -> dict[str, int]:
    return dict(conn.execute("SELECT result, count(*) FROM transaction_items WHERE transaction_id = ? "
                             "GROUP BY result", (txn,)).fetchall())


def events_to(conn, txn: str) -> list[str]:
    return [s for (s,) in conn.execute("SELECT to_state FROM events WHERE transaction_id = ? ORDER BY id", (txn,))]


def assert_each_asset_in_one_place(conn, txn: str, all_ids: set[str], source: str,
                                   target: tuple[str, str]) -> None:
    """R12: every asset exists once, and an item is 'transferred' exactly when its asset is at the target."""
    assert backends.integrity_ok(conn)
    total = len(all_ids) + BYSTANDERS
    assert sum(places(conn).values()) == total
    assert one(conn, "SELECT count(DISTINCT id) FROM assets") == total
    ids_now = {i for (i,) in conn.execute("SELECT id FROM assets")}
    assert all_ids <= ids_now and len(ids_now) == total
    moved = one(conn, "SELECT count(*) FROM transaction_items WHERE transaction_id = ? AND result = 'transferred'",
                (txn,))
    assert places(conn).get(target, 0) == moved
    # Item by item: transferred <=> the asset sits in the target; pending <=> it is still in the source.
    mismatched = one(conn, """
        SELECT count(*) FROM transaction_items i JOIN assets a ON a.id = i.asset_id
        WHERE i.transaction_id = ? AND ((i.result = 'transferred') != (a.account = ? AND a.virtual_account = ?))
    """, (txn, *target))
    assert mismatched == 0
    assert one(conn, "SELECT count(*) FROM transaction_items WHERE transaction_id = ?", (txn,)) == len(all_ids)
    stayed = one(conn, "SELECT count(*) FROM assets WHERE id LIKE 'STAY%' AND account = ? AND virtual_account = ?",
                 (source, "DEFAULT"))
    assert stayed == BYSTANDERS


# --- a. kill -9 during a large transfer, then resume (R12) -------------------------------------


def kill_mid_transfer(txn: str, total: int) -> int | None:
    """Start `atm submit` and SIGKILL it part-way; the committed count seen at the kill, or None if it finished.

    The poller waits for two committed chunks to learn how long a chunk takes, then kills at a random moment
    of the next one, so that over runs the kill lands anywhere in a chunk (reading, moving, marking, commit).
    """
    proc = start_atm("submit", txn)
    conn = connect_read_only()
    seen, first_at, delay = 0, None, None
    try:
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline and proc.poll() is None:
            try:
                now_seen = one(conn, "SELECT count(*) FROM transaction_items WHERE transaction_id = ? "
                                     "AND result = 'transferred'", (txn,))
            except sqlite3.OperationalError:  # a busy moment of the writer; poll again
                now_seen = seen
            if now_seen >= total:
                break  # too late: everything is moved
            if now_seen > seen:
                if first_at is None:
                    first_at = time.monotonic()
                else:
                    delay = random.uniform(0, time.monotonic() - first_at)
                    time.sleep(delay)
                    os.kill(proc.pid, signal.SIGKILL)
                    break
                seen = now_seen
            time.sleep(0.002)
    finally:
        conn.close()
        stdout, stderr = proc.communicate(timeout=120)
    if proc.returncode != -signal.SIGKILL:
        assert proc.returncode == 0, f"atm submit failed before the kill: {stderr}"
        return None  # it finished before we could kill it
    print(f"killed atm submit {delay:.3f} s after the 2nd committed chunk")
    return now_seen


@pytest.mark.slow
def test_kill_9_during_a_large_transfer_then_resume(run_atm, tmp_path):
    n = 60_000
    target = (WEST, TARGET_VA)
    for attempt in range(3):
        if attempt:  # a fresh world, larger, when the transfer outran the poller
            n *= 2
            backends.reset_target(db_file())
        ids = load_world(run_atm, tmp_path, n, two_accounts=True)
        txn = make_request(run_atm, tmp_path, two_accounts=True)
        seen = kill_mid_transfer(txn, n)
        if seen is not None:
            break
    else:
        pytest.fail("atm submit finished every time before it could be killed")
    all_ids = set(ids)

    # After the crash: still Transfer Initiated, every asset in exactly one place.
    with read_only() as conn:
        assert one(conn, "SELECT state FROM transactions WHERE id = ?", (txn,)) == "transfer_initiated"
        counts = item_counts(conn, txn)
        print(f"killed {txn} after {seen} committed moves; after the kill: {counts}")
        assert 0 < counts.get("transferred", 0) < n, counts
        assert counts.get("transferred", 0) >= seen  # what was committed stays committed
        assert set(counts) <= {"pending", "transferred"}
        assert_each_asset_in_one_place(conn, txn, all_ids, EAST, target)
        assert events_to(conn, txn).count("transfer_completed") == 0
    shown = run_atm("status", txn, "--json", env={"ATM_USER": ADMIN})
    assert shown.returncode == 0, shown.stderr
    assert json.loads(shown.stdout)["state"] == "transfer_initiated"

    # Resume: the same command again finishes it, moving only what had not moved.
    resumed = run_atm("submit", txn, "--json", env={"ATM_USER": ADMIN}, timeout=300)
    assert resumed.returncode == 0, resumed.stderr
    assert "Traceback" not in resumed.stderr
    view = json.loads(resumed.stdout)
    assert view["state"] == "transfer_completed"
    assert len(view["items"]) == n and {i["result"] for i in view["items"]} == {"transferred"}
    with read_only() as conn:
        assert one(conn, "SELECT state FROM transactions WHERE id = ?", (txn,)) == "transfer_completed"
        assert item_counts(conn, txn) == {"transferred": n}
        assert_each_asset_in_one_place(conn, txn, all_ids, EAST, target)
        assert places(conn) == {target: n, (EAST, "DEFAULT"): BYSTANDERS}
        # Nothing moved twice, nothing held: one completion, n moved, every item released.
        assert events_to(conn, txn) == ["validation_initiated", "validation_completed", "pending_submission",
                                        "submitted", "transfer_initiated", "transfer_completed"]
        note = one(conn, "SELECT note FROM events WHERE transaction_id = ? AND to_state = 'transfer_completed'",
                   (txn,))
        assert note == f"{n:,} transferred, 0 failed"
        assert one(conn, "SELECT count(*) FROM transaction_items WHERE active = 1") == 0
        assert one(conn, "SELECT count(*) FROM minor_lines") == sum(1 for i in range(n // 2) if i % 3 == 0)
    expect = run_atm("status", txn, "--expect", "transfer_completed", env={"ATM_USER": ADMIN})
    assert expect.returncode == 0, expect.stderr
    again = run_atm("submit", txn, env={"ATM_USER": ADMIN})
    assert again.returncode == 1 and "cannot submit" in again.stderr and "Transfer Completed" in again.stderr


# --- b. concurrent requests for the same assets (R5) ---------------------------------------------


@pytest.mark.slow
def test_concurrent_requests_for_the_same_assets_create_one_transaction(run_atm, tmp_path):
    ids = load_world(run_atm, tmp_path, 200, two_accounts=False)
    args = request_args(tmp_path, two_accounts=False)
    results = start_together([args] * 6)

    for code, _, stderr in results:
        assert "Traceback" not in stderr
        assert code in (0, 1), f"unexpected exit {code}: {stderr}"
    winners = [json.loads(out) for code, out, _ in results if code == 0]
    assert len(winners) == 1, [(code, err[:300]) for code, _, err in results]
    txn = winners[0]["transaction_id"]
    assert len(winners[0]["items"]) == 200
    for code, stdout, stderr in results:
        if code == 0:
            continue
        assert stdout.strip() == ""
        first, *details = stderr.strip().splitlines()
        assert first.startswith("Error: 200 of 200 asset(s) may not be transferred (R5); nothing was created")
        assert len(details) == 200
        named = {line.split(":")[0].strip() for line in details}
        assert named == set(ids)
        assert all(f"is already in transaction {txn}, which has not ended" in line for line in details)

    with read_only() as conn:
        assert one(conn, "SELECT count(*) FROM transactions") == 1
        assert one(conn, "SELECT id FROM transactions") == txn
        assert one(conn, "SELECT count(*) FROM transaction_items") == 200
        per_asset = dict(conn.execute("SELECT asset_id, count(*) FROM transaction_items WHERE active = 1 "
                                      "GROUP BY asset_id").fetchall())
        assert per_asset == {i: 1 for i in ids}
        assert events_to(conn, txn) == ["validation_initiated", "validation_completed", "pending_submission"]
        assert places(conn) == {(ONE_SA, "DEFAULT"): 200 + BYSTANDERS}


# --- c. concurrent submits of one transaction (R12) -----------------------------


@pytest.mark.slow
def test_concurrent_submits_move_the_transaction_once(run_atm, tmp_path):
    n = 20_000
    ids = load_world(run_atm, tmp_path, n, two_accounts=False)
    txn = make_request(run_atm, tmp_path, two_accounts=False)
    results = start_together([["submit", txn, "--json"]] * 4)
    print("concurrent submits exited", [code for code, _, _ in results])

    for code, stdout, stderr in results:
        assert "Traceback" not in stderr
        if code == 0:
            # It submitted, or resumed a Transfer Initiated one (docs/rules.md); either way it saw the end.
            assert json.loads(stdout)["state"] == "transfer_completed"
        else:
            # It got the lock only after the end: a completed transfer is refused (R7, R9).
            assert code == 1, f"unexpected exit {code}: {stderr}"
            assert stderr.startswith(f"Error: cannot submit {txn}: it is Transfer Completed"), stderr
    assert any(code == 0 for code, _, _ in results)

    with read_only() as conn:
        assert one(conn, "SELECT state FROM transactions WHERE id = ?", (txn,)) == "transfer_completed"
        assert item_counts(conn, txn) == {"transferred": n}
        assert places(conn) == {(ONE_SA, TARGET_VA): n, (ONE_SA, "DEFAULT"): BYSTANDERS}
        in_target = {i for (i,) in conn.execute("SELECT id FROM assets WHERE virtual_account = ?", (TARGET_VA,))}
        assert in_target == set(ids)
        states = events_to(conn, txn)
        assert states.count("submitted") == 1
        assert states.count("transfer_initiated") == 1
        assert states.count("transfer_completed") == 1
        assert states == ["validation_initiated", "validation_completed", "pending_submission", "submitted",
                          "transfer_initiated", "transfer_completed"]
        assert one(conn, "SELECT count(*) FROM notifications WHERE transaction_id = ? AND kind = 'completed'",
                   (txn,)) == 1
        assert backends.integrity_ok(conn)


# --- d. a held write lock: bounded wait, exit 5, nothing written -----------------------------------


def test_a_request_waits_a_bounded_time_for_the_lock_then_exits_5(run_atm, tmp_path):
    load_world(run_atm, tmp_path, 20, two_accounts=False)
    args = request_args(tmp_path, two_accounts=False)
    holder = hold_write_lock()
    try:
        start = time.monotonic()
        result = run_atm(*args, env={"ATM_USER": ADMIN, "ATM_LOCK_TIMEOUT": "1"}, timeout=60)
        elapsed = time.monotonic() - start
    finally:
        holder.rollback()
        holder.close()
    assert result.returncode == 5, (result.returncode, result.stderr)
    assert result.stdout == ""
    first = result.stderr.splitlines()[0]
    assert first.startswith("Error: ") and "busy" in first and "write lock" in first
    assert "ATM_LOCK_TIMEOUT" in result.stderr
    assert "Traceback" not in result.stderr
    assert 0.9 <= elapsed < 10, elapsed  # it waited for the lock, and not for long

    with read_only() as conn:
        for table in ("transactions", "transaction_items", "events", "consents", "notifications"):
            assert one(conn, f"SELECT count(*) FROM {table}") == 0, table
    # The lock was the only reason: once it is free the same request goes through.
    again = run_atm(*args, env={"ATM_USER": ADMIN, "ATM_LOCK_TIMEOUT": "1"})
    assert again.returncode == 0, again.stderr


def test_a_submit_waits_a_bounded_time_for_the_lock_then_exits_5(run_atm, tmp_path):
    load_world(run_atm, tmp_path, 20, two_accounts=False)
    txn = make_request(run_atm, tmp_path, two_accounts=False)
    holder = hold_write_lock()
    try:
        start = time.monotonic()
        result = run_atm("submit", txn, env={"ATM_USER": ADMIN, "ATM_LOCK_TIMEOUT": "1"}, timeout=60)
        elapsed = time.monotonic() - start
    finally:
        holder.rollback()
        holder.close()
    assert result.returncode == 5, (result.returncode, result.stderr)
    assert "busy" in result.stderr.splitlines()[0] and "Traceback" not in result.stderr
    assert elapsed < 10
    with read_only() as conn:
        assert one(conn, "SELECT state FROM transactions WHERE id = ?", (txn,)) == "pending_submission"
        assert item_counts(conn, txn) == {"pending": 20}
        assert places(conn) == {(ONE_SA, "DEFAULT"): 20 + BYSTANDERS}
