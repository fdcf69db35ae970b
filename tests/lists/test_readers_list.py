"""The staff's readers list: every account once across pages, newest first, searched by
email and filtered by state, each page read with a bounded query."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import insert

from billing.models import Customer, Subscription
from paywall.accounts.models import Reader, Role
from paywall.extensions import db
from paywall.pagination import PAGE_SIZE
from tests.factories import AdminFactory, EditorFactory, ReaderFactory
from tests.helpers import sign_in, sign_in_client
from tests.lists.helpers import link, loaded, statements, walk

READERS = 1_050
READER_LINK = re.compile(r'<a href="/admin/readers/(\d+)">([^<]+)</a>')


def shown(page) -> list[str]:  # type: ignore[no-untyped-def]
    assert page.status_code == 200, page.text
    return [email for _, email in READER_LINK.findall(page.text)]


@pytest.fixture
def many_readers(client, app_ctx) -> list[str]:
    """1,050 accounts made in one bulk insert (every 10th unconfirmed, every 50th comped),
    plus the signed-in editor; emails newest first."""
    start = datetime(2026, 1, 1, tzinfo=UTC)
    rows = [
        {
            "email": f"bulk{number:04d}@example.com",
            "name": f"Bulk Reader {number}",
            "role": Role.READER,
            "email_verified_at": None if number % 10 == 0 else start,
            "last_signed_in_at": None,
            "is_comped": number % 50 == 0,
            "created_at": start + timedelta(minutes=number),
        }
        for number in range(READERS)
    ]
    db.session.execute(insert(Reader), rows)
    db.session.commit()
    editor = EditorFactory(email="the-editor@example.com")
    sign_in_client(client, editor)
    return [editor.email] + [row["email"] for row in reversed(rows)]


def test_the_pages_show_every_reader_once_newest_first(client, many_readers):
    pages = walk(client, "/admin/readers", shown)
    seen = [email for page in pages for email in page]
    assert seen == many_readers  # complete, disjoint and in order
    assert [len(page) for page in pages[:-1]] == [PAGE_SIZE] * (len(pages) - 1)
    assert len(pages) == -(-len(many_readers) // PAGE_SIZE)


def test_a_reader_who_signs_up_meanwhile_neither_repeats_nor_hides_one(client, many_readers):
    first = client.get("/admin/readers")
    second_url = link(first, "next")
    ReaderFactory(email="just-joined@example.com")
    second = client.get(second_url)
    assert shown(second) == many_readers[PAGE_SIZE : 2 * PAGE_SIZE]
    assert shown(client.get("/admin/readers"))[0] == "just-joined@example.com"


def test_newer_links_walk_back_to_the_first_page(client, many_readers):
    first = client.get("/admin/readers")
    third = client.get(link(client.get(link(first, "next")), "next"))
    back = client.get(link(client.get(link(third, "prev")), "prev"))
    assert shown(back) == shown(first) and link(back, "prev") is None


def test_search_and_state_filter_hold_on_every_page(client, many_readers):
    unconfirmed = [e for e in many_readers if e.startswith("bulk") and int(e[4:8]) % 10 == 0]
    pages = walk(client, "/admin/readers?state=unconfirmed", shown)
    assert [e for page in pages for e in page] == unconfirmed and len(pages) == 6
    pages = walk(client, "/admin/readers?state=comped&email=BULK0", shown)
    assert [e for page in pages for e in page] == [
        e for e in unconfirmed if int(e[4:8]) % 50 == 0 and e.startswith("bulk0")
    ]
    assert shown(client.get("/admin/readers?state=staff")) == ["the-editor@example.com"]
    assert "No readers match." in client.get("/admin/readers?email=%25").text


def test_a_deep_page_reads_one_page_of_readers_not_the_table(app, client, many_readers):
    url = "/admin/readers"
    for _ in range(30):
        url = link(client.get(url), "next")
    with loaded(Reader) as readers, statements(app) as sent:
        page = client.get(url)
    assert len(shown(page)) == PAGE_SIZE
    assert len(readers) <= PAGE_SIZE + 1  # the page, and one row to tell whether more follow
    # Each read of the table is a page (LIMIT) or by key (the signed-in editor, the page's ids).
    reads = [s for s in sent if re.search(r"\bFROM readers\b", s)]
    bounded = re.compile(r"\bLIMIT\b|readers\.id (IN \(|= )")
    assert reads and all(bounded.search(s) for s in reads), reads


def test_each_reader_shows_their_subscription_and_links_to_their_page(client, many_readers):
    reader = db.session.query(Reader).filter_by(email=many_readers[3]).one()
    customer = Customer(reader_id=reader.id, stripe_customer_id="cus_listed")
    db.session.add(customer)
    db.session.flush()
    db.session.add(
        Subscription(
            stripe_subscription_id="sub_listed",
            customer_id=customer.id,
            plan_code="monthly",
            status="past_due",
            was_active=True,
        )
    )
    db.session.commit()
    page = client.get("/admin/readers")
    row = page.text.split(reader.email)[1].split("</tr>")[0]
    assert "Payment failed, retrying" in row
    detail = client.get(f"/admin/readers/{reader.id}")
    assert detail.status_code == 200 and "Payment failed, retrying" in detail.text
    subscribers = client.get("/admin/subscribers").text
    assert f'<a href="/admin/readers/{reader.id}">{reader.email}</a>' in subscribers


@pytest.mark.parametrize("query", ["state=bogus", "older=junk", "newer=!!", "older=WyJ4Il0"])
def test_a_bad_filter_or_cursor_is_a_400_page(client, many_readers, query):
    assert client.get(f"/admin/readers?{query}").status_code == 400


def test_readers_cannot_see_the_readers_list(client, app_ctx):
    reader = ReaderFactory()
    sign_in_client(client, reader)
    assert client.get("/admin/readers").status_code == 403
    assert client.get(f"/admin/readers/{reader.id}").status_code == 403
    sign_in_client(client, EditorFactory())
    assert client.get("/admin/readers/999999").status_code == 404


def test_admins_end_a_comp_from_the_readers_page_and_come_back_to_it(web, app_ctx):
    comped = ReaderFactory(email="comped@example.com", is_comped=True)
    admin = AdminFactory()
    sign_in(web, admin.email)
    page = web.get(f"/admin/readers/{comped.id}")
    back = page.forms["revoke-comp"].submit()
    assert back.location.endswith(f"/admin/readers/{comped.id}")
    assert "no (" in back.follow().html.select_one("#comp").text
    db.session.expire_all()
    assert db.session.get(Reader, comped.id).is_comped is False


def test_ending_a_comp_never_leads_off_the_site(web, app_ctx):
    comped = ReaderFactory(email="comped@example.com", is_comped=True)
    sign_in(web, AdminFactory().email)
    form = web.get(f"/admin/readers/{comped.id}").forms["revoke-comp"]
    form["next"] = "https://evil.example/phish"
    assert form.submit().location.endswith("/admin/subscribers")
