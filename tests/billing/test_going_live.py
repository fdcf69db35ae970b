"""``paywall stripe setup-webhook`` and ``paywall stripe check``, against the emulator's
Stripe API (through the adapter, which keeps webhook endpoints as Stripe does)."""

from __future__ import annotations

from billing.gateway import API_VERSION
from billing.golive import key_mode, missing_events
from billing.webhooks import SUBSCRIBED_EVENTS, handler_for
from paywall.billing.support import gateway


def run(live, *args):
    return live.app.test_cli_runner().invoke(args=["stripe", *args])


def our_endpoints(live):
    with live.twin.app_context():
        url = f"{live.twin.config['BASE_URL']}/stripe/webhook"
        return [e for e in gateway().list_webhook_endpoints() if e["url"] == url]


def test_setup_webhook_creates_one_endpoint_and_check_then_passes(billing_app):
    first = run(billing_app, "check")
    assert first.exit_code == 1
    assert "no webhook endpoint posts to" in first.output
    assert "run paywall stripe setup-webhook" in first.output

    created = run(billing_app, "setup-webhook")
    assert created.exit_code == 0, created.output
    assert "Signing secret (shown once): whsec_" in created.output
    [endpoint] = our_endpoints(billing_app)
    assert endpoint["api_version"] == API_VERSION
    assert set(endpoint["enabled_events"]) == set(SUBSCRIBED_EVENTS)

    again = run(billing_app, "setup-webhook")  # idempotent: the same endpoint, updated
    assert again.exit_code == 0 and "Signing secret" not in again.output
    assert len(our_endpoints(billing_app)) == 1

    checked = run(billing_app, "check")
    assert checked.exit_code == 0, checked.output
    assert "posts every event we handle" in checked.output
    for plan in ("monthly", "yearly", "premium"):
        assert f"plan {plan}:" in checked.output
    assert "Ready to go live." in checked.output


def test_check_names_what_a_wrong_endpoint_lacks(billing_app):
    run(billing_app, "setup-webhook")
    [endpoint] = our_endpoints(billing_app)
    with billing_app.twin.app_context():
        gateway().update_webhook_endpoint(endpoint["id"], ["invoice.paid"])

    checked = run(billing_app, "check")

    assert checked.exit_code == 1
    assert "it does not send customer.subscription.created" in checked.output
    assert "charge.dispute.created" in checked.output


def test_check_says_when_a_plan_is_not_in_stripe(billing_app):
    run(billing_app, "setup-webhook")
    with billing_app.twin.app_context():
        from billing.catalog import PlanInput, save_plan
        from paywall.extensions import db

        save_plan(db.session, PlanInput(code="weekly", name="Weekly", tier="standard", amount=300))

    checked = run(billing_app, "check")

    assert checked.exit_code == 1
    assert "plan weekly is not in Stripe: run paywall sync-catalog" in checked.output


def test_every_event_we_subscribe_to_has_a_handler():
    assert [kind for kind in SUBSCRIBED_EVENTS if handler_for(kind) is None] == []


def test_key_mode_and_missing_events_read_plain_values():
    assert key_mode("sk_live_abc") == "live" and key_mode("rk_test_abc") == "test"
    assert key_mode("pk_live_abc") == "unknown"
    assert missing_events({"enabled_events": ["*"]}) == []
    assert "invoice.paid" in missing_events({"enabled_events": ["customer.updated"]})
