"""The app's job queue: a Dramatiq broker with one actor per job of the catalogue.

Production (``REDIS_URL``): Dramatiq's Redis broker. A worker takes a job without
removing it: the job stays in its worker's unacknowledged set until it finishes, so a
worker killed mid-job (``kill -9``, a lost host) leaves it there, and once that worker
has missed its heartbeats for ``PAYWALL_JOB_REDELIVERY_SECONDS`` another worker runs it
again (at least once: jobs are idempotent). A job that raises is retried with
exponential backoff (Dramatiq's Retries middleware). Jobs wait in Redis while no worker
runs.

Without Redis: Dramatiq's in-memory broker and a worker thread in this process, started
by the first job (the demo, tests, a single-process deployment). Jobs then live as long
as the process.

Each app builds its own broker (no module-level Dramatiq broker), so several apps in one
process (tests, the demo) never share a queue.
"""

from __future__ import annotations

import importlib
import logging
import threading
from collections.abc import Callable
from typing import Any

import dramatiq
import redis
from dramatiq.brokers.redis import RedisBroker
from dramatiq.brokers.stub import StubBroker
from dramatiq.middleware import AgeLimit, Retries, ShutdownNotifications, TimeLimit
from flask import Flask, current_app

from paywall.jobs.catalog import JOBS, Job

log = logging.getLogger(__name__)
EXTENSION = "job_queue"
# Share of broker commands (out of a million) that also look for dead workers' jobs: at
# an idle worker's polling rate, about once every few seconds.
MAINTENANCE_CHANCE = 10_000
IDLE_POLL_MS = 250  # longest an idle worker waits before looking for new jobs


class JobNotQueued(Exception):
    """The queue did not take a job (Redis unreachable); the cause is chained."""


class JobQueue:
    """A broker, its actors, and (without Redis) the worker thread of this process."""

    def __init__(self, app: Flask) -> None:
        self.app = app
        self.broker = _broker(app.config)
        self.in_process = isinstance(self.broker, StubBroker)
        self.actors = {job.name: self._declare(job) for job in JOBS}
        self._worker: dramatiq.Worker | None = None
        self._lock = threading.Lock()

    def _declare(self, job: Job) -> dramatiq.Actor[..., None]:
        module, attribute = job.function.split(":")
        function = getattr(importlib.import_module(module), attribute)
        declare = dramatiq.actor(
            actor_name=job.name,
            queue_name=job.queue,
            priority=job.priority,
            time_limit=job.time_limit_seconds * 1000,
            broker=self.broker,
        )
        return declare(_in_app_context(self.app, function))

    def enqueue(self, name: str, *args: Any) -> None:
        """Queue job ``name`` with JSON-able ``args``; raises :class:`JobNotQueued`."""
        try:
            self.actors[name].send(*args)
        except redis.RedisError as error:
            raise JobNotQueued(f"{name}: {error}") from error
        if self.in_process:
            self.start_worker(threads=2)

    def start_worker(self, threads: int) -> dramatiq.Worker:
        """Start (once) a worker in this process consuming every queue."""
        with self._lock:
            if self._worker is None:
                self._worker = dramatiq.Worker(
                    self.broker, worker_threads=threads, worker_timeout=IDLE_POLL_MS
                )
                self._worker.start()
            return self._worker

    def stop_worker(self, timeout_seconds: float = 30) -> None:
        """Let running jobs finish (up to ``timeout_seconds``), then stop; waiting jobs
        stay queued (in Redis) for the next worker."""
        with self._lock:
            worker, self._worker = self._worker, None
        if worker is not None:
            worker.stop(timeout=int(timeout_seconds * 1000))
        if isinstance(self.broker, RedisBroker):
            self.broker.close()


def _broker(config: dict[str, Any]) -> dramatiq.Broker:
    middleware = [
        AgeLimit(),
        TimeLimit(),
        ShutdownNotifications(),
        Retries(
            max_retries=config["JOB_MAX_RETRIES"],
            min_backoff=config["JOB_MIN_BACKOFF_MS"],
            max_backoff=config["JOB_MAX_BACKOFF_MS"],
        ),
    ]
    if not config.get("REDIS_URL"):
        return StubBroker(middleware=middleware)
    return RedisBroker(
        url=config["REDIS_URL"],
        namespace=config["JOB_QUEUE_NAMESPACE"],
        middleware=middleware,
        heartbeat_timeout=config["JOB_REDELIVERY_SECONDS"] * 1000,
        maintenance_chance=MAINTENANCE_CHANCE,
    )


def _in_app_context(app: Flask, function: Callable[..., Any]) -> Callable[..., None]:
    """Run ``function`` inside an app context of ``app`` (a fresh database session)."""

    def run(*args: Any) -> None:
        with app.app_context():
            function(*args)

    run.__name__ = function.__name__
    run.__doc__ = function.__doc__
    return run


def init_app(app: Flask) -> None:
    """Build the app's job queue (no connection is made until the first job)."""
    app.extensions[EXTENSION] = JobQueue(app)


def job_queue(app: Flask | None = None) -> JobQueue:
    """The job queue of ``app`` (default: the current app)."""
    return (app or current_app).extensions[EXTENSION]  # type: ignore[no-any-return]


def enqueue(name: str, *args: Any) -> None:
    """Queue job ``name`` on the current app's queue; raises :class:`JobNotQueued`."""
    job_queue().enqueue(name, *args)
