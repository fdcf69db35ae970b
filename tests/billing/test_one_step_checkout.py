"""Subscribing without an account: the offer first, then email and card on one page.

Against the Stripe emulator and the real SMTP server, through the real forms.
"""

from __future__ import annotations

from sqlalchemy import func, select
from webtest import TestApp

from billing.catalog import PlanInput, save_plan, sync_catalog
from billing.models import Customer, Subscription
from paywall.accounts.models import Reader
from paywall.billing.support import gateway
from paywall.extensions import db
from tests.billing.conftest import put_plans_on_sale, stripe_settings
from tests.billing.emulated import ALWAYS_AUTHENTICATE, DECLINED_ON_CHARGE
from tests.billing.test_subscribe import gate_reason, snapshot_of
from tests.factories import SECRET, ReaderFactory
from tests.helpers import text


def account_of(live, email):
    return live.query(lambda s: s.scalar(select(Reader).where(Reader.email == email)))


def count(live, model):
    return live.query(lambda s: s.scalar(select(func.count()).select_from(model)))


def put_trial_plan_on_sale(live, days=14):
    with live.app.app_context():
        save_plan(db.session, PlanInput(code="trial", name="Trial", tier="standard",
                                        amount=500, trial_days=days, position=9,
                                        description="Every article."))  # fmt: skip
        sync_catalog(db.session, gateway())


def test_anonymous_reader_sees_subscribe_first_then_plans_with_prices_and_trials(billing_app):
    put_trial_plan_on_sale(billing_app)
    slug = billing_app.article()
    web = TestApp(billing_app.app)

    gated = web.get(f"/articles/{slug}")
    assert gate_reason(gated) == "anonymous"
    buttons = [a["data-action"] for a in gated.html.select("#paywall-gate .gate__actions a")]
    assert buttons == ["subscribe", "sign_in"]
    subscribe = gated.html.select_one('[data-action="subscribe"]')
    assert "button--secondary" not in subscribe["class"]

    plans = web.get(subscribe["href"])  # no sign-in asked for
    assert plans.status_int == 200
    shown = text(plans)
    assert "$9.00 / month" in shown and "$90.00 / year" in shown
    trial = plans.html.select_one('[data-plan="trial"]')
    assert "14-day free trial" in trial.text and "then $5.00 / month" in trial.text
    choose = trial.select_one("a.plan__choose")["href"]
    assert choose.startswith("/subscribe/trial?next=") and slug in choose

    checkout = web.get(choose)
    form = checkout.forms["card-form"]
    assert "email" in form.fields and "name" in form.fields
    assert "Nothing is charged today" in text(checkout)
    assert checkout.html.select_one("#card-submit").text == "Start your free trial"


def test_anonymous_reader_subscribes_in_one_step_and_reads(billing_app, mailbox):
    slug = billing_app.article()
    newcomer = billing_app.newcomer("new.reader@example.com")
    done = newcomer.subscribe_in_one_step("monthly", next=f"/articles/{slug}", name="Ada")

    assert done.status_int == 302
    assert done.headers["Location"].endswith(f"/articles/{slug}")
    article = done.follow()
    assert SECRET in article.text and gate_reason(article) is None
    assert "subscribed to Monthly" in text(article)
    assert "new.reader@example.com" in text(article)  # signed in: the masthead names them
    assert snapshot_of(billing_app, newcomer.email)[0].status == "active"

    reader = account_of(billing_app, "new.reader@example.com")
    assert reader.name == "Ada" and reader.password_hash is None
    assert reader.email_verified_at is None
    # The confirmation email: confirm the address, choose a password if they like.
    message = mailbox.last_to("new.reader@example.com")
    assert message["Subject"] == "Confirm your email address"
    newcomer.web.get(mailbox.link_to(newcomer.email, "/verify/"))
    assert account_of(billing_app, newcomer.email).email_verified_at is not None
    choose = TestApp(billing_app.app).get(mailbox.link_to(newcomer.email, "/password/reset/"))
    assert choose.status_int == 200 and choose.forms


def test_an_email_with_an_account_is_asked_to_sign_in_and_nothing_is_made(billing_app, mailbox):
    with billing_app.twin.app_context():
        ReaderFactory(email="regular@example.com")
    slug = billing_app.article()
    someone = billing_app.newcomer("Regular@Example.com ")
    answer = someone.subscribe_in_one_step("monthly", next=f"/articles/{slug}")

    assert answer.status_int == 200
    assert "Check your email to continue" in text(answer)
    assert "Nothing has been charged" in text(answer)
    assert count(billing_app, Customer) == 0 and count(billing_app, Subscription) == 0
    assert gate_reason(someone.read(slug)) == "anonymous"  # not signed in as them

    # The owner's emailed link signs in and leads back to this plan's checkout.
    link = mailbox.link_to("regular@example.com", "/signin/link/")
    confirm = TestApp(billing_app.app)
    page = confirm.get(link)
    back = page.forms[0].submit()
    assert "/subscribe/monthly" in back.headers["Location"]
    checkout = back.follow()
    assert "email" not in checkout.forms["card-form"].fields  # signed in now


def test_a_declined_card_is_explained_and_the_new_reader_can_try_another(billing_app):
    slug = billing_app.article()
    newcomer = billing_app.newcomer("declined@example.com")
    answer = newcomer.subscribe_in_one_step(card=DECLINED_ON_CHARGE, next=f"/articles/{slug}")

    assert answer.status_int == 422
    assert "declined" in text(answer).lower() and "No payment was taken" in text(answer)
    assert snapshot_of(billing_app, newcomer.email) == (None, None)
    # The account is made and signed in here: the form is now theirs, with no email field.
    assert "email" not in answer.forms["card-form"].fields
    assert newcomer.subscribe("monthly", next=f"/articles/{slug}").status_int == 302
    assert SECRET in newcomer.read(slug).text
    rows = billing_app.query(lambda s: s.scalars(select(Subscription)).all())
    assert [row.status for row in rows if row.status == "active"] == ["active"]


def test_a_card_needing_3d_secure_is_confirmed_then_the_article_opens(billing_app, stripe_side):
    slug = billing_app.article()
    newcomer = billing_app.newcomer("secure@example.com")
    answer = newcomer.subscribe_in_one_step(card=ALWAYS_AUTHENTICATE, next=f"/articles/{slug}")

    assert "/account/billing/confirm" in answer.headers["Location"]
    assert gate_reason(newcomer.read(slug)) == "payment_incomplete"
    confirm = answer.follow()
    client_secret = confirm.html.select_one("#confirm-form")["data-client-secret"]
    stripe_side.authenticate_payment(client_secret, success=True)
    done = confirm.forms["confirm-form"].submit()
    assert done.headers["Location"].endswith(f"/articles/{slug}")
    assert SECRET in done.follow().text


def test_a_trial_plan_starts_a_trial_without_a_charge_and_reads(billing_app):
    put_trial_plan_on_sale(billing_app, days=7)
    slug = billing_app.article()
    newcomer = billing_app.newcomer("trial@example.com")
    done = newcomer.subscribe_in_one_step("trial", next=f"/articles/{slug}")

    article = done.follow()
    assert SECRET in article.text
    assert "7-day free trial starts today" in text(article)
    assert "Your free trial ends on" in text(article)
    subscription, _ = snapshot_of(billing_app, newcomer.email)
    assert subscription.status == "trialing"


def test_a_card_form_not_given_to_this_browser_is_refused(billing_app):
    other = billing_app.newcomer("other@example.com")
    their_page = other.web.get("/subscribe/monthly")
    their_card = other.stripe.confirm_card_setup(
        their_page.html.select_one("#card-form")["data-client-secret"]
    )
    intruder = billing_app.newcomer("intruder@example.com")
    form = intruder.web.get("/subscribe/monthly").forms["card-form"]
    form["email"] = intruder.email
    form["setup_intent_id"].force_value(their_card)
    answer = form.submit(expect_errors=True)

    assert answer.status_int == 422
    assert "enter your card again" in text(answer)
    assert account_of(billing_app, intruder.email) is None
    assert count(billing_app, Customer) == 0


def test_a_bad_email_is_a_field_error_and_makes_nothing(billing_app):
    newcomer = billing_app.newcomer("not-an-email")
    answer = newcomer.subscribe_in_one_step()

    assert answer.status_int == 422
    errors = answer.html.select_one("#email-errors")
    assert errors is not None and "valid email" in errors.text
    assert count(billing_app, Reader) == 0 and count(billing_app, Customer) == 0
    assert answer.forms["card-form"]["email"].value == "not-an-email"


def test_the_anonymous_checkout_is_rate_limited(make_app, emulator, mailbox):
    app = make_app(
        **stripe_settings(emulator, "whsec_unused"),
        RATELIMIT_ENABLED=True,
        CHECKOUT_RATE_LIMIT="3 per minute",
    )
    put_plans_on_sale(app)
    web = TestApp(app)
    for _ in range(3):
        assert web.get("/subscribe/monthly").status_int == 200
    refused = web.get("/subscribe/monthly", expect_errors=True)
    assert refused.status_int == 429 and "Retry-After" in refused.headers
