"""Periodic jobs: each runs once per UTC day, at or after its time of day, or once in
every slot of a few minutes.

Every worker runs a :class:`Scheduler`; the first to claim a job's day (or slot) enqueues it, so
two worker hosts never run it twice: with Redis the claim is ``SET NX`` on a key per job
and day, in process a set. A worker that was down at the time enqueues the day's job
when it starts (a day is never skipped because no worker ran at 03:00).
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, time, timedelta

import redis

from billing import utcnow
from paywall.jobs.queue import JobNotQueued, JobQueue

log = logging.getLogger(__name__)
CLAIM_TTL_SECONDS = 3 * 24 * 3600  # a day's claim outlives the day
GATE_VIEWS_FLUSH_EVERY = timedelta(minutes=5)


@dataclass(frozen=True, slots=True)
class Periodic:
    """A job enqueued once a day at ``at`` (UTC), or once every ``every`` when given."""

    job: str
    at: time = time(0, 0)
    every: timedelta | None = None

    def claim_key(self, now: datetime) -> str | None:
        """The day or slot ``now`` falls in, when the job is due then; else None."""
        if self.every is not None:
            return f"{self.job}:{int(now.timestamp() // self.every.total_seconds())}"
        return f"{self.job}:{now.date().isoformat()}" if now.time() >= self.at else None


def parse_time_of_day(text: str) -> time:
    """``HH:MM`` (UTC) as a time; ValueError otherwise."""
    hours, _, minutes = text.partition(":")
    return time(int(hours), int(minutes))


def periodic_jobs(config: dict[str, object]) -> tuple[Periodic, ...]:
    """The periodic jobs and their times, from the settings."""
    return (
        Periodic("flush_gate_views", every=GATE_VIEWS_FLUSH_EVERY),
        Periodic("send_card_reminders", parse_time_of_day(str(config["CARD_REMINDERS_AT"]))),
        Periodic("reconcile_all", parse_time_of_day(str(config["RECONCILE_AT"]))),
    )


Claim = Callable[[str], bool]


def due_jobs(schedule: tuple[Periodic, ...], now: datetime, claim: Claim) -> list[str]:
    """The jobs whose time has come and whose day (or slot) this caller claimed."""
    return [
        periodic.job
        for periodic in schedule
        if (key := periodic.claim_key(now)) is not None and claim(key)
    ]


class RedisDayClaims:
    """Claims shared by every worker host: the first ``SET NX`` of a key wins."""

    def __init__(self, url: str, namespace: str) -> None:
        self.client = redis.Redis.from_url(url)
        self.prefix = f"{namespace}:schedule:"

    def __call__(self, key: str) -> bool:
        return bool(self.client.set(self.prefix + key, "1", nx=True, ex=CLAIM_TTL_SECONDS))


class LocalDayClaims:
    """Claims of one process (no Redis: there is only this process)."""

    def __init__(self) -> None:
        self.claimed: set[str] = set()
        self.lock = threading.Lock()

    def __call__(self, key: str) -> bool:
        with self.lock:
            if key in self.claimed:
                return False
            self.claimed.add(key)
            return True


def claims_for(queue: JobQueue) -> Claim:
    config = queue.app.config
    if config.get("REDIS_URL"):
        return RedisDayClaims(config["REDIS_URL"], config["JOB_QUEUE_NAMESPACE"])
    return LocalDayClaims()


class Scheduler(threading.Thread):
    """Every ``interval`` seconds, enqueue the periodic jobs that are due."""

    def __init__(self, queue: JobQueue, interval: float = 30.0) -> None:
        super().__init__(name="paywall-scheduler", daemon=True)
        self.queue = queue
        self.schedule = periodic_jobs(queue.app.config)
        self.claim = claims_for(queue)
        self.interval = interval
        self.stopping = threading.Event()

    def tick(self, now: datetime) -> list[str]:
        """Enqueue what is due at ``now``; the jobs enqueued."""
        enqueued = []
        for job in due_jobs(self.schedule, now, self.claim):
            try:
                self.queue.enqueue(job)
            except JobNotQueued:
                log.exception("could not enqueue the periodic job %s", job)
                continue
            log.info("enqueued the periodic job %s", job)
            enqueued.append(job)
        return enqueued

    def run(self) -> None:
        while not self.stopping.is_set():
            try:
                self.tick(utcnow())
            except redis.RedisError:
                log.exception("the scheduler could not reach Redis; trying again")
            self.stopping.wait(self.interval)

    def stop(self) -> None:
        self.stopping.set()
