"""The docs stand alone and keep up with the code: every rule, status, exit code, JSON shape, import field and
link they promise is there, and they cite nothing outside the repository."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from tests.conftest import LEGAL, PARTNER, TARO

ROOT = Path(__file__).resolve().parent.parent
DOCS = ROOT / "docs"
MARKDOWN = [ROOT / "README.md", ROOT / "benchmarks" / "README.md", *sorted(DOCS.glob("*.md"))]

# The status machine as the rules describe it: state code -> the guide's label (docs/statuses.md).
STATES = {
    "validation_initiated": "Validation Initiated",
    "validation_completed": "Validation Completed",
    "pending_submission": "Pending Submission",
    "submitted": "Submitted",
    "awaiting_consent": "Submitted – Awaiting Transferor/Transferee consent",
    "compliance_screening": "Compliance Screening",
    "compliance_screening_rejected": "Compliance Screening Rejected",
    "transfer_initiated": "Transfer Initiated",
    "transfer_completed": "Transfer Completed",
    "transfer_completed_with_failure": "Transfer Completed with Failure",
    "cancelled": "Cancelled",
}


def read(path: Path) -> str:
    return path.read_text(encoding="utf-8")


def without_code(text: str) -> str:
    """The prose of a Markdown file: fenced blocks and inline code removed."""
    text = re.sub(r"^```.*?^```", "", text, flags=re.S | re.M)
    return re.sub(r"`[^`\n]*`", "", text)


def fenced(text: str, lang: str) -> list[str]:
    return re.findall(rf"^```{lang}\n(.*?)^```", text, flags=re.S | re.M)


# --- standing alone ---------------------------------------------------------------------


@pytest.mark.parametrize("path", MARKDOWN, ids=lambda p: str(p.relative_to(ROOT)))
def test_no_doc_cites_the_team_specification_or_anything_outside_the_repository(path):
    text = read(path)
    for outside in ("SPEC", "../shared", "shared/", "STYLE.md"):
        assert outside not in text, f"{path.name} mentions {outside!r}: the docs must stand alone"


SOURCES = [p for folder in ("atm", "tests", "tools", "benchmarks", ".ci") for p in sorted((ROOT / folder).rglob("*"))
           if p.is_file() and (p.suffix in (".py", ".toml", ".md", ".sql") or p.parent.name == ".ci")
           and "__pycache__" not in p.parts and p != Path(__file__).resolve()]


def test_no_source_file_cites_the_team_specification_either():
    """Code, tests and tools point readers at docs/, which they have, never at a specification they do not."""
    assert len(SOURCES) > 50  # the walk found the project
    offenders = [f"{p.relative_to(ROOT)}: {outside}" for p in SOURCES for outside in ("SPEC", "../shared", "STYLE.md")
                 if outside in p.read_text(encoding="utf-8", errors="replace")]
    assert not offenders, offenders


def _slug(heading: str) -> str:
    """The anchor GitHub gives a heading: lower case, punctuation dropped, spaces as hyphens."""
    return re.sub(r"[^\w\- ]", "", heading.strip().lower()).replace(" ", "-")


def _anchors(path: Path) -> set[str]:
    text = re.sub(r"^```.*?^```", "", read(path), flags=re.S | re.M)
    return {_slug(h) for h in re.findall(r"^#{1,6} (.+)$", text, flags=re.M)}


@pytest.mark.parametrize("path", MARKDOWN, ids=lambda p: str(p.relative_to(ROOT)))
def test_every_relative_link_points_at_a_file_of_the_repository(path):
    links = re.findall(r"\]\(([^)\s]+)\)", without_code(read(path)))
    for link in links:
        if re.match(r"[a-z][a-z0-9+.-]*:", link):  # https:, mailto:
            continue
        target, _, anchor = link.partition("#")
        file = (path.parent / target).resolve() if target else path
        assert file.is_relative_to(ROOT), f"{path.name}: {link} leaves the repository"
        assert file.exists(), f"{path.name}: {link} points at nothing"
        if anchor and file.suffix == ".md":
            assert anchor in _anchors(file), f"{path.name}: {link}: no such heading in {file.name}"


def test_the_readme_links_every_page_of_the_docs():
    readme, index = read(ROOT / "README.md"), read(DOCS / "README.md")
    for page in DOCS.glob("*.md"):
        if page.name != "README.md":
            assert f"({page.name})" in index, f"docs/README.md does not list {page.name}"
    for page in ("rules.md", "statuses.md", "json.md", "import.md", "exit-codes.md"):
        assert f"(docs/{page})" in readme, f"README.md does not link docs/{page}"


# --- rules, statuses, exit codes ------------------------------------------------------------------


def test_every_rule_has_its_own_section_in_rules_md():
    text = read(DOCS / "rules.md")
    for n in range(1, 16):
        assert re.search(rf"^## R{n} - \S", text, flags=re.M), f"docs/rules.md has no section for R{n}"
    assert re.search(r"^## Input rules", text, flags=re.M)


def test_every_state_code_and_label_is_in_statuses_md():
    text = read(DOCS / "statuses.md")
    for code, label in STATES.items():
        assert f"| {label} | `{code}` |" in text, f"docs/statuses.md: no table row for {code}"


def test_the_written_out_states_are_the_states_of_the_code():
    from atm.domain.transfer import Status

    assert {s.value: s.label for s in Status} == STATES


def _mermaid() -> str:
    blocks = fenced(read(DOCS / "statuses.md"), "mermaid")
    assert len(blocks) == 1, "docs/statuses.md should hold one Mermaid diagram"
    return blocks[0]


def test_the_mermaid_diagram_declares_every_state_with_its_label():
    diagram = _mermaid()
    assert diagram.splitlines()[0].strip() == "stateDiagram-v2"
    # A label with spaces is only valid as `state "Label" as code`: an id with spaces breaks the diagram.
    declared = dict((code, label) for label, code in re.findall(r'^\s*state "([^"]+)" as (\w+)\s*$', diagram, re.M))
    assert declared == STATES


def _edges(diagram: str) -> list[tuple[str, str, str]]:
    edges = []
    for line in diagram.splitlines():
        if "-->" in line:
            m = re.fullmatch(r"\s*(\[\*\]|\w+) --> (\[\*\]|\w+)(?: : (.+))?\s*", line)
            assert m, f"unexpected Mermaid line: {line!r}"
            edges.append((m.group(1), m.group(2), m.group(3) or ""))
    return edges


def test_the_mermaid_diagram_draws_exactly_the_transitions_of_the_status_machine():
    from atm.domain.transfer import END_STATES, TRANSITIONS

    edges = _edges(_mermaid())
    inner = {(a, b) for a, b, _ in edges if "[*]" not in (a, b)}
    assert inner == {(s.value, t.value) for (s, _), t in TRANSITIONS.items()}
    assert {b for a, b, _ in edges if a == "[*]"} == {"validation_initiated"}
    assert {a for a, b, _ in edges if b == "[*]"} == {s.value for s in END_STATES}
    for a, b, label in edges:
        assert label or b == "[*]", f"the transition {a} --> {b} says nothing about what triggers it"


def test_every_exit_code_is_explained():
    from atm.commands._errors import EXIT_CODES

    codes = {0} | {code for _, code in EXIT_CODES}
    page, readme = read(DOCS / "exit-codes.md"), read(ROOT / "README.md")
    for code in codes:
        assert re.search(rf"^## {code} - \S", page, flags=re.M), f"docs/exit-codes.md has no section for {code}"
        assert f"\n| {code} | " in page, f"docs/exit-codes.md: no table row for {code}"
        assert f"\n| {code} | " in readme, f"README.md: no exit-code row for {code}"


# --- JSON shapes -------------------------------------------------------------------------------------


def test_json_doc_names_every_warning_note_and_reason_code():
    from atm.domain.eligibility import Reason
    from atm.domain.side_effects import R13

    text = read(DOCS / "json.md")
    for effect in R13:
        assert f"| `{effect.code}` |" in text, f"docs/json.md: no row for the R13 code {effect.code}"
        assert f"| `{effect.code}` |" in read(DOCS / "rules.md"), f"docs/rules.md: no row for {effect.code}"
    for code in ("relationship", "form_not_stored", "skipped_<reason>"):
        assert f"| `{code}` |" in text
    # `not_in_source` is never reported: an asset outside the source SA is "not_found", whoever owns it (R2).
    for reason in Reason:
        if reason is not Reason.NOT_IN_SOURCE:
            assert f"| `{reason.value}` |" in text, f"docs/json.md: no row for the reason {reason.value}"


def _shape(value, key: str | None = None):
    """Keys all the way down (lists by their first element), values ignored; `recheck` maps ids to counts."""
    if key == "recheck":
        return "ids"
    if isinstance(value, dict):
        return frozenset((k, _shape(v, k)) for k, v in value.items())
    if isinstance(value, list):
        return ("list", _shape(value[0]) if value else None)
    return None


def _all_shapes(value, into: set) -> set:
    into.add(_shape(value))
    if isinstance(value, dict):
        for k, v in value.items():
            if k != "recheck":
                _all_shapes(v, into)
    elif isinstance(value, list):
        for v in value:
            _all_shapes(v, into)
    return into


def _real_outputs(cli, tmp_path) -> dict[str, object]:
    """The tool's --json output for every shape docs/json.md shows, made by the walkthroughs of the docs."""
    out: dict[str, object] = {"init": cli.json("init", "--sample")}
    out["accounts list"] = cli.json("accounts", "list", user=TARO)
    out["accounts show"] = cli.json("accounts", "show", "acme.co.jp", "--counts", user=TARO)
    out["license"] = cli.json("assets", "list", "--account", "acme.co.jp", "--licenses", "--limit", "1", user=TARO)
    out["device"] = cli.json("assets", "list", "--account", "acme.co.jp", "--serial", "FCW2245L0CS", user=TARO)
    dry = cli("request", "--from", "acme.co.jp", "--to", "acme-osaka.co.jp", "--to-va", "DEFAULT", "--same-company",
              "yes", "--asset", "SO12345678-1", "--asset", "SO12345679-1", "--dry-run", "--json", user=TARO)
    assert dry.exit_code == 1
    out["dry run"] = json.loads(dry.stdout)
    out["same company"] = cli.json("request", "--from", "acme.co.jp", "--to", "acme-osaka.co.jp", "--to-va",
                                   "DEFAULT", "--same-company", "yes", "--asset", "SO12345678-1", user=TARO)
    form = tmp_path / "form.json"
    form.write_text(json.dumps({"reason": "Lab equipment sold to Globex",
                                "transferor_contact_email": "taro.yamada@acme.co.jp",
                                "transferee_contact_email": "john.smith@globex.com"}))
    txn = cli.json("request", "--from", "acme.co.jp", "--to", "globex.com", "--to-va", "DEFAULT", "--same-company",
                   "no", "--asset", "SO12345678-3", "--asset", "SO12345679-1", "--asset", "FOC2231X0AB", "--form",
                   str(form), "--skip-ineligible", user=PARTNER)["transaction_id"]
    cli.json("submit", txn, "--yes", user=PARTNER)
    cli.json("consent", txn, "--accept", user="john.smith@globex.com")
    update = tmp_path / "update.json"
    update.write_text(json.dumps({"licenses": [{"id": "SO12345678-3", "enterprise_agreement": True}]}))
    out["import"] = cli.json("import", str(update))
    cli.json("consent", txn, "--accept", user=PARTNER)
    out["cross company"] = cli.json("screen", txn, "--approve", user=LEGAL)
    out["landing"] = cli.json("status", user=PARTNER)
    out["notifications"] = cli.json("notifications", user=PARTNER)
    return out


def test_the_json_examples_have_the_shapes_the_tool_prints(cli, tmp_path):
    examples = [json.loads(block) for block in fenced(read(DOCS / "json.md"), "json")]
    documented = {_shape(e) for e in examples}
    real = _real_outputs(cli, tmp_path)
    assert real["cross company"]["items"][0]["result"] == "failed"  # the example shows every part of the object
    for name, value in real.items():
        assert _shape(value) in documented, f"docs/json.md has no example shaped like `{name}` --json"
    every = set()
    for value in real.values():
        _all_shapes(value, every)
    for example in examples:
        assert _shape(example) in every, f"docs/json.md: an example the tool no longer prints: {example!r:.200}"


# --- import ------------------------------------------------------------------------------------------


def test_import_doc_names_every_field():
    from atm.domain.records import ACCOUNT_KEYS, DEVICE_KEYS, LICENSE_KEYS, MINOR_KEYS, USER_KEYS, VA_KEYS
    from atm.io.sources import SECTIONS, TABULAR_COLUMNS

    text = read(DOCS / "import.md")
    for key in USER_KEYS | ACCOUNT_KEYS | LICENSE_KEYS | DEVICE_KEYS | VA_KEYS | MINOR_KEYS | TABULAR_COLUMNS:
        assert f"`{key}`" in text, f"docs/import.md does not name the field {key}"
    for key in USER_KEYS | ACCOUNT_KEYS | LICENSE_KEYS | DEVICE_KEYS:
        assert f"| `{key}` |" in text, f"docs/import.md: no table row for {key}"
    for section in SECTIONS:
        assert f"`{section}`" in text


def test_the_import_examples_import(cli, sample_db, tmp_path):
    text = read(DOCS / "import.md")
    (world,) = [b for b in fenced(text, "json") if '"users"' in b]
    (table,) = fenced(text, "csv")
    (tmp_path / "world.json").write_text(world, encoding="utf-8")
    (tmp_path / "assets.csv").write_text(table, encoding="utf-8")
    summary = cli.json("import", str(tmp_path / "world.json"))
    assert (summary["users"], summary["accounts"], summary["created"]) == (3, 1, 2)
    summary = cli.json("import", str(tmp_path / "assets.csv"))
    assert summary["licenses"] == 1 and summary["devices"] == 1
