"""Every job the queue runs: its name, its function, its queue and its priority.

Functions are named by import path and imported when an app builds its queue, so the
modules that enqueue jobs (the mailer, the webhook) never import each other.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class Job:
    """One kind of job."""

    name: str
    function: str  # "module:attribute"
    queue: str
    priority: int = 10  # lower runs first when a worker has several waiting
    time_limit_seconds: int = 10 * 60


MAIL_PRIORITY = 0  # a sign-in link waits behind nothing

JOBS = (
    Job("deliver_email", "paywall.mailer:deliver_queued", "mail", MAIL_PRIORITY),
    Job("send_billing_email", "paywall.billing.jobs:send_billing_email", "mail", MAIL_PRIORITY),
    Job("apply_event", "paywall.billing.jobs:apply_event", "events"),
    Job("sync_customer_email", "paywall.billing.jobs:sync_customer_email", "events"),
    # An edited article's cached pages are dropped before anything else runs.
    Job("purge_edge", "paywall.purging:purge_edge", "edge", MAIL_PRIORITY),
    Job("flush_gate_views", "paywall.console.gate_views:flush_gate_views", "periodic", 20),
    Job("send_card_reminders", "paywall.billing.jobs:send_card_reminders", "periodic", 20),
    Job(
        "reconcile_all",
        "paywall.billing.jobs:reconcile_all",
        "periodic",
        20,
        time_limit_seconds=6 * 3600,  # re-reads every customer from Stripe
    ),
)

QUEUES = tuple(dict.fromkeys(job.queue for job in JOBS))
