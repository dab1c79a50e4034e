"""Import users, accounts and assets from a file, in one database transaction (docs/import.md).

A bad file changes nothing: every record is validated, every reference
checked, and the first problem names the record and the field. Re-importing
merges: a record sets only the fields it carries, so a partial record never
clears a rule flag (R5) or the minor lines, and an import never moves an asset
(its place is kept and counted). Memory stays flat: records are streamed and
written in batches with executemany.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import BinaryIO, Callable

from atm.domain.errors import InvalidInput, InvalidRecord
from atm.domain.model import Asset, License, license_id
from atm.domain.record_batches import BATCH, NewAssets, in_batches, new_devices, new_licenses
from atm.domain.records import (
    AccountRecord, AssetRecord, FieldProblem, UserRecord, merge_asset, new_asset, parse_account, parse_device,
    parse_license, parse_user,
)
from atm.services.unit_of_work import UnitOfWork
from atm.storage.errors import ConstraintViolation

MAX_REPORTED = 20
READ_AHEAD_BYTES = 32 * 2**20  # a first load of a JSON file this large is read by a second process
Progress = Callable[[int, int], None]
PARSERS = {"users": parse_user, "accounts": parse_account, "licenses": parse_license, "devices": parse_device}
BATCHED = {"licenses": new_licenses, "devices": new_devices}


@dataclass
class ImportSummary:
    users: int = 0
    accounts: int = 0
    virtual_accounts: int = 0
    licenses: int = 0
    devices: int = 0
    created: int = 0  # assets new to the database
    updated: int = 0  # assets that were there and took the record's fields
    locations_kept: int = 0  # records that placed an asset elsewhere than it is: the place was kept
    locations_kept_moved: int = 0  # ... of which atm moved the asset by a transfer
    # Unfinished transactions holding an asset that a rule flag now stops (R5) -> how many such assets.
    recheck: dict[str, int] = field(default_factory=dict)

    def as_dict(self) -> dict:
        return dict(self.__dict__, recheck=dict(self.recheck))


SECTION_CODES = {"users": 0, "accounts": 1, "licenses": 2, "devices": 3}
SECTION_NAMES = {code: name for name, code in SECTION_CODES.items()}


@dataclass
class _Importer:
    uow: UnitOfWork
    describe: Callable[[str, int], str]  # (section, position) -> "file.json: licenses[41]", only when needed
    summary: ImportSummary = field(default_factory=ImportSummary)
    problems: list[InvalidRecord] = field(default_factory=list)
    records: list[tuple[AssetRecord, int]] = field(default_factory=list)
    users: list[UserRecord] = field(default_factory=list)
    account_records: list[AccountRecord] = field(default_factory=list)
    # Where each id and real-world key was first met, as a packed position (an int: a million of them stay small).
    asset_where: dict[str, int] = field(default_factory=dict)
    key_where: dict[str, int] = field(default_factory=dict)
    target_where: dict[str, int] = field(default_factory=dict)  # stored asset a record updates -> that record
    # First record to use each reference, to name it if the reference is dangling.
    place_where: dict[tuple[str, str], tuple[int, str]] = field(default_factory=dict)
    role_where: dict[str, tuple[str, str]] = field(default_factory=dict)
    account_where: dict[str, str] = field(default_factory=dict)
    user_where: dict[str, str] = field(default_factory=dict)
    kept: list[str] = field(default_factory=list)  # ids whose stored place was kept
    tightened: list[str] = field(default_factory=list)  # ids a rule flag now stops (R5)
    tightened_places: list[tuple[str, str]] = field(default_factory=list)  # VAs turned SSM On-Prem
    empty_at_start: bool = False
    suspended_indexes: list[str] = field(default_factory=list)

    def __post_init__(self) -> None:
        self.empty_at_start = not self.uow.assets.any()
        if self.empty_at_start:
            # A first load: nothing stored to look up, and the asset indexes are built once at the end (sorted,
            # measured 15-25% less work than keeping them up to date row by row), inside this same transaction.
            self.suspended_indexes = self.uow.assets.suspend_indexes()

    def _place(self, packed: int, asset_id: str | None = None) -> str:
        where = self.describe(SECTION_NAMES[packed >> 40], packed & (2**40 - 1))
        return f"{where} ({asset_id})" if asset_id is not None else where

    def add(self, section: str, position: int, raw: object) -> None:
        try:
            value = PARSERS[section](raw)
        except FieldProblem as exc:
            self._problem(_where(self.describe(section, position), raw), exc.field, exc.problem)
            return
        if section in ("licenses", "devices"):
            self._add_asset(value, SECTION_CODES[section] << 40 | position)
        elif section == "users":
            self._add_user(value, self.describe(section, position))
        else:
            self._add_account(value, self.describe(section, position))

    def _problem(self, where: str, field_name: str | None, problem: str) -> None:
        self.problems.append(InvalidRecord(where, field_name, problem))
        if len(self.problems) >= MAX_REPORTED:
            raise self._failure()

    # --- users and accounts ------------------------------------------------------------

    def _add_user(self, user: UserRecord, where: str) -> None:
        if user.id in self.user_where:
            return self._problem(f"{where} ({user.id})", "id",
                                 f"{user.id!r} is listed twice (first at {self.user_where[user.id]})")
        self.user_where[user.id] = where
        if not self.problems:
            self.users.append(user)
            if len(self.users) >= BATCH:
                self._flush_directory()
        self.summary.users += 1

    def _add_account(self, record: AccountRecord, where: str) -> None:
        domain = record.domain
        if domain in self.account_where:
            return self._problem(f"{where} ({domain})", "domain",
                                 f"{domain!r} is listed twice (first at {self.account_where[domain]})")
        self.account_where[domain] = where
        for role_list in ("admins", "users"):
            for i, uid in enumerate(getattr(record, role_list)):
                self.role_where.setdefault(uid, (f"{where} ({domain})", f"{role_list}[{i}]"))
        if not self.problems:
            self.account_records.append(record)
            if len(self.account_records) >= BATCH:
                self._flush_directory()
        self.summary.accounts += 1
        self.summary.virtual_accounts += len(record.virtual_accounts)

    def _flush_directory(self) -> None:
        """Users and accounts (with their VAs and roles), merged like assets: absent fields keep their value."""
        users, self.users = self.users, []
        records, self.account_records = self.account_records, []
        accounts = self.uow.accounts
        accounts.upsert_users(users)
        existing = accounts.existing_domains(r.domain for r in records)
        new = []
        for record in records:
            if record.domain in existing:
                continue
            try:
                new.append(record.new_account())
            except FieldProblem as exc:
                self._problem(f"{self.account_where[record.domain]} ({record.domain})", exc.field, exc.problem)
        if self.problems:
            raise self._failure()
        before = accounts.ssm_onprem_flags(existing)
        accounts.add_accounts(new)
        accounts.update_accounts([r for r in records if r.domain in existing])
        accounts.upsert_virtual_accounts(records)
        accounts.upsert_roles(records)
        self.tightened_places += [(r.domain, va.name) for r in records for va in r.virtual_accounts
                                  if va.ssm_onprem and before.get((r.domain, va.name)) is False]

    # --- assets ------------------------------------------------------------------------

    def add_checked(self, section: str, positions: list[int], batch: NewAssets) -> None:
        """New assets a batch check took (atm.domain.record_batches), at these positions of a first load: taken
        whole, or record by record when one of its ids or keys was met before (that path says where)."""
        base = SECTION_CODES[section] << 40
        if self.problems or not self._claim(batch, base, positions):
            for record, position in zip(batch.records(), positions):  # says which id or key is met twice
                self._add_asset(record, base | position)
            return
        self._flush()  # what went record by record before this batch, so the rows keep the file's order
        self.uow.assets.insert_new(batch)
        count = len(batch.ids)
        if batch.kind == "device":
            self.summary.devices += count
        else:
            self.summary.licenses += count
        self.summary.created += count

    def _claim(self, batch: NewAssets, base: int, positions: list[int]) -> bool:
        """Note where the batch's ids, real-world keys and places are first met; False, noting nothing, if any
        id or key is met twice (record by record then says where)."""
        ids = list(map(str.lower, batch.ids))
        keys = [(key, i) for i, (key, lid) in enumerate(zip(batch.natural_keys, ids)) if key is not None and key != lid]
        names = ids + [key for key, _ in keys]
        if len(set(names)) != len(names) or not self.asset_where.keys().isdisjoint(names) \
                or not self.key_where.keys().isdisjoint(names):
            return False
        packed = [base | p for p in positions]
        self.asset_where.update(zip(ids, packed))
        self.key_where.update((key, packed[i]) for key, i in keys)
        places = list(zip(batch.columns["account"], batch.columns["virtual_account"]))
        if not self.place_where.keys() >= set(places):
            for place, p, asset_id in zip(places, packed, batch.ids):
                self.place_where.setdefault(place, (p, asset_id))
        return True

    def _add_asset(self, record: AssetRecord, packed: int) -> None:
        # One asset per id whatever its case, one per serial number, one per sales-order line. A real-world key
        # is remembered apart only when it is not the record's id already (a device named by its serial, a
        # line named SO<order>-<line>), so a million ordinary records cost one entry each.
        lid = record.id.lower()
        first = self.asset_where.get(lid)
        if first is not None:
            return self._problem(self._place(packed, record.id), "id",
                                 f"{record.id!r} appears twice in the file (first at {self._place(first)})")
        key = record.natural_key
        if key is not None:
            natural = (key[1] if key[0] == "serial" else license_id(key[1], key[2])).lower()
            first = self.key_where.get(natural)
            if natural != lid and first is None:
                first = self.asset_where.get(natural)
            if first is not None:
                what = repr(key[1]) if key[0] == "serial" else f"sales order {key[1]} line {key[2]}"
                return self._problem(self._place(packed, record.id), "serial_number" if key[0] == "serial" else
                                     "line", f"{what} appears twice in the file (first at {self._place(first)})")
            if natural != lid:
                self.key_where[natural] = packed
        self.asset_where[lid] = packed
        if record.kind == "device":
            self.summary.devices += 1
        else:
            self.summary.licenses += 1
        if not self.problems:
            self.records.append((record, packed))
            if len(self.records) >= BATCH:
                self._flush()

    def _flush(self) -> None:
        batch, self.records = self.records, []
        if not batch:
            return
        repo = self.uow.assets
        # What is stored already (an id in another case names the same asset); nothing, in a first load, whose
        # records the file itself keeps apart (one id, serial, sales-order line each).
        named = {} if self.empty_at_start else repo.by_ids_any_case([r.id for r, _ in batch])
        stored = {a.id: a for a in named.values()}
        by_key: dict = {}
        if not self.empty_at_start:
            unresolved = [r.natural_key for r, _ in batch if r.id not in named and not r.explicit_id and r.natural_key]
            if unresolved:
                by_key.update(repo.owners_by_natural_key(unresolved))
                stored.update(repo.by_ids([i for i in by_key.values() if i not in stored], minor_lines=False))
        new: list[Asset] = []
        updated: list[Asset] = []
        minor: list[License] = []
        for record, packed in batch:
            target = named[record.id].id if record.id in named else (
                None if record.explicit_id else by_key.get(record.natural_key))
            try:
                if target is None:
                    asset = new_asset(record)
                    new.append(asset)
                    if (asset.account, asset.virtual_account) not in self.place_where:
                        self.place_where[(asset.account, asset.virtual_account)] = (packed, asset.id)
                else:
                    first = self.target_where.setdefault(target, packed)
                    if first != packed:
                        self._problem(self._place(packed, record.id), "id",
                                      f"updates asset {target}, as {self._place(first)} does already")
                        continue
                    merge = merge_asset(stored[target], record)
                    asset = merge.asset
                    updated.append(asset)
                    if merge.location_kept:
                        self.kept.append(asset.id)
                    if merge.tightened:
                        self.tightened.append(asset.id)
            except FieldProblem as exc:
                self._problem(self._place(packed, record.id), exc.field, exc.problem)
                continue
            if record.minor_lines is not None and target is not None:
                minor.append(asset)  # a new asset's minor lines go in with it
        if self.problems:
            raise self._failure()
        try:
            repo.insert(new)
            repo.update(updated)
            repo.replace_minor_lines(minor)
            repo.add_minor_lines([a for a in new if a.kind == "license"])
        except ConstraintViolation:
            places = {record.id: packed for record, packed in batch} | self.target_where
            self._explain_conflict(new + updated, places)
            raise
        self.summary.created += len(new)
        self.summary.updated += len(updated)

    def _explain_conflict(self, batch: list[Asset], places: dict[str, int]) -> None:
        for asset in batch:
            owner = self.uow.assets.owner_of_natural_key(asset)
            if owner is not None and owner != asset.id:
                field_name = "serial_number" if asset.kind == "device" else "line"
                what = (f"serial number {asset.serial_number!r}" if asset.kind == "device"
                        else f"sales order {asset.sales_order} line {asset.line}")
                where = self._place(places[asset.id], asset.id) if asset.id in places else asset.id
                self._problem(where, field_name, f"{what} already belongs to asset {owner}")
                raise self._failure()

    # --- the end -----------------------------------------------------------------------

    def finish(self) -> ImportSummary:
        if not self.problems:
            self._flush_directory()
            self._flush()
        if not self.problems:
            self._check_references()
        if self.problems:
            raise self._failure()
        repo = self.uow.assets
        repo.restore_indexes(self.suspended_indexes)
        self.summary.locations_kept = len(self.kept)
        self.summary.locations_kept_moved = repo.count_transferred(self.kept)
        self.summary.recheck = repo.held_by_unfinished(self.tightened, self.tightened_places)
        return self.summary

    def _check_references(self) -> None:
        accounts = self.uow.accounts
        for uid in accounts.missing_users(self.role_where):
            where, field_name = self.role_where[uid]
            self._problem(where, field_name, f"no user {uid!r} (not in the file's users or the database)")
        existing = accounts.existing_places(self.place_where)
        missing = [p for p in self.place_where if p not in existing]
        known_domains = accounts.existing_domains(d for d, _ in missing)
        for domain, va in missing:
            where = self._place(*self.place_where[(domain, va)])
            if domain not in known_domains:
                self._problem(where, "account", f"no Smart Account {domain!r} (not in the file or the database)")
            else:
                self._problem(where, "virtual_account", f"no virtual account {va!r} in {domain}")

    def _failure(self) -> InvalidInput:
        first, rest = self.problems[0], self.problems[1:]
        more = f" (and {len(rest)} more problem{'s' if len(rest) != 1 else ''})" if rest else ""
        return InvalidInput(f"{first}{more}; nothing was imported", [str(p) for p in rest])


def _where(where: str, raw: object) -> str:
    if isinstance(raw, dict):
        ident = raw.get("id") or raw.get("serial_number") or raw.get("domain")
        if ident is None and raw.get("sales_order") is not None and raw.get("line") is not None:
            ident = f"SO{raw['sales_order']}-{raw['line']}"
        if isinstance(ident, (str, int)) and len(str(ident)) <= 80:
            return f"{where} ({ident})"
    return where


def import_file(uow: UnitOfWork, path: Path, *, fmt: str | None = None, progress: Progress | None = None,
                stream: BinaryIO | None = None) -> ImportSummary:
    """Load `path` (JSON, CSV or XLSX) in one transaction; any problem rolls everything back.

    `stream`, when given, is read instead of opening `path` (standard input); `path` then only names it."""
    from atm.io.readahead import ReadAhead
    from atm.io.sources import JsonSource, open_source

    if stream is None:
        try:
            fh = path.open("rb")
        except OSError as exc:
            raise InvalidInput(f"cannot read {path}: {exc.strerror or exc}") from None
    else:
        fh = stream
    with fh:
        source = open_source(path, fh, fmt)
        uow.db.tune_for_bulk_load()
        with uow.write():
            importer = _Importer(uow, lambda section, position: f"{path.name}: {source.where(section, position)}")
            records = source
            if importer.empty_at_start:  # a first load: ordinary records are checked a batch at a time
                if stream is None and isinstance(source, JsonSource) and source.total >= READ_AHEAD_BYTES:
                    records = source = ReadAhead(path, source.total)  # a second process reads and checks them
                else:
                    records = in_batches(source, BATCHED)
            try:
                taken = 0
                for section, position, raw in records:
                    if position.__class__ is list:  # a batch the reading process checked
                        importer.add_checked(section, position, raw)
                        taken += len(position)
                    else:
                        importer.add(section, position, raw)
                        taken += 1
                    if progress is not None and taken >= 4096:
                        progress(source.done, source.total)
                        taken = 0
            finally:
                source.close()
            summary = importer.finish()
            uow.commit()
    if progress is not None:
        progress(source.total, source.total)
    return summary
