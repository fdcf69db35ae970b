"""The subscribers page a page at a time: every subscriber once, none silently left
out, searched by email and filtered by a status shown in words."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta

import pytest

from billing.models import Customer, Subscription
from paywall.extensions import db
from paywall.pagination import PAGE_SIZE
from tests.factories import EditorFactory, ReaderFactory
from tests.helpers import sign_in_client

EMAIL = re.compile(r"<tr>\s*<td[^>]*>(?:<a [^>]*>)?([^<]+@example\.com)<")


def subscribe(reader, status: str, *, number: int, was_active: bool = True) -> Subscription:
    customer = db.session.query(Customer).filter_by(reader_id=reader.id).one_or_none()
    if customer is None:
        customer = Customer(reader_id=reader.id, stripe_customer_id=f"cus_{reader.id}")
        db.session.add(customer)
        db.session.flush()
    subscription = Subscription(
        stripe_subscription_id=f"sub_{reader.id}_{number}",
        customer_id=customer.id,
        plan_code="monthly",
        status=status,
        was_active=was_active,
        current_period_end=datetime.now(UTC) + timedelta(days=20),
        created_at=datetime.now(UTC) + timedelta(seconds=number),
    )
    db.session.add(subscription)
    db.session.commit()
    return subscription


def shown(page) -> list[str]:
    assert page.status_code == 200
    return EMAIL.findall(page.text)


def link(page, rel: str) -> str | None:
    found = re.search(rf'rel="{rel}" id="\w+" href="([^"]+)"', page.text)
    return found.group(1).replace("&amp;", "&") if found else None


def walk(client, url: str) -> tuple[list[str], int]:
    page, seen, pages = client.get(url), [], 1
    seen += shown(page)
    while (older := link(page, "next")) is not None:
        page = client.get(older)
        seen += shown(page)
        pages += 1
    return seen, pages


@pytest.fixture
def subscribers(client, app_ctx) -> dict[str, list[str]]:
    """45 subscribers by status; one came back after an ended subscription."""
    by_status: dict[str, list[str]] = {"active": [], "past_due": [], "canceled": []}
    for number in range(45):
        reader = ReaderFactory()
        status = ("active", "active", "past_due", "canceled")[number % 4]
        subscribe(reader, status, number=number)
        by_status[status].append(reader.email)
    returning = ReaderFactory(email="back-again@example.com")
    subscribe(returning, "canceled", number=100)
    subscribe(returning, "active", number=101)
    by_status["active"].append(returning.email)
    never_paid = ReaderFactory(email="never-paid@example.com")
    subscribe(never_paid, "incomplete_expired", number=102, was_active=False)
    sign_in_client(client, EditorFactory())
    return by_status


def test_the_pages_show_every_subscriber_once_and_say_where_the_list_goes_on(client, subscribers):
    everyone = sorted(e for emails in subscribers.values() for e in emails)
    first = client.get("/admin/subscribers")
    assert len(shown(first)) == PAGE_SIZE
    seen, pages = walk(client, "/admin/subscribers")
    assert sorted(seen) == everyone and len(seen) == len(set(seen)) == 46
    assert pages == 3
    assert "never-paid@example.com" not in seen


def test_newer_links_walk_back_to_the_first_page(client, subscribers):
    first = client.get("/admin/subscribers")
    last = client.get(link(client.get(link(first, "next")), "next"))
    back = client.get(link(client.get(link(last, "prev")), "prev"))
    assert shown(back) == shown(first) and link(back, "prev") is None


def test_a_returning_subscriber_is_listed_once_with_the_live_subscription(client, subscribers):
    page = client.get("/admin/subscribers?email=back-again")
    assert shown(page) == ["back-again@example.com"]
    assert "Active" in page.text.split("back-again@example.com")[1].split("</tr>")[0]


def test_a_status_filter_shows_its_subscribers_in_words_across_pages(client, subscribers):
    seen, _ = walk(client, "/admin/subscribers?status=past_due")
    assert sorted(seen) == sorted(subscribers["past_due"])
    page = client.get("/admin/subscribers?status=canceled")
    assert sorted(shown(page)) == sorted(subscribers["canceled"])  # the returning one is live
    assert "Payment failed, retrying" in client.get("/admin/subscribers?status=past_due").text
    assert ">past_due<" not in client.get("/admin/subscribers").text


def test_search_by_part_of_an_email_keeps_the_filter_on_every_page(client, subscribers):
    seen, pages = walk(client, "/admin/subscribers?email=EXAMPLE.com&status=active")
    assert sorted(seen) == sorted(subscribers["active"]) and pages == 2
    assert shown(client.get("/admin/subscribers?email=nobody")) == []
    assert "No subscribers match." in client.get("/admin/subscribers?email=%25").text


@pytest.mark.parametrize("query", ["status=bogus", "older=junk", "newer=!!", "older=WyJ4Il0"])
def test_a_bad_filter_or_cursor_is_a_400_page(client, subscribers, query):
    assert client.get(f"/admin/subscribers?{query}").status_code == 400


def test_a_plan_filter_keeps_that_plans_subscribers_across_pages(client, subscribers):
    from tests.factories import PlanFactory

    PlanFactory(code="monthly", name="Monthly"), PlanFactory(code="yearly", name="Yearly")
    yearly = ReaderFactory(email="yearly-reader@example.com")
    subscribe(yearly, "active", number=200).plan_code = "yearly"
    db.session.commit()
    page = client.get("/admin/subscribers?plan=yearly")
    assert shown(page) == ["yearly-reader@example.com"]
    assert '<option value="yearly" selected>Yearly</option>' in page.text
    seen, pages = walk(client, "/admin/subscribers?plan=monthly&status=active")
    assert sorted(seen) == sorted(subscribers["active"]) and pages == 2
    assert client.get("/admin/subscribers?plan=nonsense").status_code == 400
