"""Background work on a job queue (Dramatiq): emails, webhook events, periodic jobs.

With ``REDIS_URL`` the queue lives in Redis and ``paywall worker`` processes run the
jobs; without it (the demo, a single-process deployment) the queue and a worker thread
live in this process. See ``docs/jobs.md``.
"""

from flask import Blueprint

from paywall.jobs.queue import JobNotQueued, JobQueue, enqueue, init_app, job_queue

bp = Blueprint("jobs", __name__, cli_group=None)

from paywall.jobs import commands  # noqa: E402,F401

__all__ = ["JobNotQueued", "JobQueue", "bp", "enqueue", "init_app", "job_queue"]
