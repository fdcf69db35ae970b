"""``paywall worker``: run the jobs and the daily schedule until stopped."""

from __future__ import annotations

import logging
import signal
import threading
from types import FrameType

import click
from flask import current_app

from paywall.jobs import bp
from paywall.jobs.queue import job_queue
from paywall.jobs.schedule import Scheduler


@bp.cli.command("worker")
@click.option("--threads", default=4, show_default=True, help="Jobs run at the same time.")
@click.option("--no-schedule", is_flag=True, help="Run jobs only; enqueue no daily jobs.")
def worker_command(threads: int, no_schedule: bool) -> None:
    """Run queued jobs (emails, webhook events, daily jobs) until SIGTERM or Ctrl-C."""
    logging.basicConfig(format="%(asctime)s %(levelname)-5.5s [%(name)s] %(message)s")
    for name in (current_app.import_name, "dramatiq"):  # not every library's requests
        logging.getLogger(name).setLevel(logging.INFO)
    queue = job_queue()
    if queue.in_process:
        raise click.UsageError(
            "paywall worker needs REDIS_URL: without it jobs run inside the process that "
            "queued them (paywall demo, or a web process with PAYWALL_SINGLE_PROCESS)."
        )
    stopping = threading.Event()

    def stop(signum: int, frame: FrameType | None) -> None:
        stopping.set()

    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)
    queue.start_worker(threads)
    scheduler = None if no_schedule else Scheduler(queue)
    if scheduler is not None:
        scheduler.start()
    namespace = current_app.config["JOB_QUEUE_NAMESPACE"]
    click.echo(f"Worker running {threads} threads on the Redis queue {namespace!r}.")
    stopping.wait()
    click.echo("Stopping: letting running jobs finish.")
    if scheduler is not None:
        scheduler.stop()
    queue.stop_worker()
