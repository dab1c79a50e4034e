"""R14 by e-mail: the pending notifications, delivered through the SMTP server of `ATM_SMTP_URL`.

`smtp://[user:password@]host[:port][?starttls=1&from=ADDRESS&timeout=SECONDS]`, or `smtps://` for TLS from the
first byte. A notification is marked sent only once the server accepted it; one the server refuses, or that
could not be handed over, stays pending (with the reason) for the next `atm notifications send`. Senders claim
what they send first, so two at once never mail one notification twice. Plain text, standard library only.
"""

from __future__ import annotations

import secrets
import smtplib
import socket
import ssl
from dataclasses import dataclass, field
from datetime import timedelta
from email.message import EmailMessage
from email.utils import format_datetime, make_msgid
from typing import Callable, Sequence
from urllib.parse import parse_qsl, unquote, urlsplit

from atm.domain.errors import InvalidInput
from atm.domain.times import now
from atm.domain.transfer import Status, is_email
from atm.services.unit_of_work import UnitOfWork
from atm.storage.outbox import PendingMail

DEFAULT_TIMEOUT = 10.0
CLAIM_FOR = timedelta(minutes=10)  # a sender that died leaves its claims to the next one after this
OPTIONS = ("starttls", "from", "timeout")
YES = ("1", "yes", "true", "on")
NO = ("0", "no", "false", "off", "")


@dataclass(frozen=True)
class MailServer:
    """Where and how to hand mail over, from ATM_SMTP_URL."""

    host: str
    port: int
    tls: bool  # smtps://: TLS from the first byte
    starttls: bool
    username: str | None
    password: str | None
    sender: str
    timeout: float

    @property
    def shown(self) -> str:
        """The server as messages name it: never the password."""
        scheme = "smtps" if self.tls else "smtp"
        user = f"{self.username}@" if self.username else ""
        return f"{scheme}://{user}{self.host}:{self.port}"


def mail_server(url: str) -> MailServer:
    """Read ATM_SMTP_URL; a mistake is named (InvalidInput, exit 2), the password never shown."""
    try:
        parts = urlsplit(url.strip())
        port = parts.port
    except ValueError as exc:
        raise InvalidInput(f"ATM_SMTP_URL is not a valid URL ({exc}); write smtp://[user:password@]host[:port]") \
            from None
    scheme = parts.scheme.lower()
    if scheme not in ("smtp", "smtps"):
        raise InvalidInput(f"ATM_SMTP_URL must start with smtp:// or smtps://, got {scheme or 'no scheme'!r}")
    if not parts.hostname:
        raise InvalidInput("ATM_SMTP_URL names no host: write smtp://[user:password@]host[:port]")
    options: dict[str, str] = {}
    for key, value in parse_qsl(parts.query, keep_blank_values=True):
        if key.lower() not in OPTIONS:
            raise InvalidInput(f"ATM_SMTP_URL: unknown option {key!r} (known: {', '.join(OPTIONS)})")
        options[key.lower()] = value
    starttls = options.get("starttls", "0").lower()
    if starttls not in YES + NO:
        raise InvalidInput(f"ATM_SMTP_URL: starttls takes 1 or 0, got {options['starttls']!r}")
    try:
        timeout = float(options.get("timeout", DEFAULT_TIMEOUT))
    except ValueError:
        timeout = -1.0
    if not 0 < timeout <= 600:
        raise InvalidInput(f"ATM_SMTP_URL: timeout takes seconds from 1 to 600, got {options.get('timeout')!r}")
    username = unquote(parts.username) if parts.username else None
    sender = options.get("from")
    if sender is not None and not is_email(sender):
        raise InvalidInput(f"ATM_SMTP_URL: from must be an e-mail address, got {sender!r}")
    if not sender:
        sender = username if username and is_email(username) else f"atm@{socket.getfqdn()}"
    return MailServer(host=parts.hostname, port=port or (465 if scheme == "smtps" else 25), tls=scheme == "smtps",
                      starttls=starttls in YES, username=username,
                      password=unquote(parts.password) if parts.password else None, sender=sender, timeout=timeout)


# --- what a mail says ------------------------------------------------------------------------------------

# kind -> (the status it tells of, the next step)
NEXT_STEPS: dict[str, tuple[Status, str]] = {
    "completed": (Status.TRANSFER_COMPLETED, "Nothing more to do. The details: atm status {txn}"),
    "failed": (Status.TRANSFER_COMPLETED_WITH_FAILURE,
               "See which items failed and why: atm status {txn}; request them again once the reason is fixed."),
    "consent_requested": (Status.AWAITING_CONSENT,
                          "Give your side's decision: atm consent {txn} --accept (or --decline)."),
    "screening_requested": (Status.COMPLIANCE_SCREENING,
                            "Screen the transfer: atm screen {txn} --approve, or --reject --reason TEXT."),
    "declined": (Status.CANCELLED, "Nothing moved: the assets stay at the source. To try again, make a new "
                                   "request (atm request)."),
    "rejected": (Status.COMPLIANCE_SCREENING_REJECTED,
                 "Nothing moved: the assets stay at the source. Address the reason above before a new request."),
    "cancelled": (Status.CANCELLED, "Nothing moved: the assets stay at the source."),
}


def compose(mail: PendingMail, sender: str) -> EmailMessage:
    """The plain-text mail of one notification: the transaction id, the status and the next step."""
    status, step = NEXT_STEPS.get(mail.kind, (None, "See the transaction: atm status {txn}"))
    label = status.label if status is not None else mail.kind.replace("_", " ")
    msg = EmailMessage()
    msg["From"] = sender
    msg["To"] = mail.user_id
    msg["Subject"] = f"[atm] {mail.transaction_id}: {label}"
    msg["Date"] = format_datetime(mail.created_at)
    msg["Message-ID"] = make_msgid(idstring=f"atm-{mail.id}", domain=sender.rpartition("@")[2] or None)
    msg["X-ATM-Transaction"] = mail.transaction_id
    msg.set_content(
        f"{mail.message}\n\n"
        f"Transaction: {mail.transaction_id}\n"
        f"Status:      {label}\n"
        f"Source:      {mail.source_account}\n"
        f"Target:      {mail.target_account}\n\n"
        f"Next step: {step.format(txn=mail.transaction_id)}\n\n"
        "--\n"
        "Sent by atm, the Asset Transfer Manager. 'atm notifications' lists all of yours.\n",
        charset="utf-8",
    )
    return msg


# --- delivery ----------------------------------------------------------------------------------------------


@dataclass
class Delivery:
    """What one round of sending did."""

    sent: list[PendingMail] = field(default_factory=list)
    refused: list[tuple[PendingMail, str]] = field(default_factory=list)  # the server refused this one
    unsent: list[PendingMail] = field(default_factory=list)  # never handed over: the server failed
    server_problem: str | None = None

    @property
    def pending(self) -> int:
        return len(self.refused) + len(self.unsent)

    def as_dict(self) -> dict:
        return {
            "sent": [{"id": m.id, "transaction_id": m.transaction_id, "to": m.user_id, "kind": m.kind}
                     for m in self.sent],
            "pending": [{"id": m.id, "transaction_id": m.transaction_id, "to": m.user_id, "kind": m.kind,
                         "reason": reason} for m, reason in self.refused]
            + [{"id": m.id, "transaction_id": m.transaction_id, "to": m.user_id, "kind": m.kind,
                "reason": self.server_problem} for m in self.unsent],
        }


Connect = Callable[[MailServer], smtplib.SMTP]


def connect(server: MailServer) -> smtplib.SMTP:
    """An SMTP session, with TLS and a login when the URL asks for them."""
    context = ssl.create_default_context()
    if server.tls:
        smtp: smtplib.SMTP = smtplib.SMTP_SSL(server.host, server.port, timeout=server.timeout, context=context)
    else:
        smtp = smtplib.SMTP(server.host, server.port, timeout=server.timeout)
    try:
        smtp.ehlo()
        if server.starttls:
            smtp.starttls(context=context)
            smtp.ehlo()
        if server.username:
            smtp.login(server.username, server.password or "")
    except BaseException:
        smtp.close()
        raise
    return smtp


def send_pending(uow: UnitOfWork, server: MailServer, *, transaction_ids: Sequence[str] | None = None,
                 open_session: Connect = connect) -> Delivery:
    """Mail every pending notification (of these transactions): claim, hand over, mark what was accepted."""
    token = secrets.token_hex(8)
    at = now()
    with uow.write():
        mails = uow.outbox.claim(token, now=at, until=at + CLAIM_FOR,
                                 transaction_ids=sorted(transaction_ids) if transaction_ids is not None else None)
        uow.commit()
    delivery = Delivery()
    if not mails:
        return delivery
    try:
        try:
            smtp = open_session(server)
        except (OSError, smtplib.SMTPException) as exc:
            delivery.server_problem = f"cannot reach the mail server {server.shown}: {_reason(exc)}"
            delivery.unsent = list(mails)
            return delivery
        try:
            for i, mail in enumerate(mails):
                try:
                    smtp.send_message(compose(mail, server.sender))
                except smtplib.SMTPRecipientsRefused as exc:
                    delivery.refused.append((mail, "the mail server refused the recipient: "
                                             + "; ".join(_reason(e) for e in exc.recipients.values())))
                    continue
                except (smtplib.SMTPSenderRefused, smtplib.SMTPDataError, smtplib.SMTPNotSupportedError) as exc:
                    delivery.refused.append((mail, f"the mail server refused the mail: {_reason(exc)}"))
                    continue
                except (OSError, smtplib.SMTPException) as exc:
                    delivery.server_problem = f"the mail server {server.shown} failed: {_reason(exc)}"
                    delivery.unsent = list(mails[i:])
                    break
                with uow.write():
                    uow.outbox.mark_sent(token, mail.id, now())
                    uow.commit()
                delivery.sent.append(mail)
        finally:
            try:
                smtp.quit()
            except (OSError, smtplib.SMTPException):
                smtp.close()
    finally:
        failures = [(m.id, reason) for m, reason in delivery.refused]
        failures += [(m.id, delivery.server_problem or "not handed over") for m in delivery.unsent]
        if failures:
            with uow.write():
                uow.outbox.release(token, failures)
                uow.commit()
    return delivery


def _reason(exc: BaseException) -> str:
    if isinstance(exc, smtplib.SMTPResponseException) or (isinstance(exc, tuple) and len(exc) == 2):
        code, text = (exc.smtp_code, exc.smtp_error) if isinstance(exc, smtplib.SMTPResponseException) else exc
        if isinstance(text, bytes):
            text = text.decode("utf-8", "replace")
        return f"{code} {' '.join(str(text).split())}"
    if isinstance(exc, socket.gaierror):
        return f"unknown host ({exc.strerror or exc})"
    return " ".join(str(getattr(exc, "strerror", None) or exc or exc.__class__.__name__).split())
