"""Generation counters: moved by writes to a scope's tables, only once they commit, and
a cache fill never kept as newer than the state it read."""

from __future__ import annotations

from urllib.parse import urlsplit

import pytest
from sqlalchemy import update

from paywall.articles.models import Article
from paywall.caching import FreshCache, cache
from paywall.extensions import db
from paywall.invalidation import (
    ARTICLES,
    BILLING,
    EXTENSION,
    SIGNING_KEYS,
    SITES,
    bump,
    generations,
)
from tests.factories import ArticleFactory
from tests.multiprocess.conftest import REDIS_URL, redis_problem


def test_a_write_moves_its_scope_only_when_it_commits(app_ctx):
    article = ArticleFactory()
    before = generations()
    article.title = "Changed"
    db.session.flush()
    assert generations() == before  # flushed, not committed: other workers keep theirs
    db.session.commit()
    after = generations()
    assert after[ARTICLES] == before[ARTICLES] + 1
    assert after[SITES] == before[SITES] and after[BILLING] == before[BILLING]


def test_a_rolled_back_write_moves_nothing(app_ctx):
    article = ArticleFactory()
    before = generations()
    article.title = "Never saved"
    db.session.flush()
    db.session.rollback()
    assert generations() == before


def test_a_core_statement_through_the_session_moves_its_scope(app_ctx):
    ArticleFactory()
    before = generations()
    db.session.execute(update(Article).values(dek="Rewritten"))
    db.session.commit()
    assert generations()[ARTICLES] == before[ARTICLES] + 1


def test_a_fill_that_read_the_old_state_is_never_kept_as_the_new(app):
    """The billing race: a page view reads the old state while a change commits."""
    state = {"billing": "old"}

    def read_while_a_change_commits() -> str:
        seen = state["billing"]
        state["billing"] = "new"  # another worker commits ...
        bump([BILLING])  # ... and moves the counter after its commit
        return seen

    with app.test_request_context():
        kept: FreshCache[int, str] = cache("test.billing", (BILLING,), 10)
        assert kept.fetch(1, read_while_a_change_commits) == "old"
    with app.test_request_context():  # the next request
        assert kept.fetch(1, lambda: state["billing"]) == "new"
    with app.test_request_context():
        assert kept.fetch(1, lambda: pytest.fail("should have been kept")) == "new"


def test_a_cache_keeps_its_value_until_its_scope_moves(app):
    calls: list[int] = []

    def make() -> int:
        calls.append(1)
        return len(calls)

    for _ in range(3):
        with app.test_request_context():
            assert cache("test.sites", (SITES,), 10).fetch("k", make) == 1
    with app.test_request_context():
        bump([ARTICLES])  # another scope: kept
        assert cache("test.sites", (SITES,), 10).fetch("k", make) == 1
        bump([SITES])
    with app.test_request_context():
        assert cache("test.sites", (SITES,), 10).fetch("k", make) == 2


def test_a_cache_turned_off_always_makes_the_value(make_app, mailbox):
    app = make_app(CACHES_OFF=frozenset({"test.off"}))
    with app.test_request_context():
        values = iter(range(5))
        off = cache("test.off", (), 10)
        assert [off.fetch("k", lambda: next(values)) for _ in range(3)] == [0, 1, 2]


def test_redis_counters_are_shared_by_instances(make_app, mailbox):
    problem = redis_problem(REDIS_URL)
    if problem:
        pytest.skip(problem)
    one, other = make_app(REDIS_URL=REDIS_URL), make_app(REDIS_URL=REDIS_URL)
    with other.app_context():
        before = generations()[SITES]
    with one.app_context():
        bump([SITES])
    with other.app_context():
        assert generations()[SITES] >= before + 1


def test_without_an_answer_from_redis_pages_are_read_fresh_not_stale(make_app, mailbox, app_ctx):
    """Redis down: every read goes to the database, so nothing stale is served."""
    app = make_app(REDIS_URL="redis://127.0.0.1:9/0")  # the discard port: refused
    article = ArticleFactory(access_level="free", title="Before")
    client = app.test_client()
    assert "Before" in client.get(f"/articles/{article.slug}").text
    article.title = "After"
    db.session.commit()  # moves nothing anyone can read
    assert "After" in client.get(f"/articles/{article.slug}").text


def test_a_counter_redis_lost_starts_anew_at_a_random_value(make_app, mailbox):
    problem = redis_problem(REDIS_URL)
    if problem:
        pytest.skip(problem)
    import redis

    app = make_app(REDIS_URL=REDIS_URL)
    with app.app_context():
        redis.Redis.from_url(REDIS_URL).delete("paywall:generation:signing_keys")
        value = generations()[SIGNING_KEYS]
        assert value != 0 and generations()[SIGNING_KEYS] == value


def test_a_worker_follows_moves_without_asking_redis_each_time(make_app, mailbox):
    """After its first read, an instance learns of moves from its subscription: a move
    made through another instance is in its next read."""
    problem = redis_problem(REDIS_URL)
    if problem:
        pytest.skip(problem)
    one, other = make_app(REDIS_URL=REDIS_URL), make_app(REDIS_URL=REDIS_URL)
    with other.app_context():
        before = generations()
    for _ in range(3):
        with one.app_context():
            bump([ARTICLES])
        with other.app_context():
            seen = generations()
        assert seen is not None and seen[ARTICLES] > before[ARTICLES]
        assert {k: v for k, v in seen.items() if k != ARTICLES} == {
            k: v for k, v in before.items() if k != ARTICLES
        }
        before = seen


def test_a_lost_subscription_never_serves_an_old_counter(make_app, mailbox):
    """Redis drops the subscription and a move happens meanwhile: the next reads give
    None (read the database) or the moved counter, never the old one."""
    problem = redis_problem(REDIS_URL)
    if problem:
        pytest.skip(problem)
    import redis

    one, other = make_app(REDIS_URL=REDIS_URL), make_app(REDIS_URL=REDIS_URL)
    with other.app_context():
        before = generations()[SITES]
        subscription = other.extensions[EXTENSION]._subscription
        host, port = subscription.connection._sock.getsockname()[:2]
    redis.Redis.from_url(REDIS_URL).client_kill_filter(addr=f"{host}:{port}")
    with one.app_context():
        bump([SITES])
    with other.app_context():
        first, second = generations(), generations()
    assert first is None or first[SITES] > before
    assert second is not None and second[SITES] > before


def test_counters_past_ten_to_the_fourteenth_are_followed_exactly(make_app, mailbox):
    """A counter restarts at a random 48-bit value, mostly past 10^14, where Lua would
    write it as "1.4e+14": the move must still reach every worker as the exact number."""
    problem = redis_problem(REDIS_URL)
    if problem:
        pytest.skip(problem)
    import redis

    # A database of its own: other tests move (and delete) the counters of the usual one.
    url = urlsplit(REDIS_URL)._replace(path="/14").geturl()
    redis.Redis.from_url(url).set("paywall:generation:signing_keys", 2**47 + 12_345)
    one, other = make_app(REDIS_URL=url), make_app(REDIS_URL=url)
    with other.app_context():
        assert generations()[SIGNING_KEYS] == 2**47 + 12_345
    with one.app_context():
        bump([SIGNING_KEYS])
    with other.app_context():
        assert generations()[SIGNING_KEYS] == 2**47 + 12_346
