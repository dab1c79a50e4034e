"""A request's asset ids, staged in a temporary table so R5 and R13 run as set-based SQL (docs/rules.md).

A hundred thousand ids never become Python objects: the database resolves them (exactly, then whatever their
case), returns only the suspects that the domain rule must judge, counts the side effects, and writes the items
with one INSERT ... SELECT.
"""

from __future__ import annotations

from typing import Sequence

from atm.domain.side_effects import R13, SideEffect, WARNING_SAMPLE
from atm.domain.model import Asset
from atm.storage.assets import COLUMNS as ASSET_COLUMNS, row_asset
from atm.storage.database import Database

STAGE = "atm_request"
TEXT_FIELDS = frozenset({"pnp_status"})


def effect_sql(effect: SideEffect, alias: str = "a") -> str:
    """An R13 side effect (domain data) as an SQL condition on an asset row."""
    terms = []
    if effect.kind is not None:
        terms.append(f"{alias}.kind = '{effect.kind}'")
    if effect.field is not None:
        empty = "''" if effect.field in TEXT_FIELDS else "0"
        terms.append(f"COALESCE({alias}.{effect.field}, {empty}) != {empty}")
    return "(" + " AND ".join(terms or ["1 = 1"]) + ")"


def item_warning_sql(alias: str = "a") -> str:
    """The item's own R13 code: the first per-item side effect that applies, as in the domain."""
    whens = " ".join(f"WHEN {effect_sql(e, alias)} THEN '{e.code}'" for e in R13 if e.per_item)
    return f"CASE {whens} END"


class RequestStage:
    """The ids of one request, in the order given, in a temporary table of this connection."""

    def __init__(self, db: Database) -> None:
        self.db = db

    def stage(self, ids: Sequence[str]) -> None:
        """Stage the ids (already without exact duplicates), each taken to name the asset of that exact id.
        In a write, the assets named are locked before anything about them is read (see `_lock`)."""
        text = self.db.dialect.text
        self.db.execute(self.db.dialect.temp_table(
            STAGE, f"seq INTEGER PRIMARY KEY, given {text} NOT NULL, asset {text} NOT NULL, "
                   "skip INTEGER NOT NULL DEFAULT 0"))
        self.db.execute(f"DELETE FROM {STAGE}")
        self.db.executemany(f"INSERT INTO {STAGE} (seq, given, asset) VALUES (?, ?, ?)",
                            ((seq, i, i) for seq, i in enumerate(ids, start=1)))
        self._lock(f"a.id IN (SELECT asset FROM {STAGE})")

    def _lock(self, condition: str) -> None:
        """R5 under row locks (a server): lock the requested assets, in id order so that two requests never
        deadlock, before R5 is judged. A request that waited reads what the other committed: the asset is then
        held by the other's transaction, and refused by name. (SQLite's write lock already covers them.)"""
        sql = self.db.dialect.lock_rows(f"SELECT a.id FROM assets a WHERE {condition} ORDER BY a.id")
        if sql is not None and self.db.writing:
            self.db.execute(sql)

    def resolve_any_case(self, seqs: Sequence[int]) -> int:
        """Ids that name no asset exactly may name one in another case: take it when it is exactly one (then a
        later mention of an asset already asked for is dropped). Returns how many were resolved."""
        resolved = self.db.executemany(
            f"UPDATE {STAGE} SET asset = (SELECT min(a.id) FROM assets a WHERE lower(a.id) = lower({STAGE}.given)) "
            f"WHERE seq = ? AND (SELECT count(*) FROM assets a WHERE lower(a.id) = lower({STAGE}.given)) = 1",
            [(seq,) for seq in seqs]).rowcount
        if resolved:
            self.db.execute(self.db.dialect.temp_index(f"ix_{STAGE}_asset", STAGE, "asset"))
            self.db.execute(f"DELETE FROM {STAGE} WHERE seq > (SELECT min(r.seq) FROM {STAGE} r "
                            f"WHERE r.asset = {STAGE}.asset)")
            self._lock(f"a.id IN (SELECT asset FROM {STAGE} WHERE asset != given)")
        return resolved

    def suspects(self, source: str, source_va: str | None, target: str, target_va: str
                 ) -> list[tuple[int, str, Asset | None, bool, str | None]]:
        """(seq, id given, asset or None, in an SSM On-Prem VA, unfinished transaction holding it) of every staged
        asset that R5 may stop: the rows the domain rule must judge. The condition mirrors
        `atm.domain.eligibility.ineligibility` term by term (a property test holds them together)."""
        where = ["a.id IS NULL", "a.account != ?", "(a.account = ? AND a.virtual_account = ?)",
                 "(a.kind = 'license' AND (a.enterprise_agreement != 0 OR a.pending_upgrade != 0))",
                 "(a.kind = 'device' AND v.ssm_onprem != 0)", "act.asset_id IS NOT NULL"]
        params: list = [source, target, target_va]
        if source_va is not None:
            where.insert(2, "a.virtual_account != ?")
            params.insert(1, source_va)
        rows = self.db.execute(
            "SELECT r.seq, r.given, v.ssm_onprem, act.transaction_id, "
            + ", ".join(f"a.{c}" for c in ASSET_COLUMNS)
            + f" FROM {STAGE} r LEFT JOIN assets a ON a.id = r.asset"
            " LEFT JOIN virtual_accounts v ON v.account = a.account AND v.name = a.virtual_account"
            " LEFT JOIN transaction_items act ON act.asset_id = r.asset AND act.active = 1"
            f" WHERE {' OR '.join(where)} ORDER BY r.seq", params).fetchall()
        return [(row[0], row[1], row_asset(row[4:]) if row[4] is not None else None, bool(row[2]), row[3])
                for row in rows]

    def leave_out(self, seqs: Sequence[int]) -> None:
        self.db.executemany(f"UPDATE {STAGE} SET skip = 1 WHERE seq = ?", [(s,) for s in seqs])

    def tally(self) -> tuple[dict[str, int], dict[str, tuple[int, tuple[str, ...]]]]:
        """What will be transferred (kind -> how many), and its R13 side effects (code -> how many assets, the
        first ids in request order), in one pass over the staged assets."""
        sums = ", ".join(f"sum(CASE WHEN {effect_sql(e)} THEN 1 ELSE 0 END)" for e in R13)
        row = self.db.execute(f"SELECT sum(CASE WHEN a.kind = 'license' THEN 1 ELSE 0 END), "
                              f"sum(CASE WHEN a.kind = 'device' THEN 1 ELSE 0 END), {sums} "
                              f"FROM {STAGE} r JOIN assets a ON a.id = r.asset WHERE r.skip = 0").fetchone()
        kinds = {kind: n for kind, n in zip(("license", "device"), row[:2]) if n}
        found = {}
        for effect, n in zip(R13, row[2:]):
            if n:
                first = tuple(r[0] for r in self.db.execute(
                    f"SELECT a.id FROM {STAGE} r JOIN assets a ON a.id = r.asset WHERE r.skip = 0 AND "
                    f"{effect_sql(effect)} ORDER BY r.seq LIMIT {WARNING_SAMPLE}"))
                found[effect.code] = (n, first)
        return kinds, found

    def transferable(self) -> list[tuple[str, str, str | None]]:
        """(id, kind, item warning) of what will be transferred, in request order (for a dry run)."""
        return self.db.execute(f"SELECT a.id, a.kind, {item_warning_sql()} FROM {STAGE} r JOIN assets a "
                               "ON a.id = r.asset WHERE r.skip = 0 ORDER BY r.seq").fetchall()

    def write_items(self, txn_id: str) -> int:
        """The transaction's items, numbered from 1 in request order, each with its R13 code."""
        return self.db.execute(
            "INSERT INTO transaction_items (transaction_id, seq, asset_id, kind, from_va, warning) "
            f"SELECT ?, row_number() OVER (ORDER BY r.seq), a.id, a.kind, a.virtual_account, {item_warning_sql()} "
            f"FROM {STAGE} r JOIN assets a ON a.id = r.asset WHERE r.skip = 0", (txn_id,)).rowcount

    def clear(self) -> None:
        self.db.execute(f"DELETE FROM {STAGE}")
