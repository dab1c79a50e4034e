"""R14 by e-mail: notifications mailed through a real SMTP server on loopback (aiosmtpd), read as they arrived.

Each notification goes once to its user, with the transaction id, the status and the next step; it is marked
sent only once the server accepted it. A refused recipient or a server that is down leaves it pending (a warning
on stderr; the transfer itself is done), and `atm notifications send` delivers it later, never twice.
"""

from __future__ import annotations

import json
import os
import subprocess

import pytest

from tests import backends
from tests.conftest import LEGAL, PARTNER, TARO, atm_executable, write_json
from tests.mailserver import free_port

JOHN = "john.smith@globex.com"
KEN = "ken.sato@acme.co.jp"
ACME_ADMINS = {TARO, KEN, PARTNER}  # admins of the transferor, acme.co.jp
GLOBEX_ADMINS = {JOHN, PARTNER}  # admins of the transferee, globex.com


@pytest.fixture
def mail(monkeypatch, mail_server):
    monkeypatch.setenv("ATM_SMTP_URL", mail_server.url)
    return mail_server


def cross_company(cli, tmp_path, asset: str = "SO12345678-3") -> str:
    form = write_json(tmp_path / "form.json", {"reason": "Lab equipment sold to Globex",
                                               "transferor_contact_email": TARO,
                                               "transferee_contact_email": JOHN})
    view = cli.json("request", "--from", "acme.co.jp", "--to", "globex.com", "--to-va", "DEFAULT",
                    "--same-company", "no", "--asset", asset, "--form", str(form), user=PARTNER)
    return view["transaction_id"]


def rows(sql: str, params=()) -> list[tuple]:
    with backends.connect() as conn:
        return [tuple(r) for r in conn.execute(sql, params).fetchall()]


def unsent(txn: str) -> list[tuple]:
    return rows("SELECT user_id, kind, send_error FROM notifications WHERE transaction_id = ? AND sent_at IS NULL "
                "ORDER BY user_id", (txn,))


def mails(server, txn: str) -> list[tuple[str, str]]:
    return sorted((m["To"], m["Subject"]) for m in server.inbox.messages if m["X-ATM-Transaction"] == txn)


def body(message) -> str:
    return message.get_body(preferencelist=("plain",)).get_content()


# --- every kind of notification, once ---------------------------------------------------------------------


def test_a_cross_company_transfer_mails_each_notification_once_to_its_user(cli, sample_db, tmp_path, mail):
    txn = cross_company(cli, tmp_path)
    assert mails(mail, txn) == []  # a request notifies nobody
    result = cli("submit", txn, "--yes", user=PARTNER)
    assert result.exit_code == 0, result.output
    awaited = f"[atm] {txn}: Submitted – Awaiting Transferor/Transferee consent"
    assert mails(mail, txn) == sorted((who, awaited) for who in ACME_ADMINS | GLOBEX_ADMINS)
    assert cli("consent", txn, "--accept", user=JOHN).exit_code == 0
    assert cli("consent", txn, "--accept", user=TARO).exit_code == 0
    screening = [m for m in mail.inbox.to(LEGAL) if m["X-ATM-Transaction"] == txn]
    assert [m["Subject"] for m in screening] == [f"[atm] {txn}: Compliance Screening"]
    assert f"atm screen {txn} --approve" in body(screening[0])
    result = cli("screen", txn, "--approve", user=LEGAL)
    assert result.exit_code == 0, result.output
    done = [m for m in mail.inbox.to(PARTNER) if m["Subject"] == f"[atm] {txn}: Transfer Completed"]
    assert len(done) == 1
    text = body(done[0])
    assert f"Transaction: {txn}" in text and "Status:      Transfer Completed" in text and "Next step:" in text
    assert done[0]["From"] == "atm@atm-vendor.example"
    assert len(mails(mail, txn)) == len(ACME_ADMINS | GLOBEX_ADMINS) + 2  # + screening + completion
    assert unsent(txn) == []
    assert rows("SELECT count(*) FROM notifications WHERE transaction_id = ? AND sent_at IS NOT NULL",
                (txn,)) == [(len(ACME_ADMINS | GLOBEX_ADMINS) + 2,)]
    # Nothing is pending: sending again mails nothing more.
    assert cli("notifications", "send").exit_code == 0
    assert len(mails(mail, txn)) == len(ACME_ADMINS | GLOBEX_ADMINS) + 2


def test_a_decline_is_mailed_to_the_requester_once(cli, sample_db, tmp_path, mail):
    txn = cross_company(cli, tmp_path)
    assert cli("submit", txn, "--yes", user=PARTNER).exit_code == 0
    assert cli("consent", txn, "--decline", "--yes", user=JOHN).exit_code == 0
    declined = [m for m in mail.inbox.to(PARTNER) if m["Subject"] == f"[atm] {txn}: Cancelled"]
    assert len(declined) == 1
    assert "declined" in body(declined[0]) and "the assets stay at the source" in body(declined[0])


def test_a_screening_rejection_is_mailed_to_the_requester_with_its_reason(cli, sample_db, tmp_path, mail):
    txn = cross_company(cli, tmp_path)
    assert cli("submit", txn, "--yes", user=PARTNER).exit_code == 0
    assert cli("consent", txn, "--accept", user=JOHN).exit_code == 0
    assert cli("consent", txn, "--accept", user=TARO).exit_code == 0
    assert cli("screen", txn, "--reject", "--reason", "export control check failed", user=LEGAL).exit_code == 0
    rejected = [m for m in mail.inbox.to(PARTNER) if m["X-ATM-Transaction"] == txn
                and m["Subject"].endswith("Compliance Screening Rejected")]
    assert len(rejected) == 1 and "export control check failed" in body(rejected[0])


def test_a_same_company_completion_is_mailed_to_the_requester(cli, sample_db, mail):
    view = cli.json("request", "--from", "acme.co.jp", "--to", "acme-osaka.co.jp", "--to-va", "DEFAULT",
                    "--same-company", "yes", "--asset", "SO12345678-1", user=TARO)
    txn = view["transaction_id"]
    assert cli("submit", txn, "--yes", user=TARO).exit_code == 0
    assert mails(mail, txn) == [(TARO, f"[atm] {txn}: Transfer Completed")]
    assert mail.inbox.envelopes[-1] == ("atm@atm-vendor.example", [TARO])


# --- failures leave it pending, never undo the transfer ---------------------------------------------------


def test_a_refused_recipient_stays_pending_and_the_others_are_sent(cli, sample_db, tmp_path, mail):
    mail.inbox.refuse.add(JOHN)
    txn = cross_company(cli, tmp_path)
    result = cli("submit", txn, "--yes", user=PARTNER)
    assert result.exit_code == 0, result.output
    assert json.loads(cli("status", txn, "--json", user=PARTNER).stdout)["state"] == "awaiting_consent"
    warning = [line for line in result.stderr.splitlines() if line.startswith("Warning:")]
    assert len(warning) == 1 and JOHN in warning[0] and "550" in warning[0] and "stays pending" in warning[0]
    assert "atm notifications send" in warning[0]
    assert {to for to, _ in mails(mail, txn)} == (ACME_ADMINS | GLOBEX_ADMINS) - {JOHN}
    [(user, kind, error)] = unsent(txn)
    assert (user, kind) == (JOHN, "consent_requested") and "550" in error
    # The next try, once the mailbox exists, sends what was pending: once.
    mail.inbox.refuse.clear()
    sent = cli("notifications", "send")
    assert sent.exit_code == 0, sent.output
    assert "Sent 1 notification mail" in sent.stderr
    assert [to for to, _ in mails(mail, txn)].count(JOHN) == 1
    assert unsent(txn) == []
    assert len(mails(mail, txn)) == len(ACME_ADMINS | GLOBEX_ADMINS)


def test_a_server_that_is_down_leaves_every_mail_pending_and_the_transfer_done(cli, sample_db, tmp_path,
                                                                             monkeypatch, mail_server):
    monkeypatch.setenv("ATM_SMTP_URL", f"smtp://127.0.0.1:{free_port()}")
    view = cli.json("request", "--from", "acme.co.jp", "--to", "acme-osaka.co.jp", "--to-va", "DEFAULT",
                    "--same-company", "yes", "--asset", "SO12345678-1", user=TARO)
    txn = view["transaction_id"]
    result = cli("submit", txn, "--yes", user=TARO)
    assert result.exit_code == 0, result.output
    assert "cannot reach the mail server" in result.stderr and "stays pending" in result.stderr
    assert json.loads(cli("status", txn, "--json", user=TARO).stdout)["state"] == "transfer_completed"
    assert unsent(txn) == [(TARO, "completed", unsent(txn)[0][2])] and "cannot reach" in unsent(txn)[0][2]
    down = cli("notifications", "send", "--json")
    assert down.exit_code == 1 and "cannot reach the mail server" in down.stderr
    assert json.loads(down.stdout)["sent"] == [] and len(json.loads(down.stdout)["pending"]) == 1
    # The server is back: one send delivers it, a second has nothing left.
    monkeypatch.setenv("ATM_SMTP_URL", mail_server.url)
    assert cli("notifications", "send").exit_code == 0
    again = cli("notifications", "send")
    assert again.exit_code == 0 and "Sent" not in again.stderr
    assert mails(mail_server, txn) == [(TARO, f"[atm] {txn}: Transfer Completed")]


def test_two_senders_at_once_never_mail_a_notification_twice(run_atm, sample_db, tmp_path, mail_server):
    down = {"ATM_SMTP_URL": f"smtp://127.0.0.1:{free_port()}"}
    for asset in ("SO12345678-1", "SO12345678-2", "SO12345678-3", "FOC2231X0AB", "FCW2245L0CS"):
        made = run_atm("--as", TARO, "request", "--from", "acme.co.jp", "--to", "acme-osaka.co.jp", "--to-va",
                       "DEFAULT", "--same-company", "yes", "--asset", asset, "--json", env=down)
        txn = json.loads(made.stdout)["transaction_id"]
        assert run_atm("--as", TARO, "submit", txn, "--yes", env=down).returncode == 0
    pending = rows("SELECT id FROM notifications WHERE sent_at IS NULL")
    assert len(pending) == 5
    env = dict(os.environ, ATM_SMTP_URL=mail_server.url)
    procs = [subprocess.Popen(atm_executable() + ["notifications", "send", "--json"], env=env, text=True,
                              stdout=subprocess.PIPE, stderr=subprocess.PIPE, stdin=subprocess.DEVNULL)
             for _ in range(4)]
    results = [p.communicate(timeout=120) for p in procs]
    assert all(p.returncode == 0 for p in procs), results
    sent_ids = sorted(n["id"] for out, _ in results for n in json.loads(out)["sent"])
    assert sent_ids == sorted(i for (i,) in pending)  # each claimed and sent by exactly one sender
    ids_in_mail = sorted(m["Message-ID"] for m in mail_server.inbox.messages)
    assert len(ids_in_mail) == 5 == len(set(ids_in_mail))
    assert rows("SELECT count(*) FROM notifications WHERE sent_at IS NULL") == [(0,)]


# --- configuration ------------------------------------------------------------------------------------------


def test_send_without_a_mail_server_says_what_to_set(cli, sample_db):
    result = cli("notifications", "send")
    assert result.exit_code == 2 and "ATM_SMTP_URL" in result.stderr.splitlines()[0]


def test_without_a_mail_server_nothing_is_tried(cli, sample_db):
    view = cli.json("request", "--from", "acme.co.jp", "--to", "acme-osaka.co.jp", "--to-va", "DEFAULT",
                    "--same-company", "yes", "--asset", "SO12345678-1", user=TARO)
    result = cli("submit", view["transaction_id"], "--yes", user=TARO)
    assert result.exit_code == 0 and "Warning" not in result.stderr
    assert unsent(view["transaction_id"]) == [(TARO, "completed", None)]


@pytest.mark.parametrize("url, words", [
    ("http://mail.example.com", "smtp://"),
    ("smtp://mail.example.com?tls=1", "unknown option 'tls'"),
    ("smtp://mail.example.com?starttls=maybe", "starttls"),
    ("smtp://mail.example.com?from=nobody", "from"),
    ("smtp://", "no host"),
])
def test_a_bad_mail_url_is_named_and_a_command_still_does_its_work(cli, sample_db, monkeypatch, url, words):
    monkeypatch.setenv("ATM_SMTP_URL", url)
    result = cli("notifications", "send")
    assert result.exit_code == 2 and words in result.stderr
    view = cli.json("request", "--from", "acme.co.jp", "--to", "acme-osaka.co.jp", "--to-va", "DEFAULT",
                    "--same-company", "yes", "--asset", "SO12345678-1", user=TARO)
    done = cli("submit", view["transaction_id"], "--yes", user=TARO)
    assert done.exit_code == 0 and "Warning" in done.stderr and words in done.stderr


def test_the_mail_url_takes_tls_login_and_sender_and_never_shows_the_password():
    from atm.services.mail import mail_server

    server = mail_server("smtp://atm%40corp:s3cr%3At@mail.corp.example:587?starttls=1&from=atm@corp.example"
                         "&timeout=5")
    assert (server.host, server.port, server.starttls, server.tls) == ("mail.corp.example", 587, True, False)
    assert (server.username, server.password, server.sender, server.timeout) == ("atm@corp", "s3cr:t",
                                                                                  "atm@corp.example", 5.0)
    assert "s3cr" not in server.shown
    secure = mail_server("smtps://mail.corp.example")
    assert (secure.port, secure.tls) == (465, True) and mail_server("smtp://m.example").port == 25


@pytest.mark.filterwarnings("ignore:Requiring AUTH while not requiring TLS")  # loopback, in a test
def test_a_login_is_used_when_the_url_has_one(cli, sample_db, monkeypatch):
    """A server that demands AUTH: the mail goes through with the URL's user and password."""
    from aiosmtpd.controller import Controller
    from aiosmtpd.smtp import AuthResult

    from tests.mailserver import Inbox

    logins = []

    def authenticator(server, session, envelope, mechanism, auth_data):
        logins.append((auth_data.login, auth_data.password))
        return AuthResult(success=auth_data.password == b"pw")

    inbox, port = Inbox(), free_port()
    controller = Controller(inbox, hostname="127.0.0.1", port=port, authenticator=authenticator,
                            auth_required=True, auth_require_tls=False)
    controller.start()
    try:
        monkeypatch.setenv("ATM_SMTP_URL", f"smtp://bot:pw@127.0.0.1:{port}?from=atm@corp.example")
        view = cli.json("request", "--from", "acme.co.jp", "--to", "acme-osaka.co.jp", "--to-va", "DEFAULT",
                        "--same-company", "yes", "--asset", "SO12345678-1", user=TARO)
        assert cli("submit", view["transaction_id"], "--yes", user=TARO).exit_code == 0
    finally:
        controller.stop()
    assert logins == [(b"bot", b"pw")] and [m["To"] for m in inbox.messages] == [TARO]
