"""Users, Smart Accounts, virtual accounts and roles in SQL. Rows become domain values here."""

from __future__ import annotations

from typing import Iterable

from atm.domain.model import Access, Role, SmartAccount, User, VirtualAccount
from atm.domain.records import AccountRecord
from atm.storage.database import Database, contains_pattern, placeholders


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

    def upsert_users(self, users: list[User]) -> None:
        self.db.executemany(
            "INSERT INTO users (id, name, compliance) VALUES (?, ?, ?) "
            "ON CONFLICT (id) DO UPDATE SET name = excluded.name, compliance = excluded.compliance",
            [(u.id, u.name, int(u.compliance)) for u in users],
        )

    def upsert_accounts(self, records: list[AccountRecord]) -> None:
        self.db.executemany(
            "INSERT INTO accounts (domain, name, legal_entity) VALUES (?, ?, ?) "
            "ON CONFLICT (domain) DO UPDATE SET name = excluded.name, legal_entity = excluded.legal_entity",
            [(r.account.domain, r.account.name, r.account.legal_entity) for r in records],
        )
        self.db.executemany(
            "INSERT INTO virtual_accounts (account, name, ssm_onprem) VALUES (?, ?, ?) "
            "ON CONFLICT (account, name) DO UPDATE SET ssm_onprem = excluded.ssm_onprem",
            [(r.account.domain, va.name, int(va.ssm_onprem)) for r in records for va in r.account.virtual_accounts],
        )
        self.db.executemany(
            "INSERT INTO roles (user_id, account, role) VALUES (?, ?, ?) "
            "ON CONFLICT (user_id, account) DO UPDATE SET role = excluded.role",
            [(u, r.account.domain, role) for r in records
             for role, ids in (("admin", r.admins), ("user", r.users)) for u in ids],
        )
