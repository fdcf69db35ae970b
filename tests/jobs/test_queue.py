"""The job queue: emails leave the request, daily jobs run once however many workers run,
and ``paywall worker`` says what it needs."""

from __future__ import annotations

from datetime import UTC, datetime

import redis

from paywall.jobs import job_queue
from paywall.jobs.schedule import Scheduler
from tests.billing.emulated import wait_for
from tests.factories import ReaderFactory


def test_a_sign_in_link_is_queued_by_the_request_and_sent_by_the_worker(
    make_app, mailbox, redis_queue
):
    redis_url, namespace = redis_queue
    app = make_app(REDIS_URL=redis_url, JOB_QUEUE_NAMESPACE=namespace)
    with app.app_context():
        ReaderFactory(email="queued@example.com")
    client = app.test_client()
    page = client.get("/signin/link")
    token = page.get_data(as_text=True).split('name="csrf_token" type="hidden" value="')[1]
    answer = client.post(
        "/signin/link", data={"email": "queued@example.com", "csrf_token": token.split('"')[0]}
    )
    assert answer.status_code in (200, 302)
    assert mailbox.to("queued@example.com") == []  # the request only queued it

    job_queue(app).start_worker(threads=1)  # a worker comes up
    message = wait_for(lambda: mailbox.to("queued@example.com"), timeout=10)[0]
    assert "/signin/link/" in mailbox.text_of(message)


def test_two_workers_enqueue_a_daily_job_once_per_day(make_app, redis_queue):
    redis_url, namespace = redis_queue
    settings = {"REDIS_URL": redis_url, "JOB_QUEUE_NAMESPACE": namespace}
    hosts = [Scheduler(job_queue(make_app(**settings))) for _ in range(2)]
    early = datetime(2026, 3, 4, 2, 0, tzinfo=UTC)
    night = datetime(2026, 3, 4, 3, 0, 5, tzinfo=UTC)
    later = datetime(2026, 3, 4, 10, 0, tzinfo=UTC)
    next_day = datetime(2026, 3, 5, 3, 1, tzinfo=UTC)

    assert [host.tick(early) for host in hosts] == [[], []]
    assert sorted(job for host in hosts for job in host.tick(night)) == ["reconcile_all"]
    assert sorted(job for host in hosts for job in host.tick(later)) == ["send_card_reminders"]
    assert [host.tick(later) for host in hosts] == [[], []]
    assert sorted(job for host in hosts for job in host.tick(next_day)) == ["reconcile_all"]
    waiting = redis.Redis.from_url(redis_url).llen(f"{namespace}:periodic")
    assert waiting == 3  # queued in Redis for whichever worker comes


def test_a_daily_job_missed_while_no_worker_ran_runs_when_one_starts(app):
    scheduler = Scheduler(job_queue(app))
    afternoon = datetime(2026, 3, 4, 15, 0, tzinfo=UTC)
    assert sorted(scheduler.tick(afternoon)) == ["reconcile_all", "send_card_reminders"]
    assert scheduler.tick(afternoon) == []


def test_the_worker_command_needs_redis(runner):
    result = runner.invoke(args=["worker"])
    assert result.exit_code != 0
    assert "REDIS_URL" in result.output
