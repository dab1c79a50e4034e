"""How a transaction looks at a terminal (the JSON shape lives in the service views)."""

from __future__ import annotations

from atm.commands._output import escape, message, stdout_console

ITEM_ROWS = 50
WARNING_IDS = 5


def warning_line(w: dict) -> str:
    """One kind of warning: "1,204 licenses are in use ... (R13): SO1-1, SO1-2, ..., and 1,199 more"."""
    shown = w["assets"][:WARNING_IDS]
    if not shown:
        return w["message"]
    rest = w["count"] - len(shown)
    return f"{w['message']}: {', '.join(shown)}" + (f", and {rest:,} more" if rest > 0 else "")


def _place(p: dict) -> str:
    va = f" / {p['virtual_account']}" if p.get("virtual_account") else ""
    return f"{escape(p['name'])} ({escape(p['domain'])}){escape(va)}"


def transaction(view, *, all_items: bool = False) -> None:
    from rich import box
    from rich.table import Table

    data = view.as_dict()
    console = stdout_console()
    console.print(f"[bold]{escape(data['transaction_id'])}[/bold]  {escape(data['status'])}")
    console.print(f"  from      {_place(data['source'])}")
    console.print(f"  to        {_place(data['target'])}")
    console.print(f"  company   {'same company' if data['same_company'] else 'different companies (consent, form, screening)'}")
    console.print(f"  by        {escape(data['requested_by'])}  at {data['created_at']}"
                  + (f"  completed {data['completed_at']}" if data['completed_at'] else ""))
    counts = ", ".join(f"{n} {r}" for r, n in sorted(view.counts.items()))
    console.print(f"  items     {sum(view.counts.values())} ({counts})")
    if data["consents"]:
        console.print("Consents:")
        for c in data["consents"]:
            by = f" by {escape(c['by'])} at {c['at']}" if c["by"] else ""
            console.print(f"  {c['side']:<11} {c['decision']}{by}")
    if data["form"]:
        console.print("Request form:")
        for key, value in data["form"].items():
            console.print(f"  {escape(key)}: {escape(value)}")
    if data["warnings"]:
        console.print("Warnings:")
        for w in data["warnings"]:
            console.print(f"  [yellow]![/yellow] {escape(warning_line(w))}")
    items = data["items"] if all_items else data["items"][:ITEM_ROWS]
    total = sum(view.counts.values())
    table = Table(box=box.SIMPLE_HEAD, title="Items", pad_edge=False)
    table.add_column("Asset", no_wrap=True)
    for name in ("Kind", "Result", "Reason"):
        table.add_column(name)
    for i in items:
        table.add_row(escape(i["asset_id"]), i["kind"], i["result"], escape(i["reason"] or ""))
    console.print(table)
    if len(items) < total:
        console.print(f"  ... {total - len(items)} more items (atm status {data['transaction_id']} --all-items, "
                      "or --json)")
    console.print("Timeline:")
    for e in data["events"]:
        change = f"{e['from'] or '(new)'} → {e['to']}" if e["from"] != e["to"] else f"({e['to']})"
        note = f"  {escape(e['note'])}" if e["note"] else ""
        console.print(f"  {e['at'][:10]} {e['at'][11:19]}  {escape(e['actor'])}  {change}{note}")


def created(view) -> None:
    """After `atm request`: the id first, for scripts that read one line."""
    data = view.as_dict()
    print(data["transaction_id"])
    message(f"{data['status']}: {sum(view.counts.values())} asset(s) from {data['source']['domain']} to "
            f"{data['target']['domain']} / {data['target']['virtual_account']}.")
    for w in data["warnings"]:
        message(f"  ! {warning_line(w)}")
    message(f"Next: atm submit {data['transaction_id']}   (or atm cancel {data['transaction_id']})")


def validation(result) -> None:
    data = result.as_dict()
    console = stdout_console()
    verdict = "[green]valid[/green]" if data["valid"] else "[red]refused[/red]"
    console.print(f"Dry run ({verdict}): {len(data['transferable'])} transferable, "
                  f"{len(data['ineligible'])} not transferable; nothing was created.")
    console.print(f"  from {_place(data['source'])}")
    console.print(f"  to   {_place(data['target'])}"
                  f"  ({'same company' if data['same_company'] else 'different companies'})")
    for i in data["ineligible"]:
        console.print(f"  [red]✗[/red] {escape(i['asset_id'])}: {escape(i['message'])}")
    for w in data["warnings"]:
        console.print(f"  [yellow]![/yellow] {escape(warning_line(w))}")


def landing(rows) -> None:
    from rich import box
    from rich.table import Table

    if not rows:
        message("No transactions.")
        return
    table = Table(box=box.SIMPLE_HEAD, pad_edge=False)
    table.add_column("Transaction", no_wrap=True)
    for name in ("Source", "Target"):
        table.add_column(name, overflow="fold")
    table.add_column("Requested", no_wrap=True)
    table.add_column("Completed", no_wrap=True)
    table.add_column("Status")
    for r in rows:
        d = r.as_dict()
        table.add_row(d["transaction_id"], escape(d["source"]["domain"]), escape(d["target"]["domain"]),
                      d["created_at"][:10], (d["completed_at"] or "")[:10], escape(d["status"]))
    stdout_console().print(table)
