"""Who is acting, and which Smart Accounts they may see (R1, R2)."""

from __future__ import annotations

from dataclasses import dataclass

from atm.domain.errors import AccountNotFound, InvalidInput, MissingAnswer, UnknownUser, VirtualAccountNotFound
from atm.domain.model import Access, Role, SmartAccount, User, VirtualAccount
from atm.domain.text import normalize_domain, normalize_user_id
from atm.services.unit_of_work import UnitOfWork


@dataclass(frozen=True)
class AccountView:
    account: SmartAccount
    role: Role | None
    counts: dict[str, int] | None = None

    def as_dict(self, *, details: bool = False) -> dict:
        out = {
            "domain": self.account.domain,
            "name": self.account.name,
            "legal_entity": self.account.legal_entity,
            "role": self.role.value if self.role else None,
        }
        if details:
            out["virtual_accounts"] = [
                {"name": va.name, "ssm_onprem": va.ssm_onprem} for va in self.account.virtual_accounts
            ]
            if self.counts is not None:
                out["counts"] = dict(self.counts)
        return out


def acting_user(uow: UnitOfWork, user_id: str | None) -> User:
    """The user named by `--as`/`ATM_USER`; refused when unknown."""
    if not user_id:
        raise MissingAnswer("no acting user: pass --as USER or set ATM_USER")
    user = uow.accounts.user(normalize_user_id(user_id))
    if user is None:
        raise UnknownUser(f"unknown user {user_id!r}: no such user in this database; check --as / ATM_USER")
    return user


def visible_account(uow: UnitOfWork, user: User, ref: str) -> tuple[SmartAccount, Access]:
    """The SA named by domain (or exact unique name) that `user` may see; otherwise "not found" (R2)."""
    ref = ref.strip()
    account = uow.accounts.by_domain(normalize_domain(ref))
    if account is None:
        visible = [d for d in uow.accounts.domains_named(ref) if uow.accounts.access(user, d).can_view]
        if len(visible) > 1:
            raise InvalidInput(
                f"{len(visible)} Smart Accounts are named {ref!r}; name one by its domain: {', '.join(visible)}"
            )
        if visible:
            account = uow.accounts.by_domain(visible[0])
    if account is None:
        raise AccountNotFound(f"Smart Account {ref!r} not found (or you hold no role on it)")
    access = uow.accounts.access(user, account.domain)
    if not access.can_view:
        raise AccountNotFound(f"Smart Account {ref!r} not found (or you hold no role on it)")
    return account, access


def virtual_account(account: SmartAccount, name: str) -> VirtualAccount:
    va = account.virtual_account(name.strip())
    if va is None:
        names = ", ".join(v.name for v in account.virtual_accounts)
        raise VirtualAccountNotFound(f"no virtual account {name!r} in {account.domain} (it has: {names})")
    return va


def list_accounts(uow: UnitOfWork, user_id: str | None, search: str | None = None) -> list[AccountView]:
    with uow.read():
        user = acting_user(uow, user_id)
        return [AccountView(account, role) for account, role in uow.accounts.visible(user, search)]


def show_account(uow: UnitOfWork, user_id: str | None, ref: str, *, counts: bool = False) -> AccountView:
    with uow.read():
        user = acting_user(uow, user_id)
        account, access = visible_account(uow, user, ref)
        return AccountView(account, access.role, uow.accounts.counts(account.domain) if counts else None)
