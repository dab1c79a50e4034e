"""Users, Smart Accounts, virtual accounts and roles in SQL. Rows become domain values here."""

from __future__ import annotations

from typing import TYPE_CHECKING, Iterable

from atm.domain.model import Access, Role, SmartAccount, User, VirtualAccount
from atm.storage.database import Database, contains_pattern, placeholders

if TYPE_CHECKING:
    from atm.domain.records import AccountRecord, UserRecord


class AccountRepository:
    def __init__(self, db: Database) -> None:
        self.db = db

    # --- users and roles -----------------------------------------------------

    def user(self, user_id: str) -> User | None:
        row = self.db.execute("SELECT id, name, compliance FROM users WHERE id = ?", (user_id,)).fetchone()
        return None if row is None else User(row[0], row[1], bool(row[2]))

    def access(self, user: User, domain: str) -> Access:
        role = self.db.one("SELECT role FROM roles WHERE user_id = ? AND account = ?", (user.id, domain))
        return Access(Role(role) if role else None, user.compliance)

    def admins(self, domain: str) -> list[str]:
        rows = self.db.execute(
            "SELECT user_id FROM roles WHERE account = ? AND role = 'admin' ORDER BY user_id", (domain,)
        )
        return [r[0] for r in rows]

    def compliance_users(self) -> list[str]:
        return [r[0] for r in self.db.execute("SELECT id FROM users WHERE compliance = 1 ORDER BY id")]

    def missing_users(self, user_ids: Iterable[str]) -> list[str]:
        ids = sorted(set(user_ids))
        missing: list[str] = []
        for start in range(0, len(ids), 500):
            chunk = ids[start:start + 500]
            found = {r[0] for r in self.db.execute(
                f"SELECT id FROM users WHERE id IN ({placeholders(len(chunk))})", chunk)}
            missing.extend(i for i in chunk if i not in found)
        return missing

    # --- accounts ------------------------------------------------------------

    def visible(self, user: User, search: str | None = None) -> list[tuple[SmartAccount, Role | None]]:
        """Accounts the user holds a role on (every account for a compliance user, R2)."""
        join = "LEFT JOIN" if user.compliance else "JOIN"
        sql = (
            "SELECT a.domain, a.name, a.legal_entity, r.role FROM accounts a "
            f"{join} roles r ON r.account = a.domain AND r.user_id = ?"
        )
        params: list = [user.id]
        if search:
            sql += " WHERE lower(a.name) LIKE ? ESCAPE '\\' OR a.domain LIKE ? ESCAPE '\\'"
            params += [contains_pattern(search)] * 2
        sql += " ORDER BY a.name, a.domain"
        return [
            (SmartAccount(d, n, le), Role(role) if role else None)
            for d, n, le, role in self.db.execute(sql, params)
        ]

    def any(self) -> bool:
        return self.db.one("SELECT 1 FROM accounts LIMIT 1") is not None

    def by_domain(self, domain: str) -> SmartAccount | None:
        row = self.db.execute(
            "SELECT domain, name, legal_entity FROM accounts WHERE domain = ?", (domain,)
        ).fetchone()
        if row is None:
            return None
        vas = tuple(
            VirtualAccount(name, bool(ssm))
            for name, ssm in self.db.execute(
                "SELECT name, ssm_onprem FROM virtual_accounts WHERE account = ? "
                "ORDER BY CASE WHEN name = 'DEFAULT' THEN 0 ELSE 1 END, name",
                (row[0],),
            )
        )
        return SmartAccount(row[0], row[1], row[2], vas)

    def domains_named(self, name: str) -> list[str]:
        return [r[0] for r in self.db.execute("SELECT domain FROM accounts WHERE name = ? ORDER BY domain", (name,))]

    def counts(self, domain: str) -> dict[str, int]:
        counts = {"licenses": 0, "devices": 0}
        for kind, n in self.db.execute(
            "SELECT kind, count(*) FROM assets WHERE account = ? GROUP BY kind", (domain,)
        ):
            counts["licenses" if kind == "license" else "devices"] = n
        return counts

    def existing_places(self, places: Iterable[tuple[str, str]]) -> set[tuple[str, str]]:
        wanted = set(places)
        found: set[tuple[str, str]] = set()
        for domain in {d for d, _ in wanted}:
            for (name,) in self.db.execute("SELECT name FROM virtual_accounts WHERE account = ?", (domain,)):
                if (domain, name) in wanted:
                    found.add((domain, name))
        return found

    def existing_domains(self, domains: Iterable[str]) -> set[str]:
        return {d for d in set(domains) if self.db.one("SELECT 1 FROM accounts WHERE domain = ?", (d,))}

    # --- import --------------------------------------------------------------

    def upsert_users(self, users: list[UserRecord]) -> None:
        """A field not given (None) keeps its stored value; a new user is named by its id, not compliance."""
        self.db.executemany(
            "INSERT INTO users (id, name, compliance) VALUES (?, COALESCE(?, ?), COALESCE(?, 0)) "
            "ON CONFLICT (id) DO UPDATE SET name = COALESCE(?, users.name), "
            "compliance = COALESCE(?, users.compliance)",
            [(u.id, u.name, u.id, _flag(u.compliance), u.name, _flag(u.compliance)) for u in users],
        )

    def ssm_onprem_flags(self, domains: Iterable[str]) -> dict[tuple[str, str], bool]:
        out: dict[tuple[str, str], bool] = {}
        for domain in set(domains):
            for name, ssm in self.db.execute("SELECT name, ssm_onprem FROM virtual_accounts WHERE account = ?",
                                             (domain,)):
                out[(domain, name)] = bool(ssm)
        return out

    def add_accounts(self, accounts: list[SmartAccount]) -> None:
        self.db.executemany("INSERT INTO accounts (domain, name, legal_entity) VALUES (?, ?, ?)",
                            [(a.domain, a.name, a.legal_entity) for a in accounts])

    def update_accounts(self, records: list[AccountRecord]) -> None:
        self.db.executemany(
            "UPDATE accounts SET name = COALESCE(?, name), legal_entity = COALESCE(?, legal_entity) WHERE domain = ?",
            [(r.name, r.legal_entity, r.domain) for r in records],
        )

    def upsert_virtual_accounts(self, records: list[AccountRecord]) -> None:
        self.db.executemany(
            "INSERT INTO virtual_accounts (account, name, ssm_onprem) VALUES (?, ?, COALESCE(?, 0)) "
            "ON CONFLICT (account, name) DO UPDATE SET ssm_onprem = COALESCE(?, virtual_accounts.ssm_onprem)",
            [(r.domain, va.name, _flag(va.ssm_onprem), _flag(va.ssm_onprem))
             for r in records for va in r.virtual_accounts],
        )

    def upsert_roles(self, records: list[AccountRecord]) -> None:
        self.db.executemany(
            "INSERT INTO roles (user_id, account, role) VALUES (?, ?, ?) "
            "ON CONFLICT (user_id, account) DO UPDATE SET role = excluded.role",
            [(u, r.domain, role) for r in records
             for role, ids in (("admin", r.admins), ("user", r.users)) for u in ids],
        )


def _flag(value: bool | None) -> int | None:
    return None if value is None else int(value)
