"""Mail after a command's changes are committed (R14), when ATM_SMTP_URL is set: never undoing them, and any
failure told as a warning on stderr."""

from __future__ import annotations

import os
from typing import TYPE_CHECKING

from atm.commands._output import message, plural

if TYPE_CHECKING:
    from atm.services.mail import Delivery
    from atm.services.unit_of_work import AfterCommit, UnitOfWork

RETRY = "run 'atm notifications send' to try again"


def after_commit() -> "AfterCommit | None":
    """The hook that mails a committed transaction's new notifications; None when mail is not configured."""
    url = os.environ.get("ATM_SMTP_URL")
    if not url:
        return None

    def deliver(uow: "UnitOfWork", transaction_ids: set[str]) -> None:
        from atm.domain.errors import AtmError
        from atm.services.mail import mail_server, send_pending

        try:
            delivery = send_pending(uow, mail_server(url), transaction_ids=sorted(transaction_ids))
        except AtmError as error:  # a bad ATM_SMTP_URL, a busy database: the change itself is done
            message(f"Warning: the notification mail was not sent ({error.message}); it stays pending: {RETRY}.")
            return
        warn(delivery)

    return deliver


def warn(delivery: "Delivery") -> None:
    """One warning line per notification left pending, saying why and what to do."""
    if delivery.server_problem and delivery.unsent:
        n = len(delivery.unsent)
        message(f"Warning: {delivery.server_problem}; {plural(n, 'notification mail')} "
                f"{'stay' if n != 1 else 'stays'} pending: {RETRY}.")
    for mail, reason in delivery.refused:
        message(f"Warning: the notification mail for {mail.transaction_id} to {mail.user_id} was not sent "
                f"({reason}); it stays pending: {RETRY}.")
