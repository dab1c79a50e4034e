"""Import users, accounts and assets from a file, in one database transaction (SPEC section 5).

A bad file changes nothing: every record is validated, every reference
checked, and the first problem names the record and the field. Re-importing
a record updates it in place (upsert by id). Memory stays flat: records are
streamed and written in batches with executemany.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable

from atm.domain.errors import InvalidInput, InvalidRecord
from atm.domain.model import Asset, Device, User
from atm.domain.records import AccountRecord, FieldProblem, parse_account, parse_device, parse_license, parse_user
from atm.services.unit_of_work import UnitOfWork
from atm.storage.errors import ConstraintViolation

BATCH = 2000
MAX_REPORTED = 20
Progress = Callable[[int, int], None]
PARSERS = {"users": parse_user, "accounts": parse_account, "licenses": parse_license, "devices": parse_device}


@dataclass
class ImportSummary:
    users: int = 0
    accounts: int = 0
    virtual_accounts: int = 0
    licenses: int = 0
    devices: int = 0

    def as_dict(self) -> dict[str, int]:
        return dict(self.__dict__)


@dataclass
class _Importer:
    uow: UnitOfWork
    summary: ImportSummary = field(default_factory=ImportSummary)
    problems: list[InvalidRecord] = field(default_factory=list)
    assets: list[Asset] = field(default_factory=list)
    users: list[User] = field(default_factory=list)
    account_records: list[AccountRecord] = field(default_factory=list)
    asset_where: dict[str, str] = field(default_factory=dict)
    key_where: dict = field(default_factory=dict)  # serial number, or (sales order, line): first record
    # First record to use each reference, to name it if the reference is dangling.
    place_where: dict[tuple[str, str], str] = field(default_factory=dict)
    role_where: dict[str, tuple[str, str]] = field(default_factory=dict)
    account_where: dict[str, str] = field(default_factory=dict)
    user_where: dict[str, str] = field(default_factory=dict)

    def add(self, section: str, where: str, raw: object) -> None:
        try:
            value = PARSERS[section](raw)
        except FieldProblem as exc:
            self._problem(_where(where, raw), exc.field, exc.problem)
            return
        if section in ("licenses", "devices"):
            self._add_asset(value, where)
        elif section == "users":
            self._add_user(value, where)
        else:
            self._add_account(value, where)

    def _problem(self, where: str, field_name: str | None, problem: str) -> None:
        self.problems.append(InvalidRecord(where, field_name, problem))
        if len(self.problems) >= MAX_REPORTED:
            raise self._failure()

    def _add_user(self, user, where: str) -> None:
        if user.id in self.user_where:
            return self._problem(f"{where} ({user.id})", "id", f"{user.id!r} is listed twice (first at {self.user_where[user.id]})")
        self.user_where[user.id] = where
        if not self.problems:
            self.users.append(user)
            if len(self.users) >= BATCH:
                self._flush_directory()
        self.summary.users += 1

    def _add_account(self, record, where: str) -> None:
        domain = record.account.domain
        if domain in self.account_where:
            return self._problem(f"{where} ({domain})", "domain", f"{domain!r} is listed twice (first at {self.account_where[domain]})")
        self.account_where[domain] = where
        for role_list in ("admins", "users"):
            for i, uid in enumerate(getattr(record, role_list)):
                self.role_where.setdefault(uid, (f"{where} ({domain})", f"{role_list}[{i}]"))
        if not self.problems:
            self.account_records.append(record)
            if len(self.account_records) >= BATCH:
                self._flush_directory()
        self.summary.accounts += 1
        self.summary.virtual_accounts += len(record.account.virtual_accounts)

    def _add_asset(self, asset: Asset, where: str) -> None:
        label = f"{where} ({asset.id})"
        first = self.asset_where.get(asset.id)
        if first is not None:
            return self._problem(label, "id", f"{asset.id!r} appears twice in the file (first at {first})")
        self.asset_where[asset.id] = where
        if isinstance(asset, Device):
            first = self.key_where.get(asset.serial_number)
            if first is not None:
                return self._problem(label, "serial_number",
                                     f"{asset.serial_number!r} appears twice in the file (first at {first})")
            self.key_where[asset.serial_number] = where
            self.summary.devices += 1
        else:
            if asset.sales_order is not None and asset.line is not None:
                key = (asset.sales_order, asset.line)
                first = self.key_where.get(key)
                if first is not None:
                    return self._problem(label, "line", f"sales order {asset.sales_order} line {asset.line} "
                                                        f"appears twice in the file (first at {first})")
                self.key_where[key] = where
            self.summary.licenses += 1
        self.place_where.setdefault((asset.account, asset.virtual_account), label)
        if not self.problems:
            self.assets.append(asset)
            if len(self.assets) >= BATCH:
                self._flush()

    def _flush(self) -> None:
        batch, self.assets = self.assets, []
        self._check_existing(batch)
        try:
            self.uow.assets.upsert(batch)
        except ConstraintViolation:
            self._explain_conflict(batch)
            raise

    def _check_existing(self, batch: list[Asset]) -> None:
        """Re-import updates an asset's details, never its kind or its place: assets move only by a transfer,
        which is checked and audited (R1, R9, R15); an import must not undo or overtake one."""
        placed = self.uow.assets.placements([a.id for a in batch])
        for asset in batch:
            old = placed.get(asset.id)
            if old is None:
                continue
            kind, account, va = old
            label = f"{self.asset_where[asset.id]} ({asset.id})"
            if kind != asset.kind:
                self._problem(label, "id", f"{asset.id!r} already exists as a {kind}")
            elif account != asset.account:
                self._problem(label, "account", f"{asset.id} is in {account}; an import never moves an asset to "
                                                "another Smart Account (transfer it with atm request)")
            elif va != asset.virtual_account:
                self._problem(label, "virtual_account", f"{asset.id} is in virtual account {va!r}; an import never "
                                                        "moves an asset (transfer it with atm request)")
        if self.problems:
            raise self._failure()

    def _explain_conflict(self, batch: list[Asset]) -> None:
        for asset in batch:
            owner = self.uow.assets.owner_of_natural_key(asset)
            if owner is not None and owner != asset.id:
                field_name = "serial_number" if isinstance(asset, Device) else "line"
                what = (f"serial number {asset.serial_number!r}" if isinstance(asset, Device)
                        else f"sales order {asset.sales_order} line {asset.line}")
                self._problem(f"{self.asset_where[asset.id]} ({asset.id})", field_name,
                              f"{what} already belongs to asset {owner}")
                raise self._failure()

    def _flush_directory(self) -> None:
        """Users and accounts (with their VAs and roles), written in batches like assets."""
        users, self.users = self.users, []
        records, self.account_records = self.account_records, []
        self.uow.accounts.upsert_users(users)
        self.uow.accounts.upsert_accounts(records)

    def finish(self) -> ImportSummary:
        if not self.problems:
            self._flush_directory()
            self._flush()
        if not self.problems:
            self._check_references()
        if self.problems:
            raise self._failure()
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
            where = self.place_where[(domain, va)]
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


def import_file(uow: UnitOfWork, path: Path, *, fmt: str | None = None,
                progress: Progress | None = None) -> ImportSummary:
    """Load `path` (JSON, CSV or XLSX) in one transaction; any problem rolls everything back."""
    from atm.io.sources import open_source

    try:
        fh = path.open("rb")
    except OSError as exc:
        raise InvalidInput(f"cannot read {path}: {exc.strerror or exc}") from None
    with fh:
        source = open_source(path, fh, fmt)
        uow.db.tune_for_bulk_load()
        with uow.write():
            importer = _Importer(uow)
            for count, (section, where, raw) in enumerate(source, start=1):
                importer.add(section, f"{path.name}: {where}", raw)
                if progress is not None and count % 4096 == 0:
                    progress(source.done, source.total)
            summary = importer.finish()
            uow.commit()
    if progress is not None:
        progress(source.total, source.total)
    return summary
