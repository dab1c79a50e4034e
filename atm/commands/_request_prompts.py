"""The interactive side of `atm request`: the guide's Steps 1-5 as questions.

Only missing answers are asked; each step offers what the services say is
possible (SAs you administer, the VAs of the chosen SA, transferable assets).
"""

from __future__ import annotations

from dataclasses import replace

from atm.commands import _prompts
from atm.commands._output import message
from atm.domain.errors import PromptCancelled

ASSET_CHOICES = 2000


def complete_interactively(app, spec, *, confirm: bool):
    from atm.services.accounts import list_accounts, show_account
    from atm.services.assets import AssetQuery, list_assets

    ask = _prompts.current
    uow = app.unit_of_work()
    admin_of = [v for v in list_accounts(uow, app.user_id) if v.role is not None and v.role.value == "admin"]
    choices = [(f"{v.account.name} ({v.account.domain})", v.account.domain) for v in admin_of]
    if not choices:
        from atm.domain.transfer import NotAdminOfBothAccounts

        raise NotAdminOfBothAccounts("you are admin of no Smart Account; a transfer needs admin of both sides (R1)")
    source, source_va = spec.source, spec.source_va
    if not source:
        source = ask.select("Step 1: source Smart Account (type to search)", choices)
        vas = show_account(uow, app.user_id, source).account.virtual_accounts
        # questionary turns a None value into the title, so "any" is the empty string here.
        source_va = ask.select("Source virtual account", [("(any virtual account)", "")]
                               + [(va.name, va.name) for va in vas]) or None
    target, target_va = spec.target, spec.target_va
    if not target:
        target = ask.select("Step 2: target Smart Account (type to search)", choices)
    if not target_va:
        vas = show_account(uow, app.user_id, target).account.virtual_accounts
        # R3: the source SA and VA are greyed out.
        greyed = {va.name: "the source" for va in vas if target == source and va.name == source_va}
        target_va = ask.select("Target virtual account", [(va.name, va.name) for va in vas], disabled=greyed)
    same = spec.same_company
    if same is None and target != source:
        same = ask.confirm("Step 3: is this a transfer between divisions or sites of the same company?",
                           default=False)
    ids = spec.asset_ids
    if not ids:
        query = AssetQuery(account=source, virtual_account=source_va, transferable=True, limit=ASSET_CHOICES)
        rows = [r.asset for r in list_assets(uow, app.user_id, query)
                if not (r.asset.account == target and r.asset.virtual_account == target_va)]
        if not rows:
            message("No transferable assets in the source.")
            raise PromptCancelled("nothing to request")
        ids = tuple(ask.checkbox("Step 4: tick the assets (type to search)",
                                 [(_asset_title(a), a.id) for a in rows]))
    form = spec.form
    if same is False and form is None:
        message("Step 5: software license transfer request form (R4)")
        form = {
            "reason": ask.text("Reason for the transfer"),
            "transferor_contact_email": ask.text("Transferor (source) contact e-mail", check=_email_problem),
            "transferee_contact_email": ask.text("Transferee (target) contact e-mail", check=_email_problem),
        }
    spec = replace(spec, source=source, source_va=source_va, target=target, target_va=target_va,
                   same_company=same, asset_ids=tuple(ids), form=form)
    if confirm and not ask.confirm(f"Submit for Review: {len(ids)} asset(s) from {source} to {target} / "
                                   f"{target_va}?"):
        return None  # "no": nothing is created, as with every other confirmation
    return spec


def _email_problem(text: str) -> str | None:
    from atm.domain.transfer import is_email

    return None if is_email(text) else "an e-mail address, like name@company.com"


def _asset_title(asset) -> str:
    if asset.kind == "license":
        return f"{asset.id}  {asset.pid} x{asset.quantity}  [{asset.virtual_account}]"
    return f"{asset.id}  {asset.pid}  {asset.pnp_status or ''}  [{asset.virtual_account}]"
