"""A stateful (Hypothesis) test of the whole transfer workflow, through the service layer.

Random users take random actions on a small world of three Smart Accounts:
request, submit, consent, screening, cancel, viewing, plus re-imports that change
an asset under a running transaction (R5 at submit and at execution) and
simulated crashes right after a chunk of the move was committed (R12 resume).
Every action may be refused with an `AtmError`; any other exception fails.

The machine keeps its own model of where every asset is and, for each action,
predicts whether atm must accept or refuse it (R1, R2, R3, R4, R5, R7, R8, R10,
R11). After every step it checks the invariants against the database:

1. statuses move only along TRANSITIONS (docs/rules.md), events chain;
2. no asset in two active transactions; an item is active iff its transaction has not ended;
3. assets are conserved, each in exactly one existing (account, VA);
4. assets move only through items recorded as 'transferred' (the model agrees with the DB);
5. item results fit the end state;
6. events are never rewritten (R15);
7. R1: request/submit/cancel only by an admin of both SAs;
8. R11: only compliance users approve or reject screening (and R10: consent by an admin of a side);
plus R14: the stored notifications are exactly those the audit trail calls for.

Beyond the invariants, each action's outcome is predicted: success, or the kind of refusal (not found,
permission denied, bad input, rule), with the precedence of docs/exit-codes.md. An item moved by execution
must have been eligible at that moment, an item that failed must not have been.
"""

from __future__ import annotations

import copy
import json
import shutil
import tempfile
from collections import Counter
from dataclasses import dataclass
from pathlib import Path

from hypothesis import HealthCheck, event, settings
from hypothesis import strategies as st
from hypothesis.stateful import Bundle, RuleBasedStateMachine, initialize, invariant, multiple, rule

from atm.domain.errors import AtmError, InvalidInput, NotFound, PermissionDenied, RuleViolation
from atm.domain.transfer import END_STATES, TRANSITIONS, Status
from atm.services import transfers as svc
from atm.services import views
from atm.services.importing import import_file
from atm.services.unit_of_work import UnitOfWork
from atm.storage.database import open_database
from atm.storage.migrations import ensure_schema
from tests import backends

# --- the world ---------------------------------------------------------------------------------

ALPHA, BETA, GAMMA = "alpha.example", "beta.example", "gamma.example"
ACCOUNTS = (ALPHA, BETA, GAMMA)
# alpha and beta are divisions of one company (same legal entity); gamma is another company.
VAS = {ALPHA: ("DEFAULT", "Lab"), BETA: ("DEFAULT", "Factory"), GAMMA: ("DEFAULT", "Edge")}
SSM_VAS = {ALPHA: {"Lab"}, BETA: {"Factory"}, GAMMA: {"Edge"}}

PARTNER = "pat@partner.example"  # admin of all three
ALICE = "alice@alpha.example"  # admin of alpha only
GINA = "gina@gamma.example"  # admin of gamma only
BOB = "bob@alpha.example"  # plain user of alpha and gamma
CAROL = "carol@legal.example"  # compliance, no role
EVE = "eve@outside.example"  # outsider, no role anywhere
USERS = (PARTNER, ALICE, GINA, BOB, CAROL, EVE)
COMPLIANCE = {CAROL}
ROLES = {
    PARTNER: {ALPHA: "admin", BETA: "admin", GAMMA: "admin"},
    ALICE: {ALPHA: "admin"},
    GINA: {GAMMA: "admin"},
    BOB: {ALPHA: "user", GAMMA: "user"},
    CAROL: {},
    EVE: {},
}


def is_admin(user: str, account: str) -> bool:
    return ROLES.get(user, {}).get(account) == "admin"


def can_view(user: str, account: str) -> bool:
    return account in ROLES.get(user, {}) or user in COMPLIANCE


def _lic(account, va, so, line, qty, **flags):
    rec = {"account": account, "virtual_account": va, "sales_order": so, "line": line,
           "pid": f"LIC-{so}-{line}", "quantity": qty, "license_type": "Smart",
           "minor_lines": [{"line": f"{line}.1", "pid": f"LIC-{so}-{line}-M1", "quantity": qty},
                           {"line": f"{line}.4", "pid": f"LIC-{so}-{line}-M4", "quantity": 1}]}
    rec.update(flags)
    return rec


def _dev(account, va, serial, **flags):
    rec = {"serial_number": serial, "pid": "C9300-24T", "account": account, "virtual_account": va,
           "host_id": f"H-{serial}", "uuid": f"uuid-{serial}", "license_type": "Smart"}
    rec.update(flags)
    return rec


def world() -> dict:
    def acct(domain, name, legal, admins, users):
        default, ssm = VAS[domain]
        return {"domain": domain, "name": name, "legal_entity": legal,
                "virtual_accounts": [{"name": default}, {"name": ssm, "ssm_onprem": True}],
                "admins": admins, "users": users}

    return {
        "users": [
            {"id": PARTNER, "name": "Pat Partner"}, {"id": ALICE, "name": "Alice Alpha"},
            {"id": GINA, "name": "Gina Gamma"}, {"id": BOB, "name": "Bob Plain"},
            {"id": CAROL, "name": "Carol Legal", "compliance": True}, {"id": EVE, "name": "Eve Outsider"},
        ],
        "accounts": [
            acct(ALPHA, "Alpha Japan", "Alpha Holdings KK", [PARTNER, ALICE], [BOB]),
            acct(BETA, "Alpha Osaka", "Alpha Holdings KK", [PARTNER], []),
            acct(GAMMA, "Gamma Corp", "Gamma LLC", [PARTNER, GINA], [BOB]),
        ],
        "licenses": [
            _lic(ALPHA, "DEFAULT", "1001", "1", 10, in_use=4),
            _lic(ALPHA, "DEFAULT", "1001", "2", 5, enterprise_agreement=True),
            _lic(ALPHA, "DEFAULT", "1002", "1", 3, pending_upgrade=True),
            _lic(ALPHA, "DEFAULT", "1003", "1", 2, reserved=True),
            _lic(ALPHA, "Lab", "1004", "1", 8),
            _lic(BETA, "DEFAULT", "2001", "1", 20),
            _lic(BETA, "DEFAULT", "2001", "2", 1, enterprise_agreement=True),
            _lic(BETA, "Factory", "2002", "1", 4),
            _lic(GAMMA, "DEFAULT", "3001", "1", 6),
            _lic(GAMMA, "DEFAULT", "3001", "2", 6, pending_upgrade=True),
            _lic(GAMMA, "DEFAULT", "3002", "1", 1, reserved=True),
            _lic(GAMMA, "Edge", "3003", "1", 9),
            _lic(GAMMA, "DEFAULT", "3004", "1", 2),
        ],
        "devices": [
            _dev(ALPHA, "DEFAULT", "FOCA1"),
            _dev(ALPHA, "DEFAULT", "FOCA2", cslu=True),
            _dev(ALPHA, "Lab", "FOCA3"),
            _dev(ALPHA, "Lab", "FOCA4", pnp_status="Provisioned"),
            _dev(BETA, "DEFAULT", "FOCB1"),
            _dev(BETA, "Factory", "FOCB2"),
            _dev(BETA, "DEFAULT", "FOCB3", reserved=True),
            _dev(GAMMA, "DEFAULT", "FOCG1"),
            _dev(GAMMA, "Edge", "FOCG2"),
            _dev(GAMMA, "DEFAULT", "FOCG3", pnp_status="Provisioned"),
            _dev(GAMMA, "DEFAULT", "FOCG4"),
            _dev(GAMMA, "DEFAULT", "FOCG5", cslu=True),
        ],
    }


def _asset_id(rec: dict) -> str:
    return rec.get("id") or rec.get("serial_number") or f"SO{rec['sales_order']}-{rec['line']}"


BASE_RECORDS = {_asset_id(r): ("licenses", r) for r in world()["licenses"]}
BASE_RECORDS.update({_asset_id(r): ("devices", r) for r in world()["devices"]})
ASSET_IDS = tuple(sorted(BASE_RECORDS))
BOGUS_ID = "SO9999-9"  # an id that does not exist

FORM = {"reason": "reorganisation", "transferor_contact_email": "ops@alpha.example",
        "transferee_contact_email": "ops@gamma.example"}
FORMS = st.sampled_from([
    FORM, FORM, FORM, None,
    {k: v for k, v in FORM.items() if k != "reason"},  # incomplete
    dict(FORM, transferee_contact_email="not an address"),  # invalid
])

ALLOWED = {(a.value, b.value) for (a, _), b in TRANSITIONS.items()}
ENDED = {s.value for s in END_STATES}
COMPLETED = {Status.TRANSFER_COMPLETED.value, Status.TRANSFER_COMPLETED_WITH_FAILURE.value}
NOT_MOVED = {Status.CANCELLED.value, Status.COMPLIANCE_SCREENING_REJECTED.value}


# Actors, weighted towards the ones who can do something (the others exercise the refusals).
ANYONE = st.sampled_from([PARTNER, PARTNER, ALICE, GINA, BOB, CAROL, EVE])
SCREENER = st.sampled_from([CAROL, CAROL, CAROL, PARTNER, EVE])


class SimulatedCrash(Exception):
    """Raised from the progress callback, i.e. right after a chunk of the move was committed."""


def crashing_progress(done: int, total: int) -> None:
    raise SimulatedCrash(f"killed after {done}/{total}")


def first_refusal(*checks: tuple[bool, type]) -> type | None:
    """The error category the model expects: the first check that applies, or None for success.

    docs/exit-codes.md: where several refusals apply, not found wins over permission denied over a rule.
    """
    for applies, category in checks:
        if applies:
            return category
    return None


def check_outcome(ok: bool, out, expected: type | None, what: str) -> None:
    if expected is None:
        assert ok, f"{what}: expected success, refused with {type(out).__name__}: {out}"
    else:
        assert not ok, f"{what}: expected a refusal ({expected.__name__}), but it was done"
        assert isinstance(out, expected), \
            f"{what}: expected a refusal of kind {expected.__name__}, got {type(out).__name__}: {out}"


@dataclass
class ModelAsset:
    kind: str
    account: str
    va: str
    ea: bool = False
    pending_upgrade: bool = False


# --- the machine ------------------------------------------------------------------------------


class TransferWorkflow(RuleBasedStateMachine):
    txns = Bundle("txns")

    def __init__(self) -> None:
        super().__init__()
        self.dir = Path(tempfile.mkdtemp(prefix="atm-stateful-"))
        self.target = backends.fresh_target(self.dir)
        self.db = open_database(self.target, create=True)
        ensure_schema(self.db)
        self.uow = UnitOfWork(self.db)
        w = world()
        import_file(self.uow, self._write("world.json", w))
        self.records = {aid: copy.deepcopy(rec) for aid, (_, rec) in BASE_RECORDS.items()}
        self.model: dict[str, ModelAsset] = {}
        for section, kind in (("licenses", "license"), ("devices", "device")):
            for rec in w[section]:
                self.model[_asset_id(rec)] = ModelAsset(
                    kind, rec["account"], rec["virtual_account"],
                    bool(rec.get("enterprise_agreement")), bool(rec.get("pending_upgrade")))
        self.initial_ids = Counter(r[0] for r in self.db.execute("SELECT id FROM assets"))
        assert sorted(self.initial_ids) == sorted(ASSET_IDS) and set(self.initial_ids.values()) == {1}
        self.seen_events: dict[str, list[tuple]] = {}  # invariant 6
        self.seen_items: dict[tuple[str, int], tuple[str, str]] = {}  # (txn, seq) -> (asset, result)
        self.active_assets: dict[str, str] = {}  # asset -> txn holding it, as of the last sync
        self.import_count = 0
        self.new_txns: set[str] = set()  # created by the current step
        self.created: list[str] = []  # every transaction, in creation order

    def teardown(self) -> None:
        for (state,) in self.db.execute("SELECT state FROM transactions"):
            event(f"a transaction ended the run in {state}")
        self.db.close()
        backends.drop_target(self.target)
        shutil.rmtree(self.dir, ignore_errors=True)

    def _write(self, name: str, data: dict) -> Path:
        path = self.dir / name
        path.write_text(json.dumps(data), encoding="utf-8")
        return path

    # --- reading the database -----------------------------------------------------------

    def _txn(self, tid: str) -> dict:
        row = self.db.execute(
            "SELECT source_account, source_va, target_account, target_va, same_company, state, requested_by "
            "FROM transactions WHERE id = ?", (tid,)).fetchone()
        assert row is not None, f"{tid} vanished"
        keys = ("src", "src_va", "tgt", "tgt_va", "same", "state", "by")
        return dict(zip(keys, row))

    def _items(self, tid: str) -> list[tuple]:
        return self.db.execute("SELECT seq, asset_id, result, reason, active FROM transaction_items "
                               "WHERE transaction_id = ? ORDER BY seq", (tid,)).fetchall()

    def _consents(self, tid: str) -> dict[str, str]:
        return dict(self.db.execute("SELECT side, decision FROM consents WHERE transaction_id = ?", (tid,)))

    # --- the model's R5 ---------------------------------------------------------------------

    def _ineligible(self, aid: str, src: str, src_va: str | None, tgt: str, tgt_va: str, *,
                    check_active: bool) -> str | None:
        a = self.model.get(aid)
        if a is None or a.account != src:
            return "not_found"
        if src_va is not None and a.va != src_va:
            return "not_in_source_va"
        if a.account == tgt and a.va == tgt_va:
            return "already_in_target"
        if a.kind == "license" and a.ea:
            return "enterprise_agreement"
        if a.kind == "license" and a.pending_upgrade:
            return "pending_upgrade"
        if a.kind == "device" and a.va in SSM_VAS[src]:
            return "ssm_onprem_device"
        if check_active and aid in self.active_assets:
            return "in_active_transaction"
        return None

    # --- after every action: follow item results, move the model's assets ----------------

    def _sync(self) -> None:
        txn_info: dict[str, dict] = {}
        rows = self.db.execute(
            "SELECT transaction_id, seq, asset_id, result, reason, active FROM transaction_items").fetchall()
        moves: list[tuple[str, str, str]] = []
        for tid, seq, aid, result, reason, _active in rows:
            prev = self.seen_items.get((tid, seq))
            if prev is not None:
                assert prev[0] == aid, f"item {tid}#{seq} changed its asset {prev[0]} -> {aid}"
                if prev[1] != "pending":
                    assert result == prev[1], f"item {tid}#{seq} result rewritten {prev[1]} -> {result}"
            else:
                assert tid in self.new_txns, f"item {tid}#{seq} appeared outside its request"
                assert result == "pending", f"new item {tid}#{seq} is {result}"
            if result != (prev[1] if prev else "pending") and result in ("transferred", "failed"):
                t = txn_info.setdefault(tid, self._txn(tid))
                verdict = self._ineligible(aid, t["src"], t["src_va"], t["tgt"], t["tgt_va"], check_active=False)
                if result == "transferred":
                    assert verdict is None, f"{aid} was moved by {tid} although ineligible ({verdict}) (R5, R12)"
                    moves.append((aid, t["tgt"], t["tgt_va"]))
                else:
                    assert verdict is not None, f"{aid} failed in {tid} although eligible: {reason}"
                    assert reason, f"failed item {tid}#{seq} has no reason"
            self.seen_items[(tid, seq)] = (aid, result)
        assert len(rows) == len(self.seen_items), "transaction items disappeared"
        for aid, account, va in moves:
            self.model[aid].account, self.model[aid].va = account, va
        self.active_assets = dict(self.db.execute(
            "SELECT asset_id, transaction_id FROM transaction_items WHERE active = 1").fetchall())
        self.new_txns = set()

    def _call(self, fn, *args, **kwargs):
        """Run a service call: (True, result) or (False, the AtmError); anything else propagates."""
        try:
            out = fn(self.uow, *args, **kwargs)
        except AtmError as exc:
            assert not self.db.in_transaction, "a refusal left a database transaction open"
            event(f"{fn.__name__}: refused ({type(exc).__name__})")
            return False, exc
        event(f"{fn.__name__}: done")
        return True, out

    # --- rules ----------------------------------------------------------------------------

    @initialize(target=txns, data=st.data())
    def two_requests(self, data):
        """Every run starts with one cross-company and one same-company transaction from alpha."""
        free = [a for a in ("SO1001-1", "SO1003-1", "SO1004-1", "FOCA1", "FOCA2")]
        ids = data.draw(st.lists(st.sampled_from(free), min_size=1, max_size=4, unique=True), label="asset_ids")
        rest = [a for a in free if a not in ids] or ["FOCA3"]  # FOCA3 (SSM On-Prem VA): refused
        cross = self._request(PARTNER, ALPHA, None, GAMMA, "DEFAULT", False, False, FORM, ids)
        same = self._request(PARTNER, ALPHA, "DEFAULT", BETA, "Factory", True, False, None, rest)
        # Push the cross-company one some way along (submit, then each side consents), so that most runs
        # have a transaction waiting for consent or screening while assets change under it.
        steps = data.draw(st.integers(0, 3), label="cross steps")
        if steps >= 1:
            self.submit(cross, PARTNER, False)
        if steps >= 2:
            self.consent(cross, ALICE, True, "transferor")
        if steps >= 3:
            self.consent(cross, GINA, True, "transferee")
        return multiple(*[t for t in (cross, same) if isinstance(t, str)])

    @rule(target=txns, data=st.data(), user=ANYONE, src=st.sampled_from(ACCOUNTS),
          tgt=st.sampled_from(ACCOUNTS), same_answer=st.sampled_from([True, False, None]),
          skip=st.booleans(), form=FORMS)
    def request(self, data, user, src, tgt, same_answer, skip, form):
        """Anyone asks for anything: mostly refusals, each of which the model must predict."""
        src_va = data.draw(st.sampled_from((None,) + VAS[src]), label="src_va")
        tgt_va = data.draw(st.sampled_from(VAS[tgt]), label="tgt_va")
        in_source = sorted(a for a, m in self.model.items() if m.account == src)
        pool = st.sampled_from(in_source) if in_source else st.sampled_from(ASSET_IDS)
        ids = data.draw(st.lists(st.one_of(pool, pool, st.sampled_from(ASSET_IDS + (BOGUS_ID,))),
                                 max_size=5), label="asset_ids")
        return self._request(user, src, src_va, tgt, tgt_va, same_answer, skip, form, ids)

    @rule(target=txns, data=st.data(), user=st.sampled_from([PARTNER, PARTNER, ALICE]),
          same_answer=st.booleans(), skip=st.sampled_from([True, True, False]))
    def request_as_an_admin(self, data, user, same_answer, skip):
        """An admin of both SAs with a sensible request (most of these succeed, so the workflow goes on)."""
        pairs = [(a, b) for a in ACCOUNTS for b in ACCOUNTS if a != b] + [(a, a) for a in ACCOUNTS]
        src, tgt = (ALPHA, ALPHA) if user == ALICE else data.draw(st.sampled_from(pairs), label="src, tgt")
        src_va = data.draw(st.sampled_from((None, None, "DEFAULT")), label="src_va")
        tgt_va = data.draw(st.sampled_from(VAS[tgt]), label="tgt_va")
        if src == tgt and tgt_va == "DEFAULT":
            src_va = None
        in_source = sorted(a for a, m in self.model.items() if m.account == src and (src, m.va) != (tgt, tgt_va)
                           and a not in self.active_assets)
        if not in_source:
            return multiple()
        ids = data.draw(st.lists(st.sampled_from(in_source), min_size=1, max_size=4), label="asset_ids")
        return self._request(user, src, src_va, tgt, tgt_va, same_answer, skip, FORM, ids)

    def _request(self, user, src, src_va, tgt, tgt_va, same_answer, skip, form, ids):
        spec = svc.RequestSpec(source=src, target=tgt, target_va=tgt_va, source_va=src_va,
                               same_company=same_answer, asset_ids=tuple(ids), form=form, skip_ineligible=skip)

        # The model's verdict, in the order the service checks (R2, R1, R3, R4, R5).
        unique = list(dict.fromkeys(ids))
        verdicts = {a: self._ineligible(a, src, src_va, tgt, tgt_va, check_active=True) for a in unique}
        eligible = [a for a in unique if verdicts[a] is None]
        same = True if src == tgt else same_answer
        form_ok = form is not None and "reason" in form and "@" in form["transferee_contact_email"] \
            and " " not in form["transferee_contact_email"]
        expected = first_refusal(
            (not can_view(user, src) or not can_view(user, tgt), NotFound),  # R2
            (not (is_admin(user, src) and is_admin(user, tgt)), PermissionDenied),  # R1
            (src == tgt and src_va == tgt_va, RuleViolation),  # R3
            (src == tgt and same_answer is False, RuleViolation),  # R4
            (same is None, InvalidInput),
            (not same and not form_ok, InvalidInput),  # R4: the form
            (not unique, InvalidInput),
            (not eligible or (not skip and len(eligible) < len(unique)), RuleViolation),  # R5
        )
        ok, out = self._call(svc.request, user, spec)
        if ok:
            tid = out.txn.id
            self.new_txns = {tid}
            self.created.append(tid)
        self._sync()
        check_outcome(ok, out, expected, f"request by {user} {src}/{src_va} -> {tgt}/{tgt_va} same={same_answer} "
                                         f"skip={skip} form={form} ids={ids} verdicts={verdicts}")
        if not ok:
            return multiple()
        t = self._txn(tid)
        assert t["state"] == "pending_submission" and t["by"] == user
        assert bool(t["same"]) == same
        assert [r[1] for r in self._items(tid)] == eligible, "items differ from the eligible assets (R5)"
        assert (t["src"], t["src_va"], t["tgt"], t["tgt_va"]) == (src, src_va, tgt, tgt_va)
        return tid

    @rule(txn=txns, user=ANYONE, crash=st.sampled_from([False, False, False, True]))
    def submit(self, txn, user, crash):
        t = self._txn(txn)
        items = self._items(txn)
        revalidation = [self._ineligible(r[1], t["src"], t["src_va"], t["tgt"], t["tgt_va"], check_active=False)
                        for r in items]
        visible = can_view(user, t["src"]) or can_view(user, t["tgt"])
        admin = is_admin(user, t["src"]) and is_admin(user, t["tgt"])
        state = t["state"]
        expected = first_refusal(
            (not visible, NotFound),
            (not admin, PermissionDenied),  # R1
            (state == "pending_submission" and any(v is not None for v in revalidation), RuleViolation),  # R5
            (state not in ("pending_submission", "submitted", "transfer_initiated"), RuleViolation),  # R7
        )
        try:
            ok, out = self._call(svc.submit, user, txn, progress=crashing_progress if crash else None)
            crashed = False
        except SimulatedCrash:
            ok, out, crashed = True, None, True
        self._sync()
        check_outcome(ok, out, expected, f"submit {txn} ({state}) by {user}, revalidation {revalidation}")
        if not ok:
            assert self._txn(txn)["state"] == state, "a refused submit changed the status"
            return
        after = self._txn(txn)["state"]
        moving = t["same"] or state == "transfer_initiated"
        if crashed:
            assert after == "transfer_initiated"
            assert all(r[2] in ("transferred", "failed") for r in self._items(txn))
        elif moving:
            # Same company: validated just now, nothing changed since, so everything moved.
            assert after in COMPLETED
            if state == "pending_submission":
                assert after == "transfer_completed", f"{txn}: eligible at submit but {after}"
        else:
            assert after == "awaiting_consent"

    @rule(txn=txns, user=ANYONE, accept=st.booleans(),
          side=st.sampled_from([None, None, "transferor", "transferee"]))
    def consent(self, txn, user, accept, side):
        t = self._txn(txn)
        consents = self._consents(txn)
        visible = can_view(user, t["src"]) or can_view(user, t["tgt"])
        sides = [s for s, acc in (("transferor", t["src"]), ("transferee", t["tgt"])) if is_admin(user, acc)]
        if side is not None:
            chosen = side if side in sides else None
        elif not sides:
            chosen = None
        elif len(sides) == 2 and not t["same"]:
            pending = [s for s in sides if consents.get(s) == "pending"]
            chosen = pending[0] if len(pending) == 1 else ""  # "": must say which side
        else:
            chosen = sides[0]
        expected = first_refusal(
            (not visible, NotFound),  # R2
            (chosen is None, PermissionDenied),  # R10: admin of that side
            (chosen == "", InvalidInput),
            (bool(t["same"]), RuleViolation),  # R4: no consent step
            (t["state"] != "awaiting_consent", RuleViolation),  # R7
            (consents.get(chosen) != "pending", RuleViolation),  # R10: each side decides once
        )
        ok, out = self._call(svc.consent, user, txn, accept=accept, side=side)
        self._sync()
        check_outcome(ok, out, expected, f"consent {txn} ({t['state']}, {consents}) by {user} side={side} "
                                         f"accept={accept}")
        after = self._txn(txn)["state"]
        if not ok:
            assert after == t["state"] and self._consents(txn) == consents
            return
        now = self._consents(txn)
        assert now[chosen] == ("accepted" if accept else "declined")
        if not accept:
            assert after == "cancelled"
        elif all(v == "accepted" for v in now.values()):
            assert after == "compliance_screening"
        else:
            assert after == "awaiting_consent"

    @rule(txn=txns, user=SCREENER, approve=st.booleans(),
          reason=st.sampled_from(["export control hit", "export control hit", None, "  "]),
          crash=st.sampled_from([False, False, False, True]))
    def screen(self, txn, user, approve, reason, crash):
        t = self._txn(txn)
        state = t["state"]
        has_reason = bool((reason or "").strip())
        visible = can_view(user, t["src"]) or can_view(user, t["tgt"])
        expected = first_refusal(
            (not approve and not has_reason, InvalidInput),  # R11: a rejection carries a reason
            (not visible, NotFound),
            (user not in COMPLIANCE, PermissionDenied),  # R11
            (state not in (("compliance_screening", "transfer_initiated") if approve else ("compliance_screening",)),
             RuleViolation),  # R7
        )
        try:
            ok, out = self._call(svc.screen, user, txn, approve=approve, reason=reason,
                                 progress=crashing_progress if crash else None)
            crashed = False
        except SimulatedCrash:
            ok, out, crashed = True, None, True
        self._sync()
        check_outcome(ok, out, expected, f"screen {txn} ({state}) by {user} approve={approve} reason={reason!r}")
        after = self._txn(txn)["state"]
        if not ok:
            assert after == state
        elif crashed:
            assert after == "transfer_initiated"
        elif approve:
            assert after in COMPLETED
        else:
            assert after == "compliance_screening_rejected"

    @rule(data=st.data())
    def advance(self, data):
        """The natural next step of an open transaction, by the right person, so that transactions reach
        their ends (the other rules pick any transaction and anyone, and are mostly refused)."""
        # In creation order (transaction ids are random: sorting by them would make the draws irreproducible).
        open_txns = [tid for tid in self.created if self._txn(tid)["state"] not in ENDED]
        if not open_txns:
            return self._sync()
        txn = data.draw(st.sampled_from(open_txns), label="txn")
        t = self._txn(txn)
        state = t["state"]
        both = PARTNER if not (t["src"] == t["tgt"] == ALPHA) else data.draw(st.sampled_from([PARTNER, ALICE]))
        crash = data.draw(st.sampled_from([False, False, False, False, True]), label="crash")
        if state in ("pending_submission", "submitted") or (state == "transfer_initiated" and t["same"]):
            return self.submit(txn, both, crash)
        if state == "awaiting_consent":
            pending = [s for s, d in self._consents(txn).items() if d == "pending"]
            side = data.draw(st.sampled_from(sorted(pending)), label="side")
            account = t["src"] if side == "transferor" else t["tgt"]
            user = data.draw(st.sampled_from([u for u in USERS if is_admin(u, account)]), label="user")
            accept = data.draw(st.sampled_from([True, True, True, False]), label="accept")
            return self.consent(txn, user, accept, side)
        if state in ("compliance_screening", "transfer_initiated"):
            approve = data.draw(st.sampled_from([True, True, True, False]), label="approve")
            if approve and data.draw(st.booleans(), label="change an item first"):
                # Assets change between consent and approval: execution must fail those items (R12).
                held = [r[1] for r in self._items(txn) if r[2] == "pending"]
                if held:
                    self._reimport(data.draw(st.sampled_from(held), label="asset"),
                                   data.draw(st.sampled_from(["enterprise_agreement", "move"]), label="change"))
            return self.screen(txn, CAROL, approve, "export control hit", crash)
        self._sync()  # ended: nothing to do

    @rule(txn=txns, user=ANYONE, reason=st.sampled_from([None, "changed my mind"]))
    def cancel(self, txn, user, reason):
        t = self._txn(txn)
        visible = can_view(user, t["src"]) or can_view(user, t["tgt"])
        expected = first_refusal(
            (not visible, NotFound),
            (not (is_admin(user, t["src"]) and is_admin(user, t["tgt"])), PermissionDenied),  # R1
            (t["state"] not in ("validation_completed", "pending_submission"), RuleViolation),  # R8
        )
        ok, out = self._call(svc.cancel, user, txn, reason=reason)
        self._sync()
        check_outcome(ok, out, expected, f"cancel {txn} ({t['state']}) by {user}")
        assert self._txn(txn)["state"] == ("cancelled" if ok else t["state"])

    @rule(txn=txns, user=ANYONE)
    def view(self, txn, user):
        """R2: visible to anyone with a role on a side, and to compliance; "not found" for the rest."""
        t = self._txn(txn)
        visible = can_view(user, t["src"]) or can_view(user, t["tgt"])
        ok, out = self._call(views.view_transaction, user, txn)
        assert ok == visible, f"view {txn} by {user}: {out!r}"
        if ok:
            assert out.txn.status.value == t["state"]
            assert [i["asset_id"] for i in out.as_dict()["items"]] == [r[1] for r in self._items(txn)]
        else:
            assert type(out).__name__ == "TransactionNotFound"
        rows = views.landing(self.uow, user, views.LandingQuery())
        for row in rows:
            assert row.status.value == self._txn(row.transaction_id)["state"]
        expected = {tid for tid in self.created
                    if can_view(user, self._txn(tid)["src"]) or can_view(user, self._txn(tid)["tgt"])}
        assert {row.transaction_id for row in rows} == expected, f"{user}'s landing list (R2)"
        assert len(rows) == len(expected)
        self._sync()

    @rule(data=st.data(), change=st.sampled_from(["enterprise_agreement", "pending_upgrade", "clear", "loosen",
                                                  "partial", "move"]))
    def reimport(self, data, change):
        """An asset changes under atm's feet (a new export from the source system), often one held by a
        transaction that has not ended, so that submit (R5 again) and execution (R12) meet changed assets."""
        held = sorted(self.active_assets)
        waiting = [a for a in held if self._txn(self.active_assets[a])["state"]
                   in ("awaiting_consent", "compliance_screening", "transfer_initiated")]
        pick = data.draw(st.sampled_from(["waiting", "held", "any"]), label="pick")
        pool = waiting if pick == "waiting" and waiting else held if pick != "any" and held else list(ASSET_IDS)
        aid = data.draw(st.sampled_from(pool), label="asset")
        self._reimport(aid, change)

    def _reimport(self, aid: str, change: str) -> None:
        section, _ = BASE_RECORDS[aid]
        m = self.model[aid]
        rec = copy.deepcopy(self.records[aid])
        rec["account"], rec["virtual_account"] = m.account, m.va  # re-import where it is now
        if change == "move" or (section == "devices" and change not in ("clear", "partial")):  # devices: no flags
            rec["virtual_account"] = next(v for v in VAS[m.account] if v != m.va)
        elif change == "clear":  # the flags absent: they keep their stored values
            rec.pop("enterprise_agreement", None)
            rec.pop("pending_upgrade", None)
        elif change == "loosen":  # a record that names the flags may clear them
            rec["enterprise_agreement"] = rec["pending_upgrade"] = False
        elif change == "partial":  # only an id and one detail: everything else stays
            rec = {"id": aid, "pid": f"{rec['pid']}-R{self.import_count}"}
        else:
            rec[change] = True
        self.import_count += 1
        path = self._write(f"re{self.import_count}.json", {section: [rec]})
        summary = import_file(self.uow, path)
        # An import never moves an asset: placement changes only by a transfer (R1, R9, R15); the rest is merged.
        assert summary.locations_kept == (1 if rec.get("virtual_account", m.va) != m.va else 0)
        self.records[aid] = {**self.records[aid], **{k: v for k, v in rec.items()
                                                    if k not in ("account", "virtual_account")}}
        if section == "licenses":
            # A rule flag (R5) changes only through a record that names it.
            m.ea = bool(rec["enterprise_agreement"]) if "enterprise_agreement" in rec else m.ea
            m.pending_upgrade = bool(rec["pending_upgrade"]) if "pending_upgrade" in rec else m.pending_upgrade
        self._sync()

    # --- invariants -------------------------------------------------------------------

    @invariant()
    def statuses_follow_the_machine(self):  # 1 (and 6, 7, 8 from the same events)
        txns = dict(self.db.execute("SELECT id, state FROM transactions").fetchall())
        for tid, state in txns.items():
            events = self.db.execute(
                "SELECT id, at, actor, from_state, to_state, note FROM events WHERE transaction_id = ? ORDER BY id",
                (tid,)).fetchall()
            assert events, f"{tid} has no events"
            first = events[0]
            assert (first[3], first[4]) == (None, "validation_initiated"), f"{tid} starts with {first}"
            for prev, ev in zip(events, events[1:]):
                assert ev[3] == prev[4], f"{tid}: events do not chain: {prev} then {ev}"
                if ev[3] != ev[4]:
                    assert (ev[3], ev[4]) in ALLOWED, f"{tid}: transition {ev[3]} -> {ev[4]} is not in TRANSITIONS"
                else:
                    assert ev[3] not in ENDED, f"{tid}: a note after it ended: {ev}"
            assert events[-1][4] == state, f"{tid} is {state} but its last event says {events[-1][4]}"
            # 6: never rewritten (R15)
            seen = self.seen_events.get(tid, [])
            assert events[:len(seen)] == seen, f"{tid}: events were rewritten (R15)"
            self.seen_events[tid] = events
            t = self._txn(tid)
            for ev in events:
                actor, frm, to = ev[2], ev[3], ev[4]
                both = is_admin(actor, t["src"]) and is_admin(actor, t["tgt"])
                # 7: R1
                if frm is None:
                    assert both and actor == t["by"], f"{tid} requested by {actor}, not admin of both (R1)"
                if frm == "pending_submission" and to in ("submitted", "cancelled"):
                    assert both, f"{tid}: {frm} -> {to} by {actor}, not admin of both (R1)"
                if frm == "validation_completed" and to == "cancelled":
                    assert both, f"{tid}: cancelled by {actor}, not admin of both (R1)"
                # 8: R11
                if frm == "compliance_screening" and to != frm:
                    assert actor in COMPLIANCE, f"{tid}: screening decided by {actor} (R11)"
                # R10
                if frm == "awaiting_consent":
                    assert is_admin(actor, t["src"]) or is_admin(actor, t["tgt"]), \
                        f"{tid}: consent event by {actor}, admin of neither side (R10)"
            completed_at = self.db.one("SELECT completed_at FROM transactions WHERE id = ?", (tid,))
            assert (completed_at is not None) == (state in ENDED), f"{tid}: {state} with completed_at={completed_at}"

    @invariant()
    def notifications_follow_the_events(self):  # R14, derived from the audit trail
        for tid, by in self.db.execute("SELECT id, requested_by FROM transactions").fetchall():
            t = self._txn(tid)
            expected: Counter = Counter()
            for actor, frm, to in self.db.execute(
                    "SELECT actor, from_state, to_state FROM events WHERE transaction_id = ? ORDER BY id", (tid,)):
                if frm == to:
                    continue
                if to == "awaiting_consent":
                    admins = {u for u in USERS if is_admin(u, t["src"]) or is_admin(u, t["tgt"])}
                    expected.update((u, "consent_requested") for u in admins)
                elif to == "compliance_screening":
                    expected.update((u, "screening_requested") for u in COMPLIANCE)
                elif to == "cancelled" and frm == "awaiting_consent":
                    expected[(by, "declined")] += 1
                elif to == "cancelled" and actor != by:
                    expected[(by, "cancelled")] += 1
                elif to in ("compliance_screening_rejected", "transfer_completed", "transfer_completed_with_failure"):
                    kind = {"compliance_screening_rejected": "rejected", "transfer_completed": "completed",
                            "transfer_completed_with_failure": "failed"}[to]
                    expected[(by, kind)] += 1
            got = Counter(self.db.execute(
                "SELECT user_id, kind FROM notifications WHERE transaction_id = ?", (tid,)).fetchall())
            assert got == expected, f"{tid}: notifications {dict(got)}, expected {dict(expected)} (R14)"

    @invariant()
    def no_asset_in_two_active_transactions(self):  # 2
        dup = self.db.execute("SELECT asset_id, count(*) FROM transaction_items WHERE active = 1 "
                              "GROUP BY asset_id HAVING count(*) > 1").fetchall()
        assert not dup, f"assets in two active transactions: {dup}"
        wrong = self.db.execute(
            "SELECT i.transaction_id, i.seq, i.active, t.state FROM transaction_items i "
            "JOIN transactions t ON t.id = i.transaction_id").fetchall()
        for tid, seq, active, state in wrong:
            assert bool(active) == (state not in ENDED), f"{tid}#{seq} active={active} while {state}"

    @invariant()
    def assets_are_conserved(self):  # 3
        ids = Counter(r[0] for r in self.db.execute("SELECT id FROM assets"))
        assert ids == self.initial_ids, "the set of asset ids changed"
        orphans = self.db.execute(
            "SELECT a.id, a.account, a.virtual_account FROM assets a LEFT JOIN virtual_accounts v "
            "ON v.account = a.account AND v.name = a.virtual_account WHERE v.name IS NULL").fetchall()
        assert not orphans, f"assets in no existing place: {orphans}"

    @invariant()
    def assets_move_only_by_transferred_items(self):  # 4
        db_places = {aid: (acc, va) for aid, acc, va in
                     self.db.execute("SELECT id, account, virtual_account FROM assets")}
        model_places = {aid: (m.account, m.va) for aid, m in self.model.items()}
        per_account_db = Counter(acc for acc, _ in db_places.values())
        per_account_model = Counter(acc for acc, _ in model_places.values())
        assert per_account_db == per_account_model, \
            f"assets per account: db {per_account_db}, model {per_account_model}"
        diff = {a: (db_places[a], model_places[a]) for a in db_places if db_places[a] != model_places[a]}
        assert not diff, f"assets not where the transferred items say (db, model): {diff}"
        flags = {aid: (bool(ea), bool(pu)) for aid, ea, pu in
                 self.db.execute("SELECT id, enterprise_agreement, pending_upgrade FROM assets WHERE kind = 'license'")}
        for aid, f in flags.items():
            assert f == (self.model[aid].ea, self.model[aid].pending_upgrade), f"{aid} flags {f}"

    @invariant()
    def item_results_fit_the_status(self):  # 5
        for tid, state in self.db.execute("SELECT id, state FROM transactions").fetchall():
            items = self._items(tid)
            assert items, f"{tid} has no items"
            results = Counter(r[2] for r in items)
            if state in NOT_MOVED:
                assert set(results) == {"not_transferred"}, f"{tid} {state} with items {results}"
            elif state in COMPLETED:
                assert set(results) <= {"transferred", "failed"}, f"{tid} {state} with items {results}"
                assert all(r[3] for r in items if r[2] == "failed"), f"{tid}: a failed item without a reason"
                assert (results["failed"] > 0) == (state == "transfer_completed_with_failure"), \
                    f"{tid} {state} with items {results}"
            elif state == "transfer_initiated":
                assert set(results) <= {"pending", "transferred", "failed"}, f"{tid} {state} with {results}"
            else:
                assert set(results) == {"pending"}, f"{tid} {state} with items {results}"
            if any(r[2] == "transferred" for r in items):
                assert state in COMPLETED or state == "transfer_initiated", f"{tid} {state} moved assets"


TransferWorkflow.TestCase.settings = settings(
    max_examples=60, stateful_step_count=40, deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much],
)
TestTransferWorkflow = TransferWorkflow.TestCase
