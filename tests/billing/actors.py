"""A reader who pays, acting through the real pages (WebTest) and the emulator's Stripe.js."""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from webtest import TestApp

from tests.billing.emulated import VISA, StripeSide
from tests.helpers import sign_in, text


def client_secret_of(page: Any) -> str:
    found = re.search(r'data-client-secret="([^"]+)"', page.text)
    assert found, "the page has no card form"
    return found.group(1)


@dataclass
class Subscriber:
    """One reader with a browser session."""

    web: TestApp
    stripe: StripeSide
    email: str

    def sign_in(self) -> None:
        response = sign_in(self.web, self.email)
        assert response.status_int == 302, text(response)

    def read(self, slug: str) -> Any:
        return self.web.get(f"/articles/{slug}")

    def _submit_card(self, page: Any, card: str, exp: tuple[int, int], **fields: str) -> Any:
        setup_intent_id = self.stripe.confirm_card_setup(client_secret_of(page), card, exp)
        form = page.forms["card-form"]
        for name, value in fields.items():
            form[name] = value
        form["setup_intent_id"].force_value(setup_intent_id)
        return form.submit(expect_errors=True)

    def subscribe(
        self,
        plan: str = "monthly",
        card: str = VISA,
        next: str = "",
        exp: tuple[int, int] = (12, 2030),
    ) -> Any:
        """Choose ``plan`` and pay with ``card`` on the checkout page; the response to the POST."""
        query = f"?next={next}" if next else ""
        page = self.web.get(f"/subscribe/{plan}{query}")
        return self._submit_card(page, card, exp)

    def subscribe_in_one_step(
        self, plan: str = "monthly", card: str = VISA, next: str = "", name: str = ""
    ) -> Any:
        """Without an account: email, name and card on the checkout page; the POST's response."""
        query = f"?next={next}" if next else ""
        page = self.web.get(f"/subscribe/{plan}{query}")
        return self._submit_card(page, card, (12, 2030), email=self.email, name=name)

    def update_card(self, card: str = VISA, next: str = "") -> Any:
        query = f"?next={next}" if next else ""
        page = self.web.get(f"/account/billing/card{query}")
        return self._submit_card(page, card, (12, 2031))

    def billing_page(self) -> Any:
        return self.web.get("/account/billing")

    def cancel(self, reason: str = "", comment: str = "") -> Any:
        """Follow the account page's cancel link and confirm; the response to the POST."""
        link = self.billing_page().html.select_one("#cancel-link")
        assert link is not None, "the account page offers no cancel"
        form = self.web.get(link["href"]).forms["cancel-form"]
        form["reason"] = reason
        form["comment"] = comment
        return form.submit(expect_errors=True)

    def press(self, form_id: str) -> Any:
        """Submit one of the account page's buttons."""
        return self.billing_page().forms[form_id].submit()
