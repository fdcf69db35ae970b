"""``paywall demo`` seeds a usable site, and running it again changes nothing."""

from __future__ import annotations

import os
import re
import subprocess
import sys
import time
import urllib.parse
import urllib.request
from http.cookiejar import CookieJar
from pathlib import Path

from sqlalchemy import func, select

from devstripe.emulator import WEBHOOK_DELAY_SECONDS
from paywall.accounts.models import Reader
from paywall.accounts.passwords import verify_password
from paywall.articles.models import Article
from paywall.demo.seed import ARTICLES_DIR, DEMO_PASSWORD
from paywall.extensions import db


def count(model) -> int:
    return db.session.scalar(select(func.count()).select_from(model))


def test_demo_seeds_articles_and_accounts_and_is_safe_to_rerun(make_app, mailbox):
    from devstripe.emulator import free_port

    app = make_app(STRIPE_EMULATOR_PORT=free_port())
    runner = app.test_cli_runner()
    first = runner.invoke(args=["demo", "--no-serve"])
    assert first.exit_code == 0, first.output
    assert "http://127.0.0.1:5000/" in first.output
    assert "Publisher demo: http://localhost:5001/" in first.output
    assert "reader@example.com" in first.output and "editor@example.com" in first.output

    with app.app_context():
        articles, readers = count(Article), count(Reader)
        assert articles == len(list(ARTICLES_DIR.glob("*.md"))) >= 6
        levels = set(db.session.scalars(select(Article.access_level)))
        assert levels == {"free", "registered", "paid", "tiers"}
        editor = db.session.scalar(select(Reader).where(Reader.email == "editor@example.com"))
        assert editor is not None and editor.is_staff
        assert verify_password(editor.password_hash, DEMO_PASSWORD)

    second = runner.invoke(args=["demo", "--no-serve"])
    assert second.exit_code == 0, second.output
    with app.app_context():
        assert (count(Article), count(Reader)) == (articles, readers)


def test_demo_serves_the_front_page_and_every_article(app, runner, client):
    assert runner.invoke(args=["demo", "--no-serve"]).exit_code == 0
    home = client.get("/")
    assert home.status_code == 200
    with app.app_context():
        slugs = list(db.session.scalars(select(Article.slug)))
    for slug in slugs:
        assert slug.encode() in home.data
        assert client.get(f"/articles/{slug}").status_code == 200


def test_demo_refuses_to_run_in_production(make_app, monkeypatch):
    monkeypatch.setenv("SECRET_KEY", "p" * 64)
    monkeypatch.setenv("DATABASE_URL", "postgresql://unused/paywall")
    monkeypatch.setenv("PAYWALL_BASE_URL", "https://news.example.com")
    monkeypatch.setenv("PAYWALL_SINGLE_PROCESS", "true")
    for name in ("STRIPE_SECRET_KEY", "STRIPE_PUBLISHABLE_KEY", "STRIPE_WEBHOOK_SECRET"):
        monkeypatch.setenv(name, "x_live_unused")
    app = make_app(ENV_NAME="production")
    result = app.test_cli_runner().invoke(args=["demo", "--no-serve"])
    assert result.exit_code != 0
    assert "refuses to run" in result.output


def read_as(base: str, email: str, path: str) -> str:
    """Sign in with the demo password through the real form, then fetch ``path``."""
    browser = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(CookieJar()))
    with browser.open(f"{base}/signin", timeout=5) as response:
        form = response.read().decode()
    csrf = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', form)
    assert csrf, form
    fields = {"csrf_token": csrf.group(1), "email": email, "password": DEMO_PASSWORD}
    with browser.open(f"{base}/signin", urllib.parse.urlencode(fields).encode(), timeout=5):
        pass
    with browser.open(f"{base}{path}", timeout=5) as response:
        return response.read().decode()


def test_paywall_demo_command_serves_the_site(tmp_path: Path):
    """The README's main job, as a real process: migrate, seed, serve on the given port."""
    from tests.conftest import free_port

    port = free_port()
    env = {
        **os.environ,
        "PAYWALL_INSTANCE_PATH": str(tmp_path),
        "PAYWALL_ENV": "development",
        "PAYWALL_STRIPE_EMULATOR_PORT": str(free_port()),
    }
    env.pop("DATABASE_URL", None)
    paywall = Path(sys.executable).with_name("paywall")
    command = [str(paywall)] if paywall.exists() else [sys.executable, "-m", "paywall"]
    process = subprocess.Popen(
        [*command, "demo", "--port", str(port), "--publisher-port", str(free_port())],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    try:
        home = None
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline and home is None:
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{port}/", timeout=2) as response:
                    home = response.read().decode()
            except OSError:
                assert process.poll() is None, process.stdout.read()
                time.sleep(0.3)
        assert home is not None, "paywall demo did not start serving"
        assert "The harbour ferry is back" in home
        url = f"http://127.0.0.1:{port}/articles/river-data-investigation"
        with urllib.request.urlopen(url, timeout=5) as response:
            article = response.read().decode()
        assert 'id="paywall-gate"' in article
        assert "looking for fence posts" not in article  # the last paragraph stays behind

        # The billing states hold once the site is up and Stripe's events could arrive.
        time.sleep(2 * WEBHOOK_DELAY_SECONDS + 0.5)
        for email, reason in (("lapsed@example.com", "payment_failed"),
                              ("grace@example.com", None),
                              ("subscriber@example.com", None)):  # fmt: skip
            page = read_as(f"http://127.0.0.1:{port}", email, "/articles/river-data-investigation")
            found = re.search(r'id="paywall-gate"[^>]*data-reason="([a-z_]+)"', page)
            assert (found and found.group(1)) == reason, (email, found)
    finally:
        process.terminate()
        process.wait(timeout=10)


def test_demo_seeds_a_subscriber_in_every_billing_state(make_app, mailbox):
    """``paywall demo`` starts the emulator and makes each demo subscriber through it."""
    from devstripe.emulator import free_port
    from paywall.access import Reason
    from paywall.accounts.models import Reader
    from paywall.articles.reading import decide_for
    from paywall.articles.service import find_page

    app = make_app(STRIPE_EMULATOR_PORT=free_port(), STRIPE_NETWORK_RETRIES=0)
    result = app.test_cli_runner().invoke(args=["demo", "--no-serve"])
    assert result.exit_code == 0, result.output
    expected = {
        "subscriber@example.com": Reason.SUBSCRIBER,
        "expiring@example.com": Reason.SUBSCRIBER,
        "grace@example.com": Reason.GRACE_PERIOD,
        "lapsed@example.com": Reason.PAYMENT_FAILED,
        "canceled@example.com": Reason.SUBSCRIPTION_ENDED,
        "reader@example.com": Reason.NO_SUBSCRIPTION,
    }
    with app.app_context():
        paid = next(
            page
            for slug in db.session.scalars(
                select(Article.slug).where(Article.access_level == "paid")
            )
            if (page := find_page(slug, include_unpublished=False)) is not None
        )
        for email, reason in expected.items():
            reader = db.session.scalar(select(Reader).where(Reader.email == email))
            decision = decide_for(reader, paid)
            assert decision.reason is reason, (email, decision)
        expiring = db.session.scalar(select(Reader).where(Reader.email == "expiring@example.com"))
        notices = [n.code.value for n in decide_for(expiring, paid).notices]
        assert "card_expires_soon" in notices
    assert "subscriber@example.com" in result.output and "4242 4242 4242 4242" in result.output
    assert "WELCOME30" in result.output
