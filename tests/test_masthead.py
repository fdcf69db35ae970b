"""The masthead names its reader and carries the sign-out form; each worker keeps it by
exactly the values it shows, so a kept masthead is only ever the one that request's
reader would get."""

from __future__ import annotations

import re

from jinja2 import ChoiceLoader, DictLoader

from paywall.templating import ENVIRONMENT
from tests.conftest import browser_for
from tests.factories import ArticleFactory, EditorFactory, ReaderFactory
from tests.helpers import sign_in


def sign_out_token(page) -> str:  # type: ignore[no-untyped-def]
    return page.forms["sign-out-form"]["csrf_token"].value


def test_a_kept_sign_out_form_still_signs_out(app, app_ctx):
    ReaderFactory(email="ann@example.com")
    slug = ArticleFactory(access_level="free").slug
    browser = browser_for(app)
    sign_in(browser, "ann@example.com")
    first = browser.get(f"/articles/{slug}")
    second = browser.get("/")  # served from the kept masthead
    assert sign_out_token(first) == sign_out_token(second)

    second.forms["sign-out-form"].submit()
    after = browser.get(f"/articles/{slug}")
    assert "ann@example.com" not in after.text and "Sign in" in after.text


def test_each_browser_gets_a_sign_out_token_of_its_own(app, app_ctx):
    """The same reader on two browsers: each form is signed for its own browser's secret,
    and one browser's token cannot sign the other out."""
    ReaderFactory(email="ann@example.com")
    slug = ArticleFactory(access_level="free").slug
    laptop, phone = browser_for(app), browser_for(app)
    for browser in (laptop, phone):
        sign_in(browser, "ann@example.com")
    on_laptop, on_phone = (b.get(f"/articles/{slug}") for b in (laptop, phone))
    assert sign_out_token(on_laptop) != sign_out_token(on_phone)

    form = on_phone.forms["sign-out-form"]
    form["csrf_token"] = sign_out_token(on_laptop)
    form.submit(status=400)
    assert "ann@example.com" in phone.get(f"/articles/{slug}").text


def test_staff_and_readers_each_get_their_own_links(app, app_ctx):
    ReaderFactory(email="ann@example.com")
    EditorFactory(email="eve@example.com")
    slug = ArticleFactory(access_level="free").slug
    ann, eve, anonymous = browser_for(app), browser_for(app), browser_for(app)
    sign_in(ann, "ann@example.com")
    sign_in(eve, "eve@example.com")
    for _ in range(2):  # the second round is served from the kept mastheads
        ann_page, eve_page = ann.get(f"/articles/{slug}").text, eve.get(f"/articles/{slug}").text
        anonymous_page = anonymous.get(f"/articles/{slug}").text
        assert "ann@example.com" in ann_page and "eve@example.com" not in ann_page
        assert "eve@example.com" in eve_page and "ann@example.com" not in eve_page
        assert "New article" in eve_page and "New article" not in ann_page
        assert "Sign out" not in anonymous_page
        assert re.search(rf'href="/signin\?next=/articles/{slug}"', anonymous_page)
        home = anonymous.get("/").text
        assert 'href="/signin"' in home and "?next=" not in home


def test_the_masthead_cannot_read_the_request(app, app_ctx, caplog):
    """A masthead line reading the signed-in reader directly, rather than from the values
    it is kept by, fails instead of being kept and shown to others."""
    ReaderFactory(email="ann@example.com")
    browser = browser_for(app)
    sign_in(browser, "ann@example.com")
    environment = app.extensions[ENVIRONMENT]
    loader = environment.loader
    source = loader.get_source(environment, "_masthead.html")[0]
    leaky = "{{ current_user.email }}" + source
    environment.loader = ChoiceLoader([DictLoader({"_masthead.html": leaky}), loader])
    environment.cache.clear()
    app.extensions["paywall.caches"].clear()
    assert browser.get("/", expect_errors=True).status_code == 500
