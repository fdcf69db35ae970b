"""The job queue: emails leave the request, daily jobs run once however many workers run,
and ``paywall worker`` says what it needs."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

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


def daily(jobs: list[str]) -> list[str]:
    """The daily jobs among ``jobs`` (the gate views' flush runs every few minutes)."""
    return sorted(job for job in jobs if job != "flush_gate_views")


def test_two_workers_enqueue_a_daily_job_once_per_day(make_app, redis_queue):
    redis_url, namespace = redis_queue
    settings = {"REDIS_URL": redis_url, "JOB_QUEUE_NAMESPACE": namespace}
    hosts = [Scheduler(job_queue(make_app(**settings))) for _ in range(2)]
    early = datetime(2026, 3, 4, 2, 0, tzinfo=UTC)
    night = datetime(2026, 3, 4, 3, 0, 5, tzinfo=UTC)
    later = datetime(2026, 3, 4, 10, 0, tzinfo=UTC)
    next_day = datetime(2026, 3, 5, 3, 1, tzinfo=UTC)

    assert [daily(host.tick(early)) for host in hosts] == [[], []]
    assert daily([job for host in hosts for job in host.tick(night)]) == ["reconcile_all"]
    assert daily([job for host in hosts for job in host.tick(later)]) == ["send_card_reminders"]
    assert [host.tick(later) for host in hosts] == [[], []]
    assert daily([job for host in hosts for job in host.tick(next_day)]) == ["reconcile_all"]
    waiting = redis.Redis.from_url(redis_url).llen(f"{namespace}:periodic")
    # queued in Redis for whichever worker comes: the daily jobs, and one flush of the
    # gate views in each of the four five-minute slots the hosts ticked in
    assert waiting == 3 + 4


def test_the_gate_views_flush_is_enqueued_once_every_five_minutes(make_app, redis_queue):
    redis_url, namespace = redis_queue
    settings = {"REDIS_URL": redis_url, "JOB_QUEUE_NAMESPACE": namespace}
    hosts = [Scheduler(job_queue(make_app(**settings))) for _ in range(2)]
    start = datetime(2026, 3, 4, 1, 0, tzinfo=UTC)

    def flushes(moment: datetime) -> int:
        return sum(host.tick(moment).count("flush_gate_views") for host in hosts)

    assert flushes(start) == 1
    assert flushes(start + timedelta(minutes=4, seconds=59)) == 0
    assert flushes(start + timedelta(minutes=5)) == 1


def test_a_daily_job_missed_while_no_worker_ran_runs_when_one_starts(app):
    scheduler = Scheduler(job_queue(app))
    afternoon = datetime(2026, 3, 4, 15, 0, tzinfo=UTC)
    assert daily(scheduler.tick(afternoon)) == ["reconcile_all", "send_card_reminders"]
    assert scheduler.tick(afternoon) == []


def test_the_worker_command_needs_redis(runner):
    result = runner.invoke(args=["worker"])
    assert result.exit_code != 0
    assert "REDIS_URL" in result.output
