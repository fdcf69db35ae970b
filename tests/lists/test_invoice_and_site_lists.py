"""Lists that used to load everything or stop silently: a reader's invoices (their billing
page and the staff's page about them), registered sites, comped readers."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import insert

from billing.models import Customer, Invoice
from paywall.accounts.models import Reader
from paywall.embed.models import Site
from paywall.extensions import db
from paywall.pagination import PAGE_SIZE, encode_cursor
from tests.factories import AdminFactory, EditorFactory, ReaderFactory
from tests.helpers import sign_in_client
from tests.lists.helpers import link, loaded, walk

INVOICES = 45


def invoice_dates(page) -> list[str]:  # type: ignore[no-untyped-def]
    assert page.status_code == 200, page.text
    section = page.text.split('id="invoices"', 1)[1]
    return re.findall(r'<tr data-status="\w+">\s*<td[^>]*>([^<]+)</td>', section)


@pytest.fixture
def long_time_subscriber(app_ctx) -> tuple[Reader, list[str]]:
    """A reader billed monthly for almost four years (45 invoices, one of them unpaid and
    older than a page), made in bulk; the dates as the page shows them, newest first."""
    reader = ReaderFactory(email="loyal@example.com")
    customer = Customer(reader_id=reader.id, stripe_customer_id="cus_loyal")
    db.session.add(customer)
    db.session.flush()
    start = datetime(2023, 1, 3, 9, 0, tzinfo=UTC)
    rows = [
        {
            "stripe_invoice_id": f"in_loyal_{number}",
            "customer_id": customer.id,
            "status": "open" if number == 10 else "paid",
            "amount_due": 900,
            "amount_paid": 0 if number == 10 else 900,
            "currency": "usd",
            "created": start + timedelta(days=30 * number),
        }
        for number in range(INVOICES)
    ]
    rows.append({**rows[0], "stripe_invoice_id": "in_loyal_draft", "status": "draft"})
    db.session.execute(insert(Invoice), rows)
    db.session.commit()
    dates = [row["created"].strftime("%-d %b %Y") for row in rows[:INVOICES]]
    return reader, dates[::-1]


def test_a_subscriber_pages_through_every_invoice_on_the_billing_page(client, long_time_subscriber):
    reader, dates = long_time_subscriber
    sign_in_client(client, reader)
    with loaded(Invoice) as invoices:
        first = client.get("/account/billing")
    assert invoice_dates(first) == dates[:PAGE_SIZE]
    assert len(invoices) <= PAGE_SIZE + 2  # the page, one more, and the unpaid one
    pages = walk(client, "/account/billing", invoice_dates)
    assert [d for page in pages for d in page] == dates  # every one, once, newest first
    assert link(first, "next").endswith("#invoices")


def test_staff_page_through_a_readers_invoices(client, long_time_subscriber):
    reader, dates = long_time_subscriber
    sign_in_client(client, EditorFactory())
    pages = walk(client, f"/admin/readers/{reader.id}", invoice_dates)
    assert [d for page in pages for d in page] == dates
    statuses = walk(
        client, f"/admin/readers/{reader.id}", lambda p: re.findall(r'data-status="(\w+)"', p.text)
    )
    assert [s for page in statuses for s in page].count("open") == 1


def test_a_bad_invoice_cursor_is_a_400_page(client, long_time_subscriber):
    reader, _ = long_time_subscriber
    sign_in_client(client, reader)
    assert client.get("/account/billing?older=junk").status_code == 400


SITE_LINK = re.compile(r'<td><a href="/admin/sites/\d+">([^<]+)</a></td>')


def test_sites_are_listed_a_page_at_a_time(client, app_ctx):
    rows = [
        {
            "name": f"Site {n:03d}",
            "public_key": f"pk_site_{n}",
            "allowed_origins": "https://a.example",
        }
        for n in range(45)
    ]
    db.session.execute(insert(Site), rows)
    db.session.commit()
    sign_in_client(client, AdminFactory())

    def names(page):  # type: ignore[no-untyped-def]
        assert page.status_code == 200
        return SITE_LINK.findall(page.text)

    with loaded(Site) as sites:
        first = client.get("/admin/sites")
    assert len(sites) <= PAGE_SIZE + 1 and len(names(first)) == PAGE_SIZE
    assert 'id="site-form"' in first.text  # registering stays on the first page
    pages = walk(client, "/admin/sites", names)
    assert [n for page in pages for n in page] == [row["name"] for row in reversed(rows)]


def test_the_subscribers_page_says_how_many_readers_are_comped_and_links_to_them(client, app_ctx):
    db.session.execute(
        insert(Reader),
        [{"email": f"comped{n:03d}@example.com", "is_comped": True} for n in range(30)],
    )
    db.session.commit()
    sign_in_client(client, EditorFactory())
    page = client.get("/admin/subscribers")
    assert "The first 20 of 30 readers with complimentary access" in page.text
    comped = walk(
        client, "/admin/readers?state=comped", lambda p: re.findall(r">(comped\d+)@", p.text)
    )
    assert sorted(e for page in comped for e in page) == [f"comped{n:03d}" for n in range(30)]


def test_a_sites_keys_are_listed_newest_first_a_page_at_a_time(client, app_ctx):
    from paywall.embed.models import SiteKey
    from paywall.embed.sites import create_site

    site = create_site("Daily", "https://daily.example").site
    made = datetime(2026, 1, 1, tzinfo=UTC)
    db.session.execute(
        insert(SiteKey),
        [
            {
                "site_id": site.id,
                "prefix": f"sk_{n:03d}",
                "digest": f"{n:064d}",
                "created_at": made,
                "revoked_at": made,
            }
            for n in range(30)
        ],
    )
    db.session.commit()
    sign_in_client(client, AdminFactory())

    def prefixes(page):  # type: ignore[no-untyped-def]
        assert page.status_code == 200
        return re.findall(r"<code>(sk_\d{3})…</code>", page.text)

    pages = walk(client, f"/admin/sites/{site.id}", prefixes)
    assert [p for page in pages for p in page] == [f"sk_{n:03d}" for n in reversed(range(30))]
    assert [len(page) for page in pages] == [20, 10]  # and the first key, live, last
    last = client.get(f"/admin/sites/{site.id}?older=" + encode_cursor((site.keys[0].id + 1,)))
    assert ">live<" in last.text
