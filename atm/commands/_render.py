"""How transactions look: at a terminal (rich), in a pipe (TSV); the JSON shape lives in the service views.

Everything stored or typed goes through `_output.visible` (tables and TSV do it themselves; markup strings
use `escape`), so no escape sequence from the data reaches the reader's terminal.
"""

from __future__ import annotations

from atm.commands._output import (  # noqa: F401  (ITEM_ROWS is re-exported)
    ITEM_ROWS,
    WHOLE, WORDS, Col, emit_tsv, escape, message, plural, print_table, stderr_console, stdout_console, visible,
)

WARNING_IDS = 5
INELIGIBLE_PER_REASON = 3


def warning_line(w: dict) -> str:
    """One kind of warning: "1,204 licenses are in use ... (R13): SO1-1, SO1-2, ..., and 1,199 more"."""
    shown = w["assets"][:WARNING_IDS]
    if not shown:
        return w["message"]
    rest = w["count"] - len(shown)
    return f"{w['message']}: {', '.join(shown)}" + (f", and {rest:,} more" if rest > 0 else "")


def _place(p: dict) -> str:
    va = f" / {p['virtual_account']}" if p.get("virtual_account") else ", any virtual account"
    return f"{p['name']} ({p['domain']}){va}"


def _kinds(view) -> str:
    kinds = view.kind_counts()
    return ", ".join(plural(kinds[k], k) for k in ("license", "device") if kinds.get(k)) or "no items"


def _results(view, kind: str) -> str:
    parts = [f"{n:,} {result}" for (k, result), n in sorted(view.tally.items()) if k == kind]
    return ", ".join(parts)


def _pairs(console, rows, *, indent: int = 2) -> None:
    """Lines of `label  value` whose values wrap under themselves (a hanging indent), never under the label."""
    from rich.padding import Padding
    from rich.table import Table
    from rich.text import Text

    grid = Table.grid(padding=(0, 2, 0, 0))
    grid.add_column(no_wrap=True)
    grid.add_column(overflow="fold")
    for label, value, *style in rows:
        grid.add_row(Text(visible(label), style=style[0] if style else ""),
                     Text(visible(value, multiline=True), style=style[1] if len(style) > 1 else ""))
    console.print(Padding(grid, (0, 0, 0, indent)))


def _warnings(console, warnings: list[dict]) -> None:
    if not warnings:
        return
    console.print("[bold yellow]Warnings[/bold yellow]")
    _pairs(console, [("!", warning_line(w), "bold yellow", "yellow") for w in warnings])


def _summary(console, view) -> None:
    data = view.as_dict()
    console.print(f"[bold]{escape(data['transaction_id'])}[/bold]  [bold cyan]{escape(data['status'])}[/bold cyan]")
    when = f"{data['created_at'][:16].replace('T', ' ')} UTC"
    done = f"; ended {data['completed_at'][:16].replace('T', ' ')} UTC" if data["completed_at"] else ""
    _pairs(console, [
        ("from", _place(data["source"])),
        ("to", _place(data["target"])),
        ("company", "same company (no consent, no form, no screening)" if data["same_company"] else
                    "different companies (both consents, the form, compliance screening)"),
        ("by", f"{data['requested_by']}, {when}{done}"),
        ("items", _kinds(view)),
    ])


def transaction(view, *, wide: bool = False, limit: int | None = ITEM_ROWS) -> None:
    """The transaction view at a terminal: summary, warnings, consents, form, items by kind, timeline."""
    data = view.as_dict()
    console = stdout_console()
    _summary(console, view)
    _warnings(console, data["warnings"])
    if data["consents"]:
        console.print("[bold]Consents[/bold]")
        _pairs(console, [(c["side"], c["decision"] + (f" by {c['by']}, {c['at'][:16].replace('T', ' ')} UTC"
                                                      if c["by"] else "")) for c in data["consents"]])
    if data["form"]:
        console.print("[bold]Request form[/bold]")
        _pairs(console, [(str(k), "" if v is None else str(v)) for k, v in data["form"].items()])
    kinds = view.kind_counts()
    for kind, title in (("license", "Licenses"), ("device", "Devices")):
        if not kinds.get(kind):
            continue
        rows = [i for i in view.items if i.kind == kind]
        console.print()
        heading = f"{title}: {kinds[kind]:,} ({_results(view, kind)})"
        if not rows:
            console.print(f"[bold]{heading}[/bold]")
            continue
        # Warning and Reason only when some item has one.
        cols = [Col("Asset"), Col("Result"), Col("Warning", drop=1), Col("Reason", WORDS)]
        keep = [0, 1] + [k for k in (2, 3) if any((i.warning, i.reason)[k - 2] for i in rows)]
        table = [(i.asset_id, i.result, i.warning or "", i.reason or "") for i in rows]
        looks = [(None, "red" if i.result == "failed" else None, "yellow" if i.warning else None, None) for i in rows]
        print_table([cols[k] for k in keep], [[r[k] for k in keep] for r in table], wide=wide, title=heading,
                    styles=[[st[k] for k in keep] for st in looks])
    _more_items(view)
    console.print()
    timeline(view, wide=wide)


def _more_items(view) -> None:
    total = sum(view.counts.values())
    if len(view.items) < total:
        message(f"Showing {len(view.items):,} of {total:,} items; --items all lists every one "
                f"(or --items N, or --json).")


def transaction_tsv(view) -> None:
    """The items of a transaction, one a line, for grep, cut and awk."""
    emit_tsv(("asset_id", "kind", "result", "reason", "warning"),
             ((i.asset_id, i.kind, i.result, i.reason or "", i.warning or "") for i in view.items))
    _more_items(view)


def timeline(view, *, wide: bool = False) -> None:
    """Done, current and next steps (the next ones read off the status machine), with time and actor."""
    from atm.domain.transfer import STEP_NAMES, USER_COMMANDS, Status, next_steps

    data = view.as_dict()
    events = data["events"]
    last_change = max((k for k, e in enumerate(events) if e["from"] != e["to"]), default=-1)
    rows, styles = [], []
    for k, e in enumerate(events):
        label = Status(e["to"]).label if e["to"] else ""
        step = label if e["from"] != e["to"] else "(note)"
        current = k == last_change
        rows.append(("●" if current else "✓", e["at"][:16].replace("T", " "), step,
                     e["actor"] + (f"\n{e['note']}" if e["note"] else "")))
        styles.append(("bold cyan" if current else "green", None, "bold cyan" if current else None, None))
    txn = view.txn
    for n, (action, status) in enumerate(next_steps(txn.status, txn.same_company)):
        how = STEP_NAMES[action]
        if n == 0 and action in USER_COMMANDS:
            atm, verb, *flags = USER_COMMANDS[action].split()
            how += ": " + " ".join([atm, verb, txn.id, *flags])
        rows.append(("○", "next" if n == 0 else "", status.label, how))
        styles.append(("dim", "dim", "dim", "dim"))
    print_table([Col(""), Col("When (UTC)"), Col("Status", WHOLE), Col("By, note", WORDS)],
                rows, wide=wide, title="Timeline", styles=styles)


# --- before an action that cannot be undone -----------------------------------------------------------


def final_check(preview) -> None:
    """The guide's final check before Submit for Transfer (and before cancel or decline), on stderr."""
    view = preview.view
    data = view.as_dict()
    console = stderr_console()
    title = {"submit": "Final check before Submit for Transfer", "cancel": "Before cancelling",
             "decline": "Before declining", "consent": "Transfer agreement"}[preview.action]
    console.print(f"[bold]{title}[/bold]")
    _summary(console, view)
    _warnings(console, data["warnings"])
    if preview.action == "consent" and data["form"]:
        console.print("[bold]Request form[/bold]")
        for key, value in data["form"].items():
            console.print(f"  {escape(key)}: {escape(value)}")
    if preview.action == "consent" and preview.sides:
        console.print(f"You decide for the {' or the '.join(preview.sides)}.")
    console.print(f"[bold]{escape(preview.outcome)}[/bold]")


# --- request ---------------------------------------------------------------------------------------------


def created(view) -> None:
    """After `atm request`: the id first, for scripts that read one line."""
    data = view.as_dict()
    print(visible(data["transaction_id"]))
    message(f"{data['status']}: {_kinds(view)} from {data['source']['domain']} to "
            f"{data['target']['domain']} / {data['target']['virtual_account']}.")
    for w in data["warnings"]:
        message(f"  ! {warning_line(w)}")
    message(f"Next: atm submit {data['transaction_id']}   (or atm cancel {data['transaction_id']})")


def validation(result) -> None:
    """`request --dry-run`: the verdict, the grouped warnings and a few ineligible assets per reason."""
    data = result.as_dict()
    console = stdout_console()
    verdict = "[green]valid[/green]" if data["valid"] else "[red]refused[/red]"
    console.print(f"Dry run ({verdict}): {len(data['transferable']):,} transferable, "
                  f"{len(data['ineligible']):,} not transferable; nothing was created.")
    console.print(f"  from {escape(_place(data['source']))}")
    console.print(f"  to   {escape(_place(data['target']))}"
                  f"  ({'same company' if data['same_company'] else 'different companies'})")
    by_reason: dict[str, list[dict]] = {}
    for i in data["ineligible"]:
        by_reason.setdefault(i["reason"], []).append(i)
    for found in by_reason.values():
        for i in found[:INELIGIBLE_PER_REASON]:
            console.print(f"  [red]✗[/red] {escape(i['asset_id'])}: {escape(i['message'])}")
        if len(found) > INELIGIBLE_PER_REASON:
            console.print(f"    and {len(found) - INELIGIBLE_PER_REASON:,} more like these")
    _warnings(console, data["warnings"])
    if any(len(f) > INELIGIBLE_PER_REASON for f in by_reason.values()):
        message("Every ineligible asset, with its reason: the same command with --json.")


# --- the landing list ------------------------------------------------------------------------------------

LANDING_TSV = ("transaction_id", "status", "state", "source", "source_va", "target", "target_va", "created_at",
               "completed_at")


def landing(rows, *, wide: bool = False, people: bool = True) -> None:
    if not rows:
        message("No transactions.")
        return
    if not people:
        emit_tsv(LANDING_TSV, ((d["transaction_id"], d["status"], d["state"], d["source"]["domain"],
                                d["source"]["virtual_account"] or "", d["target"]["domain"],
                                d["target"]["virtual_account"] or "", d["created_at"], d["completed_at"] or "")
                               for d in (r.as_dict() for r in rows)))
        return
    table = []
    for r in rows:
        d = r.as_dict()
        table.append((d["transaction_id"], d["source"]["domain"], d["target"]["domain"], d["created_at"][:10],
                      (d["completed_at"] or "")[:10], d["status"]))
    print_table([Col("Transaction"), Col("Source"), Col("Target"), Col("Requested", drop=1),
                 Col("Completed", drop=2), Col("Status", WHOLE)], table, wide=wide)

