"""The article page is served from per-worker caches (the article row, a reader-free
shell of the page) that are kept right by generation counters: it never shows a stale edit, another
decision's text or anything of another reader."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from jinja2 import ChoiceLoader, DictLoader, UndefinedError

from paywall.articles.service import save_article
from paywall.extensions import db
from paywall.templating import ENVIRONMENT as SHELL_ENVIRONMENT
from tests.conftest import browser_for
from tests.factories import SECRET, ArticleFactory, EditorFactory, ReaderFactory
from tests.helpers import path_of, sign_in, sign_in_client, text


def resave(article, **changes) -> None:  # type: ignore[no-untyped-def]
    fields = {
        name: getattr(article, name)
        for name in ("title", "slug", "dek", "access_level", "body_source", "published_at")
    }
    save_article(article, **(fields | changes))


def test_an_edit_shows_at_once_on_a_cached_page(app):
    with app.app_context():
        EditorFactory(email="ed@example.com")
        slug = ArticleFactory(access_level="free", title="Old title").slug
    reader, editor = browser_for(app), browser_for(app)
    assert "Old title" in text(reader.get(f"/articles/{slug}"))

    sign_in(editor, "ed@example.com")
    form = editor.get(f"/editor/articles/{slug}/edit").forms["article-form"]
    form["title"] = "New title"
    form["body_source"] = "A rewritten first paragraph."
    form.submit()

    page = text(reader.get(f"/articles/{slug}"))
    assert "New title" in page and "A rewritten first paragraph." in page
    assert "Old title" not in page


def test_an_edit_saved_by_another_app_shows_on_the_next_request(app, app_ctx):
    article = ArticleFactory(access_level="free", title="Old title")
    client = app.test_client()
    assert "Old title" in client.get(f"/articles/{article.slug}").text
    resave(article, title="New title")  # saved through the twin app: another worker
    assert "New title" in client.get(f"/articles/{article.slug}").text


def test_readers_with_different_decisions_never_share_a_page(app, app_ctx):
    slug = ArticleFactory(access_level="paid").slug
    anonymous, signed_in, staff = (app.test_client() for _ in range(3))
    sign_in_client(signed_in, ReaderFactory())
    sign_in_client(staff, EditorFactory())
    for _ in range(2):  # the second round is served from the caches
        assert SECRET in staff.get(f"/articles/{slug}").text
        for client, reason in ((anonymous, "anonymous"), (signed_in, "no_subscription")):
            page = client.get(f"/articles/{slug}").text
            assert SECRET not in page and f'data-reason="{reason}"' in page
            assert "Edit this article" not in page


def subscribed_with_a_card_expiring_soon(reader, last4: str) -> None:  # type: ignore[no-untyped-def]
    """An active subscription renewing after the end of this month, on a card that
    expires this month: every page the reader reads carries a notice naming the card."""
    from billing.models import Customer, PaymentMethod, Subscription

    now = datetime.now(UTC)
    card = f"pm_{reader.id}"
    customer = Customer(
        reader_id=reader.id, stripe_customer_id=f"cus_{reader.id}", default_payment_method_id=card
    )
    db.session.add(customer)
    db.session.flush()
    db.session.add_all(
        [
            PaymentMethod(
                stripe_payment_method_id=card,
                customer_id=customer.id,
                brand="visa",
                last4=last4,
                exp_month=now.month,
                exp_year=now.year,
            ),
            Subscription(
                stripe_subscription_id=f"sub_{reader.id}",
                customer_id=customer.id,
                status="active",
                current_period_end=now + timedelta(days=40),
            ),
        ]
    )
    db.session.commit()


def test_no_reader_ever_sees_anything_of_another_on_a_cached_page(app, app_ctx):
    paid = ArticleFactory(access_level="paid").slug
    free = ArticleFactory(access_level="free").slug
    people = {
        "ann": ReaderFactory(email="ann@example.com", name="Ann Aardvark"),
        "bob": ReaderFactory(email="bob@example.com", name="Bob Bittern"),
        "sue": ReaderFactory(email="sue@example.com", name="Sue Subscriber"),
        "tom": ReaderFactory(email="tom@example.com", name="Tom Subscriber"),
        "eve": EditorFactory(email="eve@example.com", name="Eve Editor"),
    }
    cards = {"sue": "4417", "tom": "8812"}
    for who, last4 in cards.items():
        subscribed_with_a_card_expiring_soon(people[who], last4)
    clients = {"anonymous": app.test_client()}
    for who, reader in people.items():
        clients[who] = app.test_client()
        sign_in_client(clients[who], reader)
    full_text = {"sue", "tom", "eve"}

    # Each reader in turn, twice over and in both orders, so every page is served after
    # every other reader's has filled the caches.
    order = [*clients, *reversed(clients), *clients]
    for who in order:
        for slug in (paid, free):
            page = clients[who].get(f"/articles/{slug}").text
            for other, reader in people.items():
                mine = other == who
                assert (reader.email in page) is mine, (who, other, slug)
                assert reader.name not in page, (who, other, slug)
            if slug == paid:
                assert (SECRET in page) is (who in full_text), who
            for owner, last4 in cards.items():  # the notice of a card expiring, everywhere
                assert (f"ending {last4}" in page) is (owner == who), (who, slug)
            if who == "anonymous":
                assert "Sign out" not in page and "Sign in" in page


def test_the_cached_text_cannot_reach_the_reader(app, app_ctx, caplog):
    """A line printing the reader's email in the cached shell fails, not leaks (it
    put reader A's email into reader B's page when the shell was rendered per request)."""
    slug = ArticleFactory(access_level="free").slug
    client = app.test_client()
    sign_in_client(client, ReaderFactory(email="ann@example.com"))
    client.get(f"/articles/{slug}")  # the shell environment exists
    environment = app.extensions[SHELL_ENVIRONMENT]
    loader = environment.loader
    source = loader.get_source(environment, "articles/article.html")[0]
    leaky = source.replace('<article class="article">', "<article>{{ current_user.email }}")
    environment.loader = ChoiceLoader([DictLoader({"articles/article.html": leaky}), loader])
    environment.cache.clear()
    edited = ArticleFactory(access_level="free").slug  # not cached yet
    assert client.get(f"/articles/{edited}").status_code == 500
    anonymous = app.test_client().get(f"/articles/{edited}")
    assert anonymous.status_code == 500 and "ann@example.com" not in anonymous.text
    assert len(caplog.records) >= 2
    assert all(isinstance(r.exc_info[1], UndefinedError) for r in caplog.records if r.exc_info)


def test_flashed_messages_show_once_on_a_cached_page(web, app_ctx, mailbox):
    slug = ArticleFactory(access_level="free").slug
    web.get(f"/articles/{slug}")  # the shell is cached before the message exists
    form = web.get(f"/signup?next=/articles/{slug}").forms["sign-up-form"]
    form["email"] = "new@example.com"
    form["password"] = "a long enough password"
    form.submit()
    link = path_of(mailbox.link_to("new@example.com", "/signup/confirm/"))
    landed = web.get(link).forms["confirm-sign-up-form"].submit().follow()
    assert landed.request.path == f"/articles/{slug}"
    assert "Welcome!" in text(landed) and "new@example.com" in text(landed)
    assert "Welcome!" not in text(web.get(f"/articles/{slug}"))
