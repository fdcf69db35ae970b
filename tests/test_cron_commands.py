"""The commands cron runs work in their own process, as cron runs them: no request, no
test client, production settings from the environment, mail over real SMTP.

``send-card-reminders`` once failed there ("0 reminders sent, 1 failed": the email's
links could not be built outside a request), and ``replay-events`` sends its emails the
same way.
"""

from __future__ import annotations

import os
import subprocess
import sys
from datetime import timedelta
from pathlib import Path

from sqlalchemy import select

from billing.models import Customer, PaymentMethod, Subscription, WebhookEvent
from billing.orm import utcnow
from paywall.extensions import db
from tests.factories import ReaderFactory
from tests.helpers import path_of

ROOT = Path(__file__).resolve().parents[1]


def run_command(app, tmp_path: Path, *args: str) -> subprocess.CompletedProcess[str]:  # type: ignore[no-untyped-def]
    """``python -m paywall ARGS`` in a process of its own, configured as production is."""
    config = app.config
    env = {
        name: value
        for name, value in os.environ.items()
        if not name.startswith(("PAYWALL_", "STRIPE_", "MAIL_"))
        and name not in ("DATABASE_URL", "REDIS_URL", "SECRET_KEY")
    }
    env.update(
        PAYWALL_ENV="production",
        PAYWALL_SINGLE_PROCESS="true",
        PAYWALL_INSTANCE_PATH=str(tmp_path / "cron-instance"),
        PAYWALL_BASE_URL="https://news.example.com",
        SECRET_KEY=config["SECRET_KEY"],
        DATABASE_URL=config["SQLALCHEMY_DATABASE_URI"],
        MAIL_SERVER=config["MAIL_SERVER"],
        MAIL_PORT=str(config["MAIL_PORT"]),
        # Real-looking keys: neither command needs Stripe for these rows.
        STRIPE_SECRET_KEY="sk_test_unused",
        STRIPE_PUBLISHABLE_KEY="pk_test_unused",
        STRIPE_WEBHOOK_SECRET="whsec_unused",
    )
    return subprocess.run(
        [sys.executable, "-m", "paywall", *args],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )


def subscriber_whose_card_expires_before_renewal(email: str) -> PaymentMethod:
    """An active subscriber renewing in 40 days on a card that expires this month."""
    now = utcnow()
    reader = ReaderFactory(email=email, name="Cron Reader")
    customer = Customer(
        reader_id=reader.id, stripe_customer_id="cus_cron", default_payment_method_id="pm_cron"
    )
    db.session.add(customer)
    db.session.flush()
    card = PaymentMethod(
        stripe_payment_method_id="pm_cron",
        customer_id=customer.id,
        brand="visa",
        last4="4242",
        exp_month=now.month,
        exp_year=now.year,
    )
    subscription = Subscription(
        stripe_subscription_id="sub_cron",
        customer_id=customer.id,
        status="active",
        current_period_start=now - timedelta(days=5),
        current_period_end=now + timedelta(days=40),
    )
    db.session.add_all([card, subscription])
    db.session.commit()
    return card


def test_send_card_reminders_emails_the_subscriber_from_its_own_process(
    app, app_ctx, mailbox, tmp_path
):
    card = subscriber_whose_card_expires_before_renewal("expiring@example.com")

    result = run_command(app, tmp_path, "send-card-reminders")

    assert result.returncode == 0, result.stdout + result.stderr
    assert "1 reminders sent, 0 failed." in result.stdout
    message = mailbox.last_to("expiring@example.com")
    assert message["Subject"] == "Your card ending 4242 expires soon"
    link = mailbox.link_to("expiring@example.com", "/billing/")
    assert link.startswith("https://news.example.com/")  # PAYWALL_BASE_URL, no request
    assert app.test_client().get(path_of(link)).status_code in (200, 302)  # a real page
    db.session.refresh(card)
    assert card.expiry_reminder_sent_for is not None

    again = run_command(app, tmp_path, "send-card-reminders")  # the next day's run
    assert "0 reminders sent, 0 failed." in again.stdout
    assert len(mailbox.to("expiring@example.com")) == 1


def test_replay_events_applies_a_stored_event_from_its_own_process(app, app_ctx, tmp_path):
    db.session.add(
        WebhookEvent(
            stripe_event_id="evt_cron_unknown",
            type="issuing_card.created",  # a type we don't handle: applied by storing it
            object_id="ic_123",
            created=utcnow(),
            payload={
                "id": "evt_cron_unknown",
                "object": "event",
                "type": "issuing_card.created",
                "data": {"object": {"id": "ic_123", "object": "issuing.card"}},
            },
            applied_at=None,
            attempts=1,
            last_error="BillingUnavailable: Stripe could not be reached",
        )
    )
    db.session.commit()

    result = run_command(app, tmp_path, "replay-events")

    assert result.returncode == 0, result.stdout + result.stderr
    assert "evt_cron_unknown: applied" in result.stdout
    assert "1 applied, 0 failed." in result.stdout
    db.session.expire_all()
    event = db.session.scalar(
        select(WebhookEvent).where(WebhookEvent.stripe_event_id == "evt_cron_unknown")
    )
    assert event.applied_at is not None and event.last_error is None
    assert event.attempts == 2
