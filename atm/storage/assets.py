"""Assets (license lines with minor lines, devices) in SQL. Bulk writes are executemany."""

from __future__ import annotations

from dataclasses import dataclass
from itertools import repeat
from typing import TYPE_CHECKING, Iterator, Sequence

from atm.domain.model import Asset, Device, License, MinorLine
from atm.storage.database import Database, contains_pattern, placeholders

if TYPE_CHECKING:
    from atm.domain.record_batches import NewAssets

COLUMNS = (
    "id", "kind", "account", "virtual_account", "pid", "license_type", "sales_order", "reserved",
    "line", "quantity", "web_order", "subscription_id", "pak", "in_use", "enterprise_agreement",
    "pending_upgrade", "serial_number", "host_id", "uuid", "pnp_status", "cslu",
)
SELECT = "SELECT " + ", ".join(COLUMNS) + " FROM assets"
INSERT = f"INSERT INTO assets ({', '.join(COLUMNS)}) VALUES ({placeholders(len(COLUMNS))})"
UPDATE = "UPDATE assets SET " + ", ".join(f"{c} = ?" for c in COLUMNS[1:]) + " WHERE id = ?"
SEARCHABLE = (
    "id", "pid", "license_type", "sales_order", "line", "web_order", "subscription_id", "pak",
    "serial_number", "host_id", "uuid", "pnp_status",
)
# Exact-match filters of `atm assets list` (docs/json.md), each served by an index.
FILTER_COLUMNS = {
    "sales_order": "sales_order", "web_order": "web_order", "subscription": "subscription_id",
    "pak": "pak", "serial": "serial_number", "pid": "pid", "host_id": "host_id", "uuid": "uuid",
}
# Real-world keys people type in any case (docs/import.md); the serial number is stored in upper case instead.
ANY_CASE = frozenset({"pak", "host_id", "uuid"})
# What a column holds for an asset of the other kind (asset_row): 0 for a flag, else NULL.
FLAG_COLUMNS = ("reserved", "enterprise_agreement", "pending_upgrade", "cslu")
NULL_OR_ZERO = {c: 0 if c in FLAG_COLUMNS else None for c in COLUMNS}
CHUNK = 500
BY_ID_CHUNK = 5000  # well under SQLite's 32,766 bound parameters


def asset_row(asset: Asset) -> tuple:
    if isinstance(asset, License):
        return (
            asset.id, "license", asset.account, asset.virtual_account, asset.pid, asset.license_type,
            asset.sales_order, int(asset.reserved), asset.line, asset.quantity, asset.web_order,
            asset.subscription_id, asset.pak, asset.in_use, int(asset.enterprise_agreement),
            int(asset.pending_upgrade), None, None, None, None, 0,
        )
    return (
        asset.id, "device", asset.account, asset.virtual_account, asset.pid, asset.license_type,
        asset.sales_order, int(asset.reserved), None, None, None, None, None, None, 0, 0,
        asset.serial_number, asset.host_id, asset.uuid, asset.pnp_status, int(asset.cslu),
    )


def row_asset(row: Sequence, minor: tuple[MinorLine, ...] = ()) -> Asset:
    # Positional construction, in the dataclasses' field order: this runs for every asset a command reads.
    (aid, kind, account, va, pid, ltype, so, reserved, line, qty, wo, sub, pak, in_use, ea, pu,
     serial, host, uuid, pnp, cslu) = row
    if kind == "license":
        return License(aid, account, va, pid, qty, so, line, wo, sub, pak, ltype, in_use or 0, bool(ea),
                       bool(reserved), bool(pu), minor)
    return Device(aid, serial, pid, account, va, host, uuid, ltype, pnp, so, bool(cslu), bool(reserved))


@dataclass(frozen=True)
class AssetFilter:
    """Plain values describing which assets of one SA to list."""

    account: str
    virtual_account: str | None = None
    kind: str | None = None  # "license", "device" or None for both
    exact: tuple[tuple[str, str], ...] = ()  # (filter name, value) pairs, see FILTER_COLUMNS
    search: str | None = None


class AssetRepository:
    def __init__(self, db: Database) -> None:
        self.db = db

    # --- reads ---------------------------------------------------------------

    def iter_matching(self, flt: AssetFilter, *, limit: int | None = None) -> Iterator[list[Asset]]:
        """Chunks of the assets of one SA that match the filter, licenses first, in id order."""
        where = ["account = ?"]
        params: list = [flt.account]
        if flt.virtual_account is not None:
            where.append("virtual_account = ?")
            params.append(flt.virtual_account)
        if flt.kind is not None:
            where.append("kind = ?")
            params.append(flt.kind)
        for name, value in flt.exact:
            column = FILTER_COLUMNS[name]
            if column in ANY_CASE:  # served by an index on lower(column)
                where.append(f"lower({column}) = ?")
                params.append(value.lower())
            else:
                where.append(f"{column} = ?")
                # The serial number is stored in upper case: one device whatever its case.
                params.append(value.upper() if column == "serial_number" else value)
        if flt.search:
            pattern = contains_pattern(flt.search)
            where.append(
                "(" + " OR ".join(f"lower({c}) LIKE ? ESCAPE '\\'" for c in SEARCHABLE)
                + " OR EXISTS (SELECT 1 FROM minor_lines m WHERE m.license_id = assets.id"
                " AND lower(m.pid) LIKE ? ESCAPE '\\'))"
            )
            params.extend([pattern] * (len(SEARCHABLE) + 1))
        sql = f"{SELECT} WHERE {' AND '.join(where)} ORDER BY kind DESC, id"
        if limit is not None:
            sql += f" LIMIT {int(limit)}"
        cursor = self.db.execute(sql, params)
        while True:
            rows = cursor.fetchmany(CHUNK)
            if not rows:
                return
            minor = self.minor_lines([r[0] for r in rows if r[1] == "license"])
            yield [row_asset(row, minor.get(row[0], ())) for row in rows]

    def by_ids(self, ids: Sequence[str], *, minor_lines: bool = True) -> dict[str, Asset]:
        """Assets by id; without `minor_lines` the licenses come without them (enough for R5 and R13)."""
        out: dict[str, Asset] = {}
        for start in range(0, len(ids), BY_ID_CHUNK):
            chunk = list(ids[start:start + BY_ID_CHUNK])
            rows = self.db.execute(f"{SELECT} WHERE id IN ({placeholders(len(chunk))})", chunk).fetchall()
            minor = self.minor_lines([r[0] for r in rows if r[1] == "license"]) if minor_lines else {}
            for row in rows:
                out[row[0]] = row_asset(row, minor.get(row[0], ()))
        return out

    def suspend_indexes(self) -> list[str]:
        """Drop the assets' secondary indexes for a bulk load in this transaction; returns what rebuilds them."""
        found = self.db.secondary_indexes("assets")
        for name, _ in found:
            self.db.execute(f"DROP INDEX {name}")
        return [sql for _, sql in found]

    def restore_indexes(self, statements: Sequence[str]) -> None:
        for sql in statements:
            self.db.execute(sql)

    def any(self) -> bool:
        return self.db.one("SELECT 1 FROM assets LIMIT 1") is not None

    def by_ids_any_case(self, ids: Sequence[str]) -> dict[str, Asset]:
        """Given id -> asset, matching ids whatever their case (an exact match first; a case-insensitive match
        only when it names one asset)."""
        found = self.by_ids(ids, minor_lines=False)
        out = {i: found[i] for i in ids if i in found}
        missing = sorted({i.lower() for i in ids if i not in found})
        if not missing:
            return out
        matches: dict[str, list] = {}
        for start in range(0, len(missing), BY_ID_CHUNK):
            chunk = missing[start:start + BY_ID_CHUNK]
            for row in self.db.execute(f"{SELECT} WHERE lower(id) IN ({placeholders(len(chunk))})", chunk):
                matches.setdefault(row[0].lower(), []).append(row)
        for i in ids:
            rows = matches.get(i.lower()) if i not in out else None
            if rows and len(rows) == 1:
                out[i] = row_asset(rows[0])
        return out

    def minor_lines(self, license_ids: Sequence[str]) -> dict[str, tuple[MinorLine, ...]]:
        found: dict[str, list[MinorLine]] = {}
        for start in range(0, len(license_ids), CHUNK):
            chunk = list(license_ids[start:start + CHUNK])
            if not chunk:
                continue
            for lid, line, pid, qty in self.db.execute(
                "SELECT license_id, line, pid, quantity FROM minor_lines "
                f"WHERE license_id IN ({placeholders(len(chunk))}) ORDER BY license_id, line",
                chunk,
            ):
                found.setdefault(lid, []).append(MinorLine(line, pid, qty))
        return {k: tuple(v) for k, v in found.items()}

    def active_transactions(self, asset_ids: Sequence[str]) -> dict[str, str]:
        """Asset id -> the transaction that holds it and has not ended (R5)."""
        out: dict[str, str] = {}
        for start in range(0, len(asset_ids), BY_ID_CHUNK):
            chunk = list(asset_ids[start:start + BY_ID_CHUNK])
            if chunk:
                out.update(self.db.execute(
                    "SELECT asset_id, transaction_id FROM transaction_items "
                    f"WHERE active = 1 AND asset_id IN ({placeholders(len(chunk))})",
                    chunk,
                ).fetchall())
        return out

    # --- import --------------------------------------------------------------

    def insert(self, assets: list[Asset]) -> None:
        if assets:
            self.db.executemany(INSERT, [asset_row(a) for a in assets])

    def insert_new(self, batch: NewAssets) -> None:
        """A batch of new assets checked column by column (atm.domain.record_batches), with their minor lines."""
        n = len(batch.ids)
        given = dict(batch.columns, id=batch.ids, kind=repeat(batch.kind, n))
        for flag in FLAG_COLUMNS:
            if flag in given:
                given[flag] = map(int, given[flag])  # bools as 0/1: PostgreSQL's integer columns take no booleans
        self.db.executemany(INSERT, zip(*(given.get(c, repeat(NULL_OR_ZERO[c], n)) for c in COLUMNS)))
        if batch.minor_lines:
            self.db.executemany("INSERT INTO minor_lines (license_id, line, pid, quantity) VALUES (?, ?, ?, ?)",
                                batch.minor_lines)

    def update(self, assets: list[Asset]) -> None:
        """Write every field of these stored assets (their place included, which the caller kept as it was)."""
        if assets:
            self.db.executemany(UPDATE, [asset_row(a)[1:] + (a.id,) for a in assets])

    def replace_minor_lines(self, licenses: list[Asset]) -> None:
        if licenses:
            self.db.executemany("DELETE FROM minor_lines WHERE license_id = ?", [(a.id,) for a in licenses])
            self.add_minor_lines(licenses)

    def add_minor_lines(self, licenses: list[Asset]) -> None:
        rows = [(a.id, m.line, m.pid, m.quantity) for a in licenses for m in a.minor_lines]
        if rows:
            self.db.executemany("INSERT INTO minor_lines (license_id, line, pid, quantity) VALUES (?, ?, ?, ?)", rows)

    def owners_by_natural_key(self, keys: Sequence[tuple]) -> dict[tuple, str]:
        """("serial", S) or ("line", order, line) -> the id of the asset that has it."""
        out: dict[tuple, str] = {}
        serials = [k[1] for k in keys if k[0] == "serial"]
        wanted_lines = {(k[1], k[2]) for k in keys if k[0] == "line"}
        for start in range(0, len(serials), CHUNK):
            chunk = serials[start:start + CHUNK]
            for serial, aid in self.db.execute(
                    f"SELECT serial_number, id FROM assets WHERE serial_number IN ({placeholders(len(chunk))})", chunk):
                out[("serial", serial)] = aid
        orders = sorted({so for so, _ in wanted_lines})
        for start in range(0, len(orders), CHUNK):
            chunk = orders[start:start + CHUNK]
            for so, line, aid in self.db.execute(
                    "SELECT sales_order, line, id FROM assets WHERE kind = 'license' "
                    f"AND sales_order IN ({placeholders(len(chunk))})", chunk):
                if (so, line) in wanted_lines:
                    out[("line", so, line)] = aid
        return out

    def count_transferred(self, ids: Sequence[str]) -> int:
        """How many of these assets a transfer has moved."""
        found: set[str] = set()
        for start in range(0, len(ids), BY_ID_CHUNK):
            chunk = list(ids[start:start + BY_ID_CHUNK])
            found.update(r[0] for r in self.db.execute(
                "SELECT DISTINCT asset_id FROM transaction_items WHERE result = 'transferred' "
                f"AND asset_id IN ({placeholders(len(chunk))})", chunk))
        return len(found)

    def held_by_unfinished(self, ids: Sequence[str], places: Sequence[tuple[str, str]]) -> dict[str, int]:
        """Unfinished transactions holding any of these assets, or a device in these VAs -> how many (R5)."""
        out: dict[str, int] = {}
        for start in range(0, len(ids), BY_ID_CHUNK):
            chunk = list(ids[start:start + BY_ID_CHUNK])
            for tid, n in self.db.execute(
                    "SELECT transaction_id, count(*) FROM transaction_items WHERE active = 1 "
                    f"AND asset_id IN ({placeholders(len(chunk))}) GROUP BY transaction_id", chunk):
                out[tid] = out.get(tid, 0) + n
        for account, va in places:
            for tid, n in self.db.execute(
                    "SELECT i.transaction_id, count(*) FROM transaction_items i JOIN assets a ON a.id = i.asset_id "
                    "WHERE i.active = 1 AND a.kind = 'device' AND a.account = ? AND a.virtual_account = ? "
                    "GROUP BY i.transaction_id", (account, va)):
                out[tid] = out.get(tid, 0) + n
        return out

    def owner_of_natural_key(self, asset: Asset) -> str | None:
        """The asset that already has this device's serial number, or this license's sales order line."""
        if isinstance(asset, Device):
            return self.db.one("SELECT id FROM assets WHERE serial_number = ?", (asset.serial_number,))
        if asset.sales_order is None or asset.line is None:
            return None
        return self.db.one("SELECT id FROM assets WHERE kind = 'license' AND sales_order = ? AND line = ?",
                           (asset.sales_order, asset.line))
