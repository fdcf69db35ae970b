"""Outgoing email: SMTP when ``MAIL_SERVER`` is set, else the log plus an outbox folder.

Every message is rendered from ``templates/email/<name>.txt`` (and ``.html`` when it
exists) so wording lives with the other templates. :func:`send_email` renders it in the
request and queues it: the worker delivers it (the ``deliver_email`` job, retried while
the mail server refuses it), so no request waits on SMTP.
"""

from __future__ import annotations

import contextlib
import logging
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from flask import Flask, current_app, has_request_context, render_template, url_for
from flask_mailman import EmailMultiAlternatives
from jinja2 import TemplateNotFound

from paywall.extensions import mail
from paywall.jobs import JobNotQueued, enqueue

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


@dataclass(frozen=True)
class OutgoingEmail:
    """One rendered message, as plain values, so it can wait on the job queue."""

    to: str
    subject: str
    template: str
    text: str
    html: str | None = None


def render_email(to: str, subject: str, template: str, **context: Any) -> OutgoingEmail:
    """Render ``templates/email/<template>.txt`` (and ``.html`` when it exists)."""
    html = None
    with contextlib.suppress(TemplateNotFound):
        html = render_template(f"email/{template}.html", **context)
    text = render_template(f"email/{template}.txt", **context)
    return OutgoingEmail(to, subject, template, text, html)


def deliver(message: OutgoingEmail) -> None:
    """Hand ``message`` to the mail server (or the outbox) now.

    Raises :class:`MailNotSent` whatever the backend raised (a refused or dropped SMTP
    connection, a bad login, an outbox that cannot be written).
    """
    email = EmailMultiAlternatives(
        subject=message.subject,
        body=message.text,
        from_email=current_app.config["MAIL_DEFAULT_SENDER"],
        to=[message.to],
    )
    if message.html is not None:
        email.attach_alternative(message.html, "text/html")
    try:
        email.send()
    except Exception as error:  # each backend fails its own way (OSError, SMTPException, ...)
        what = f"{message.template!r} to {message.to}"
        raise MailNotSent(f"could not send {what}: {error}") from error
    if current_app.config["MAIL_BACKEND"] == "file":
        log.info("email to %s: %s\n%s", message.to, message.subject, message.text)


def deliver_queued(message: dict[str, Any]) -> None:
    """The ``deliver_email`` job: deliver a message :func:`send_email` queued (raises,
    to be retried, while the mail server refuses it)."""
    email = OutgoingEmail(**message)
    try:
        deliver(email)
    except MailNotSent:
        log.exception("could not send the email %r to %s", email.subject, email.to)
        raise


def send_email(to: str, subject: str, template: str, **context: Any) -> None:
    """Render ``template`` with ``context`` now and queue the message for the worker.

    The worker delivers it, retrying while the mail server refuses it. Raises
    :class:`MailNotSent` when the job queue did not take it; a template mistake stays
    the bug it is.
    """
    message = render_email(to, subject, template, **context)
    try:
        enqueue("deliver_email", asdict(message))
    except JobNotQueued as error:
        raise MailNotSent(f"could not queue {template!r} to {to}: {error}") from error


def send_email_now(to: str, subject: str, template: str, **context: Any) -> None:
    """Render and deliver at once, for jobs that must know it went (a dunning email
    whose claim commits only once the mail server took it)."""
    deliver(render_email(to, subject, template, **context))
