"""Run the app's queued jobs to the end, in the test's process, with Dramatiq's own
in-memory broker and worker: a test sees an email or an applied webhook event as soon as
the request that queued it has answered, as it would once a real worker caught up.

The Stripe emulator delivers webhooks asynchronously, one endpoint at a time, so holding
a webhook's answer until its apply (which reads the emulator) ran cannot deadlock.
"""

from __future__ import annotations

import time
from typing import Any

from dramatiq.brokers.stub import StubBroker
from flask import Flask

from paywall.jobs import job_queue
from paywall.jobs.catalog import QUEUES


def drain_jobs(app: Flask, timeout: float = 30.0) -> None:
    """Wait until every job ``app`` queued, and every job those queued, has run."""
    queue = job_queue(app)
    broker = queue.broker
    if not isinstance(broker, StubBroker):
        return  # a Redis queue is run by a real worker process (tests/jobs/)
    queue.start_worker(threads=2)
    deadline = time.monotonic() + timeout
    while any(q.unfinished_tasks for q in broker.queues.values()):
        for name in QUEUES:
            remaining = int(max(deadline - time.monotonic(), 0.001) * 1000)
            broker.join(name, timeout=remaining, fail_fast=False)


class DrainJobsAfterEachRequest:
    """WSGI middleware: once the app has made its response, and before the server sends
    it, run the jobs the request queued; a client (the test client, WebTest, a live
    server's) that has the answer sees what the jobs did."""

    def __init__(self, app: Flask) -> None:
        self.app = app
        self.wsgi_app = app.wsgi_app

    def __call__(self, environ: Any, start_response: Any) -> Any:
        body = self.wsgi_app(environ, start_response)
        drain_jobs(self.app)
        return body


def drain_after_each_request(app: Flask) -> Flask:
    """Install :class:`DrainJobsAfterEachRequest` on ``app``."""
    app.wsgi_app = DrainJobsAfterEachRequest(app)  # type: ignore[method-assign]
    return app
