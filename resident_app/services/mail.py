"""Receipt e-mails: sent over SMTP when configured; in development only their sending is noted in the log."""
from __future__ import annotations

import logging
import smtplib
from email.message import EmailMessage

from flask import current_app, url_for
from flask_babel import force_locale
from flask_babel import gettext as _

from ..models import Contribution

log = logging.getLogger(__name__)


def send_receipt(contribution: Contribution) -> None:
    """Send the certificate link to the address the resident gave, if any. Never raises."""
    if not contribution.receipt_email:
        return
    try:
        with force_locale(contribution.locale or "ja"):
            link = url_for("checkout.certificate", token=contribution.certificate_token, _external=True)
            message = EmailMessage()
            message["Subject"] = _("Your carbon offset participation certificate %(number)s",
                                   number=contribution.number)
            message["From"] = current_app.config.get("MAIL_FROM") or "no-reply@localhost"
            message["To"] = contribution.receipt_email
            message.set_content(_("Thank you for taking part in the carbon offset programme.\n\n"
                                  "Your participation certificate: %(link)s\n\n"
                                  "Keep this link; anyone who has it can see the certificate.",
                                  link=link))
        host = current_app.config.get("MAIL_SERVER")
        if not host:
            # Logs carry no personal data: not the address, and not the certificate link (whoever holds
            # it can open the certificate). The resident has the link on the page they came back to.
            log.info("receipt for contribution %s not sent: MAIL_SERVER is not set", contribution.number)
            return
        with smtplib.SMTP(host, int(current_app.config.get("MAIL_PORT") or 25), timeout=10) as smtp:
            if current_app.config.get("MAIL_USE_TLS"):
                smtp.starttls()
            if current_app.config.get("MAIL_USERNAME"):
                smtp.login(current_app.config["MAIL_USERNAME"], current_app.config["MAIL_PASSWORD"])
            smtp.send_message(message)
    except Exception as error:  # a lost e-mail must never undo a payment; the link is on the thanks page too
        # The class only, no traceback: SMTP errors repeat the recipient's address.
        log.error("could not send the receipt for contribution %s: %s", contribution.number,
                  type(error).__name__)
