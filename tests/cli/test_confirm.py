"""Nothing that cannot be undone happens without a final look (R9): driven in a real pseudo-terminal.

`atm submit`, `atm cancel` and `atm consent --decline` show what is about to happen and ask; "no" (or
Ctrl-C, or Esc) changes nothing, "yes" acts, `--yes` skips the question. Without a terminal nothing is
asked (the other tests run that way).
"""

from __future__ import annotations

import json
import os

import pytest

from tests import backends
from tests.conftest import PARTNER, TARO, atm_executable

pexpect = pytest.importorskip("pexpect")

JOHN = "john.smith@globex.com"
SAME = ["request", "--from", "acme.co.jp", "--to", "acme-osaka.co.jp", "--to-va", "DEFAULT", "--same-company",
        "yes", "--asset", "SO12345678-1", "--asset", "FCW2245L0CS"]
FORM = {"reason": "Lab equipment sold to Globex", "transferor_contact_email": TARO,
        "transferee_contact_email": JOHN}


def spawn(*args: str, user: str):
    """The installed `atm` in a pseudo-terminal of 80 columns."""
    exe = atm_executable()
    env = dict(os.environ, ATM_USER=user, PROMPT_TOOLKIT_NO_CPR="1", TERM="xterm")
    return pexpect.spawn(exe[0], exe[1:] + list(args), env=env, dimensions=(50, 80), encoding="utf-8",
                         timeout=30)


def finished(child) -> int:
    child.expect(pexpect.EOF)
    child.close()
    return child.exitstatus if child.exitstatus is not None else 128 + child.signalstatus


def snapshot() -> list[str]:
    """Every row of the database, to compare before and after an answer."""
    return backends.dump()


def state(run_atm, txn: str, user: str = TARO) -> str:
    result = run_atm("--as", user, "status", txn, "--json")
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout)["state"]


@pytest.fixture
def same_company(run_atm, sample_db):
    result = run_atm("--as", TARO, *SAME)
    assert result.returncode == 0, result.stderr
    return result.stdout.strip()


@pytest.fixture
def cross_company(run_atm, sample_db, tmp_path):
    (tmp_path / "form.json").write_text(json.dumps(FORM))
    result = run_atm("--as", PARTNER, "request", "--from", "acme.co.jp", "--to", "globex.com", "--to-va", "DEFAULT",
                     "--same-company", "no", "--asset", "SO12345678-3", "--form", str(tmp_path / "form.json"))
    assert result.returncode == 0, result.stderr
    return result.stdout.strip()


def test_submit_no_changes_nothing(run_atm, same_company):
    before = snapshot()
    child = spawn("submit", same_company, user=TARO)
    child.expect("Final check before Submit for Transfer")
    child.expect("SO12345678-1")  # the R13 warnings name the assets
    child.expect("Same company: the transfer runs as soon as you confirm")
    child.expect("Submit for Transfer\\? This cannot be undone")
    child.send("n")
    child.expect("Not submitted; nothing changed")
    assert finished(child) == 0
    assert snapshot() == before
    assert state(run_atm, same_company) == "pending_submission"


def test_submit_yes_runs_the_transfer(run_atm, same_company):
    child = spawn("submit", same_company, user=TARO)
    child.expect("Submit for Transfer\\? This cannot be undone")
    child.send("y")
    child.expect("The transfer has run")
    assert finished(child) == 0
    assert state(run_atm, same_company) == "transfer_completed"


def test_the_final_check_of_a_cross_company_transfer_says_it_waits(run_atm, cross_company):
    child = spawn("submit", cross_company, user=PARTNER)
    child.expect("Different companies: once submitted, it waits for the consent of both sides")
    child.expect("This cannot be undone")
    child.send("y")
    assert finished(child) == 0
    assert state(run_atm, cross_company, PARTNER) == "awaiting_consent"


@pytest.mark.parametrize("key", ["\x03", "\x1b"], ids=["ctrl-c", "esc"])
def test_a_cancelled_question_exits_130_and_changes_nothing(run_atm, same_company, key):
    before = snapshot()
    child = spawn("submit", same_company, user=TARO)
    child.expect("This cannot be undone")
    child.send(key)
    assert finished(child) == 130
    assert snapshot() == before


def test_yes_skips_the_question_at_a_terminal(run_atm, same_company):
    child = spawn("submit", same_company, "--yes", user=TARO)
    output = child.read()
    assert finished(child) == 0
    assert "This cannot be undone" not in output
    assert state(run_atm, same_company) == "transfer_completed"


def test_cancel_asks_and_no_keeps_the_transaction(run_atm, same_company):
    before = snapshot()
    child = spawn("cancel", same_company, user=TARO)
    child.expect("its assets stay at the source")
    child.expect(f"Cancel {same_company}\\? This cannot be undone")
    child.send("n")
    assert finished(child) == 0
    assert snapshot() == before
    child = spawn("cancel", same_company, user=TARO)
    child.expect("This cannot be undone")
    child.send("y")
    assert finished(child) == 0
    assert state(run_atm, same_company) == "cancelled"


def test_decline_asks_first(run_atm, cross_company):
    assert run_atm("--as", PARTNER, "submit", cross_company).returncode == 0
    before = snapshot()
    child = spawn("consent", cross_company, "--decline", user=JOHN)
    child.expect("Declining cancels")
    child.expect("This cancels the transfer and cannot be undone")
    child.send("n")
    assert finished(child) == 0
    assert snapshot() == before
    assert state(run_atm, cross_company, JOHN) == "awaiting_consent"


def test_consent_without_a_decision_shows_the_agreement_and_later_changes_nothing(run_atm, cross_company):
    assert run_atm("--as", PARTNER, "submit", cross_company).returncode == 0
    before = snapshot()
    child = spawn("consent", cross_company, user=JOHN)
    child.expect("Transfer agreement")
    child.expect("Lab equipment sold to Globex")  # the request form's reason
    child.expect("You decide for the transferee")
    child.expect("Your decision")
    child.send("\x1b[B\x1b[B")  # down twice: Later
    child.send("\r")
    child.expect("Nothing changed; decide later")
    assert finished(child) == 0
    assert snapshot() == before

    child = spawn("consent", cross_company, user=JOHN)
    child.expect("Your decision")
    child.send("\r")  # the first choice: Accept
    assert finished(child) == 0
    view = json.loads(run_atm("--as", JOHN, "status", cross_company, "--json").stdout)
    assert {c["side"]: c["decision"] for c in view["consents"]} == {"transferor": "pending",
                                                                    "transferee": "accepted"}
