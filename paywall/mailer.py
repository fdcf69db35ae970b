"""Outgoing email: SMTP when ``MAIL_SERVER`` is set, else the log plus an outbox folder.

Every message is rendered from ``templates/email/<name>.txt`` (and ``.html`` when it
exists) so wording lives with the other templates.
"""

from __future__ import annotations

import contextlib
import logging
from pathlib import Path
from typing import Any

from flask import Flask, current_app, has_request_context, render_template, url_for
from flask_mailman import EmailMultiAlternatives
from jinja2 import TemplateNotFound

from paywall.extensions import mail

log = logging.getLogger(__name__)


class MailNotSent(Exception):
    """The mail server or the outbox did not take a message; the cause is chained."""


def outbox_path(app: Flask) -> Path:
    """Folder the embedded default writes messages to, one file per message."""
    return Path(app.instance_path) / "outbox"


def init_app(app: Flask) -> None:
    """Choose the delivery backend from the settings and bind Flask-Mailman."""
    if app.config.get("MAIL_SERVER"):
        app.config.setdefault("MAIL_BACKEND", "smtp")
    else:
        outbox = outbox_path(app)
        try:
            outbox.mkdir(parents=True, exist_ok=True)
        except OSError:  # the site still serves; each email then fails, and says so
            log.exception("cannot create the mail outbox %s", outbox)
        app.config.setdefault("MAIL_BACKEND", "file")
        app.config.setdefault("MAIL_FILE_PATH", str(outbox))
    mail.init_app(app)


def absolute_url(endpoint: str, **values: Any) -> str:
    """A full URL for a link in an email: from ``BASE_URL`` when set, else this request's host."""
    base = current_app.config.get("BASE_URL")
    if not base:
        if has_request_context():
            return url_for(endpoint, _external=True, **values)
        raise RuntimeError("Set PAYWALL_BASE_URL so emails sent by commands can link to the site.")
    with current_app.test_request_context("/", base_url=base):
        return url_for(endpoint, _external=True, **values)


def send_email(to: str, subject: str, template: str, **context: Any) -> None:
    """Render ``template`` with ``context`` and send it to ``to``.

    Raises :class:`MailNotSent` whatever the backend raised (a refused or dropped SMTP
    connection, a bad login, an outbox that cannot be written): callers decide whether
    the email may be lost, and a template mistake stays the bug it is.
    """
    text = render_template(f"email/{template}.txt", **context)
    message = EmailMultiAlternatives(
        subject=subject,
        body=text,
        from_email=current_app.config["MAIL_DEFAULT_SENDER"],
        to=[to],
    )
    with contextlib.suppress(TemplateNotFound):
        message.attach_alternative(
            render_template(f"email/{template}.html", **context), "text/html"
        )
    try:
        message.send()
    except Exception as error:  # each backend fails its own way (OSError, SMTPException, ...)
        raise MailNotSent(f"could not send {template!r} to {to}: {error}") from error
    if current_app.config["MAIL_BACKEND"] == "file":
        log.info("email to %s: %s\n%s", to, subject, text)
