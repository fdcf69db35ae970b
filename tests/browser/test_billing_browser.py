"""Real Chromium on the real pages: the card form is the emulator's stand-in Stripe.js."""

from __future__ import annotations

from tests.billing import conftest as billing
from tests.billing.test_promotion_codes import new_code, stripe_invoices_of
from tests.billing.test_renewal_and_card import lapse, status_of
from tests.factories import DEFAULT_PASSWORD, SECRET

# The billing fixtures (the emulator process, the live app wired to it), used here too.
emulator, stripe_side, billing_app = billing.emulator, billing.stripe_side, billing.billing_app


def sign_in(page, base: str, email: str, next_path: str) -> None:
    page.goto(f"{base}/signin?next={next_path}")
    page.fill("input[name=email]", email)
    page.fill("input[name=password]", DEFAULT_PASSWORD)
    page.click("#sign-in-form button[type=submit]")
    page.wait_for_url(f"{base}{next_path}")


def fill_card(page, number: str = "4242424242424242") -> None:
    """Type into the emulator's card Element (plain inputs, as Stripe's iframe would hold)."""
    page.fill("#card-element input[placeholder=number]", number)
    page.fill("#card-element input[placeholder=exp_month]", "12")
    page.fill("#card-element input[placeholder=exp_year]", "31")
    page.fill("#card-element input[placeholder=cvc]", "123")
    page.fill("#card-element input[placeholder=postal_code]", "10001")


def test_a_reader_subscribes_with_4242_through_the_card_form(billing_app, page):
    slug = billing_app.article()
    reader = billing_app.subscriber()
    article = f"/articles/{slug}"
    sign_in(page, billing_app.url, reader.email, article)
    assert page.locator("#paywall-gate").get_attribute("data-reason") == "no_subscription"
    assert SECRET not in page.content()

    page.click('[data-action="subscribe"]')
    page.click('[data-plan="monthly"] a')
    page.wait_for_selector("#card-element input[placeholder=number]")
    fill_card(page)
    page.click("#card-submit")

    page.wait_for_url(f"{billing_app.url}{article}")
    assert page.locator(".paywalled-content").inner_text().count(SECRET) == 1
    assert "subscribed to Monthly" in page.content()
    assert status_of(billing_app, reader.email) == "active"


def test_the_card_form_loads_the_endive_release_of_stripe_js(billing_app, page):
    """Stripe.js is versioned by release: the pinned API goes with endive, which has none
    of the legacy methods the dahlia release removed."""
    reader = billing_app.subscriber()
    sign_in(page, billing_app.url, reader.email, "/subscribe/monthly")
    loaded = page.eval_on_selector_all("script[src]", "scripts => scripts.map(s => s.src)")
    assert f"{billing_app.emulator.api_base}/endive/stripe.js" in loaded
    kinds = page.evaluate("""() => {
      const stripe = Stripe("pk_test_x");
      const names = ["confirmCardSetup", "confirmCardPayment", "elements", "handleCardSetup",
        "handleCardPayment", "confirmPaymentIntent", "confirmSetupIntent", "createSource",
        "retrieveSource"];
      return Object.fromEntries(names.map(name => [name, typeof stripe[name]]));
    }""")
    assert kinds == {
        "confirmCardSetup": "function", "confirmCardPayment": "function", "elements": "function",
        "handleCardSetup": "undefined", "handleCardPayment": "undefined",
        "confirmPaymentIntent": "undefined", "confirmSetupIntent": "undefined",
        "createSource": "undefined", "retrieveSource": "undefined",
    }  # fmt: skip


def test_a_declined_card_is_explained_on_the_form(billing_app, page):
    reader = billing_app.subscriber()
    sign_in(page, billing_app.url, reader.email, "/subscribe/monthly")
    fill_card(page, "4000000000000341")
    page.click("#card-submit")
    page.wait_for_selector("#card-errors:has-text('declined')")
    assert "No payment was taken" in page.inner_text("#card-errors")
    assert status_of(billing_app, reader.email) == "none"


def test_a_lapsed_subscriber_updates_the_card_and_lands_on_the_full_article(
    billing_app, stripe_side, page
):
    slug = billing_app.article()
    reader = billing_app.subscriber()
    lapse(billing_app, stripe_side, reader)

    article = f"/articles/{slug}"
    sign_in(page, billing_app.url, reader.email, article)
    assert page.locator("#paywall-gate").get_attribute("data-reason") == "payment_failed"
    assert SECRET not in page.content()

    page.click('[data-action="update_card"]')
    page.wait_for_selector("#card-element input[placeholder=number]")
    assert "$9.00 is unpaid" in page.content()
    fill_card(page)
    page.click("#card-submit")

    page.wait_for_url(f"{billing_app.url}{article}")
    assert SECRET in page.locator(".paywalled-content").inner_text()
    assert "Your card is updated and your subscription is paid up." in page.content()


def test_anonymous_reader_subscribes_from_the_gate_in_one_step_and_reads(
    billing_app, page, mailbox
):
    slug = billing_app.article()
    article = f"/articles/{slug}"
    page.goto(f"{billing_app.url}{article}")
    assert page.locator("#paywall-gate").get_attribute("data-reason") == "anonymous"
    assert SECRET not in page.content()

    page.locator("#paywall-gate .gate__actions a").first.click()  # the primary: Subscribe
    page.click('[data-plan="monthly"] a')
    page.fill("input[name=email]", "one.step@example.com")
    page.fill("input[name=name]", "Ola")
    page.wait_for_selector("#card-element input[placeholder=number]")
    fill_card(page)
    page.click("#card-submit")

    page.wait_for_url(f"{billing_app.url}{article}")
    assert page.locator(".paywalled-content").inner_text().count(SECRET) == 1
    assert "subscribed to Monthly" in page.content()
    assert "one.step@example.com" in page.inner_text(".masthead")
    assert status_of(billing_app, "one.step@example.com") == "active"
    assert "/verify/" in mailbox.link_to("one.step@example.com", "/verify/")


def test_the_one_step_form_asks_for_the_email_before_the_card(billing_app, page):
    page.goto(f"{billing_app.url}/subscribe/monthly")
    page.wait_for_selector("#card-element input[placeholder=number]")
    fill_card(page)
    page.click("#card-submit")
    page.wait_for_selector("#card-errors:has-text('valid email')")
    assert page.evaluate("document.activeElement.name") == "email"
    assert page.url == f"{billing_app.url}/subscribe/monthly"  # nothing was sent


def test_the_card_box_takes_a_number_with_spaces_and_a_four_digit_year(billing_app, page):
    """As people type it, key by key: each part hands on to the next once complete."""
    reader = billing_app.subscriber()
    sign_in(page, billing_app.url, reader.email, "/subscribe/monthly")
    page.click("#card-element input[placeholder=number]")
    page.keyboard.type("4242 4242 4242 4242")
    focused = "() => document.activeElement.getAttribute('placeholder')"
    assert page.evaluate(focused) == "exp_month"
    page.keyboard.type("12")
    assert page.evaluate(focused) == "exp_year"
    page.keyboard.type("2031")
    assert page.evaluate(focused) == "cvc"
    page.keyboard.type("123")
    page.keyboard.type("10001")
    page.click("#card-submit")
    page.wait_for_url(f"{billing_app.url}/account/billing")
    assert page.inner_text("#card-summary").startswith("Visa ending 4242, expires 12/31")
    assert status_of(billing_app, reader.email) == "active"


def test_a_declined_card_moves_focus_to_its_message_never_a_false_alarm(billing_app, page):
    reader = billing_app.subscriber()
    sign_in(page, billing_app.url, reader.email, "/subscribe/monthly")
    # Every text the message box shows, kept across the page the server answers with.
    page.add_init_script("""document.addEventListener("DOMContentLoaded", () => {
      const box = document.getElementById("card-errors");
      const keep = () => sessionStorage.setItem("seen",
        (sessionStorage.getItem("seen") || "") + "|" + box.textContent);
      keep();
      new MutationObserver(keep).observe(box, {childList: true, characterData: true});
    });""")
    page.reload()
    fill_card(page, "4000000000000341")
    page.click("#card-submit")
    page.wait_for_selector("#card-errors:has-text('declined')")
    assert page.evaluate("() => document.activeElement.id") == "card-errors"
    seen = page.evaluate("() => sessionStorage.getItem('seen')")
    assert "declined" in seen and "went wrong" not in seen  # nothing false while checking


def test_a_promotion_code_applied(billing_app, stripe_side, page):
    """Typed, applied (the price changes before paying), then paid at the discount."""
    code = new_code(stripe_side)
    slug = billing_app.article()
    article = f"/articles/{slug}"
    page.goto(f"{billing_app.url}/subscribe/monthly?next={article}")
    page.fill("input[name=email]", "promo.browser@example.com")
    page.fill("input[name=promotion_code]", code)
    page.click("#promotion-apply")
    page.wait_for_selector("#promotion-terms")
    assert page.inner_text("#promotion-terms") == "$9.00 → $6.30 for 3 months, then $9.00 / month"
    assert page.input_value("input[name=email]") == "promo.browser@example.com"
    assert page.inner_text("#card-submit") == "Subscribe for $6.30"

    page.wait_for_selector("#card-element input[placeholder=number]")
    fill_card(page)
    page.click("#card-submit")

    page.wait_for_url(f"{billing_app.url}{article}")
    assert page.locator(".paywalled-content").inner_text().count(SECRET) == 1
    [invoice] = stripe_invoices_of(billing_app, stripe_side, "promo.browser@example.com")
    assert invoice["amount_paid"] == 630
