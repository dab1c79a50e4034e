"""`atm request`: "Submit for Review" -- create a transaction and validate it (R1-R5)."""

from pathlib import Path
from typing import Annotated, Optional

import typer

from atm.commands._context import app_context
from atm.commands._output import JSON_HELP, emit_json, message

YES_NO = {"yes": True, "y": True, "no": False, "n": False}


def request(
    ctx: typer.Context,
    source: Annotated[Optional[str], typer.Option("--from", metavar="SA", help="Source Smart Account.")] = None,
    source_va: Annotated[Optional[str], typer.Option("--from-va", metavar="VA",
                                                     help="Only assets in this source VA (default: any VA).")] = None,
    target: Annotated[Optional[str], typer.Option("--to", metavar="SA", help="Target Smart Account.")] = None,
    target_va: Annotated[Optional[str], typer.Option("--to-va", metavar="VA", help="Target virtual account.")] = None,
    same_company: Annotated[Optional[str], typer.Option(
        "--same-company", metavar="yes|no",
        help="Is this a transfer between divisions or sites of the same company? (R4)")] = None,
    assets: Annotated[Optional[list[str]], typer.Option("--asset", metavar="ID",
                                                        help="An asset id; repeat for more.")] = None,
    assets_file: Annotated[Optional[Path], typer.Option(
        "--assets-file", metavar="FILE", help="One id per line, or a CSV/XLSX with an 'id' column.")] = None,
    form: Annotated[Optional[Path], typer.Option(
        "--form", metavar="FILE",
        help="Transfer request form (JSON: reason, transferor_contact_email, transferee_contact_email).")] = None,
    skip_ineligible: Annotated[bool, typer.Option("--skip-ineligible",
                                                  help="Leave ineligible assets out (with a warning).")] = False,
    dry_run: Annotated[bool, typer.Option("--dry-run", help="Validate and print warnings; create nothing.")] = False,
    yes: Annotated[bool, typer.Option("--yes", "-y", help="Do not ask for confirmation.")] = False,
    json_out: Annotated[bool, typer.Option("--json", help=JSON_HELP)] = False,
) -> None:
    """Request a transfer ("Submit for Review"); prints the transaction id.

    Validates at once (R1-R5) and leaves the transaction in Pending Submission. On a terminal, what the
    options do not say is asked step by step (accounts, the question, assets, the form); without a terminal
    a missing answer is exit 2 naming its option. --dry-run checks and creates nothing.

    Example:

    \b
      export ATM_USER=taro.yamada@acme.co.jp
      atm request --from acme.co.jp --to acme-osaka.co.jp --to-va DEFAULT \\
        --same-company yes --asset SO12345678-2 --asset FOC2240Y1RZ --dry-run
      atm request --from acme.co.jp --to acme.co.jp --to-va Production \\
        --asset SO12345678-2 --asset FOC2240Y1RZ
    """
    from atm.commands import _render
    from atm.commands._prompts import interactive
    from atm.domain.errors import InvalidInput, MissingAnswer
    from atm.io.answers import read_asset_ids, read_form
    from atm.services.transfers import RequestSpec, request as run_request
    from atm.services.views import Validation

    answer = None
    if same_company is not None:
        answer = YES_NO.get(same_company.strip().lower())
        if answer is None:
            raise InvalidInput(f"--same-company takes yes or no, got {same_company!r}")
    ids = list(assets or [])
    if assets_file is not None:
        ids += read_asset_ids(assets_file)
    spec = RequestSpec(source=source or "", source_va=source_va, target=target or "", target_va=target_va or "",
                       same_company=answer, asset_ids=tuple(ids), form=read_form(form) if form else None,
                       skip_ineligible=skip_ineligible)
    app = app_context(ctx)
    if interactive() and _incomplete(spec):
        from atm.commands._request_prompts import complete_interactively

        spec = complete_interactively(app, spec, confirm=not yes and not dry_run)
        if spec is None:
            message("Nothing was created.")
            return
    for option, value in (("--from", spec.source), ("--to", spec.target), ("--to-va", spec.target_va)):
        if not value:
            raise MissingAnswer(f"{option} is required (no terminal to ask on)")
    result = run_request(app.unit_of_work(), app.user_id, spec, dry_run=dry_run,
                         item_limit=None if json_out else 0)
    if isinstance(result, Validation):
        if json_out:
            emit_json(result.as_dict())
        else:
            _render.validation(result)
        if result.refusal is not None:
            raise result.refusal
        return
    if json_out:
        emit_json(result.as_dict())
    else:
        _render.created(result)


def _incomplete(spec) -> bool:
    return not (spec.source and spec.target and spec.target_va and spec.asset_ids
                and (spec.same_company is not None or spec.source == spec.target)
                and (spec.same_company is not False or spec.form))
