"""``paywall demo``: migrate, seed the demo content and accounts, then serve."""

from __future__ import annotations

import atexit
import logging
import signal
import sys

import click
from flask import current_app
from flask_migrate import upgrade
from werkzeug.serving import run_simple

from devstripe.demo import StandInError, StripeStandIn
from paywall.demo import bp
from paywall.embed.demo_site import DemoPublisher, prepare_demo_publisher, serve_in_background
from paywall.jobs import job_queue
from paywall.jobs.schedule import Scheduler


@bp.cli.command("demo")
@click.option("--host", default="127.0.0.1", show_default=True, help="Address to serve on.")
@click.option("--port", default=5000, show_default=True, help="Port to serve on.")
@click.option("--no-serve", is_flag=True, help="Migrate and seed, then exit.")
@click.option(
    "--publisher-port", default=5001, show_default=True, help="Port of the demo publisher site."
)
def demo(host: str, port: int, no_serve: bool, publisher_port: int) -> None:
    """Set up the embedded demo (SQLite, a stand-in Stripe, articles, accounts); serve it."""
    if current_app.config["ENV_NAME"] == "production":
        raise click.UsageError(
            "paywall demo creates accounts with published passwords; it refuses to run "
            "with PAYWALL_ENV=production."
        )
    from paywall.demo.seed import DEMO_ACCOUNTS, DEMO_PASSWORD, seed_demo

    upgrade()
    _log_the_app()
    stand_in = _start_stand_in()
    if stand_in is not None:
        # Its processes are our children: stop them however the demo ends (an error while
        # seeding, Ctrl-C, or SIGTERM, which otherwise skips clean-up).
        atexit.register(stand_in.stop)
        signal.signal(signal.SIGTERM, lambda signum, frame: sys.exit(0))
    billing_accounts: list[tuple[str, str]] = []
    if stand_in is not None:
        seed_subscribers = stand_in.seed_subscribers
        report = seed_demo(plans=lambda: billing_accounts.extend(seed_subscribers()))
    else:
        report = seed_demo()
    click.echo(
        f"Demo data: {len(report.articles_created)} articles added, "
        f"{len(report.articles_updated)} refreshed, "
        f"{len(report.accounts_created)} accounts added."
    )
    for problem in report.problems:
        click.secho(f"  skipped {problem}", fg="yellow")
    accounts = [(a.email, a.what) for a in DEMO_ACCOUNTS] + billing_accounts
    if stand_in is not None:
        try:
            stand_in.send_webhooks_to(f"http://{host}:{port}/stripe/webhook")
        except StandInError as error:
            raise click.ClickException(str(error)) from error
    click.echo("")
    click.secho(f"  Paywall demo:  http://{host}:{port}/", bold=True)
    click.echo(f"  Sign in with any of these (password: {DEMO_PASSWORD}):")
    for email, what in accounts:
        click.echo(f"    {email:<24} {what}")
    if stand_in is not None:
        click.echo(
            "  Subscribe a new account with card 4242 4242 4242 4242 (any future date);"
            " 4000 0000 0000 0341 is declined. Promotion code WELCOME30: 30% off 3 months."
        )
    click.echo(f"  Emails are written to {current_app.instance_path}/outbox and the log.")
    publisher = _demo_publisher(host, port, publisher_port)
    click.echo("")
    if not no_serve:
        _serve_publisher(publisher)
        _run_jobs_here()
        # Flask's CLI refuses app.run() inside a command, so serve with Werkzeug directly.
        run_simple(host, port, current_app._get_current_object(), threaded=True)
    if stand_in is not None:
        stand_in.stop()


def _log_the_app() -> None:
    """Log the app at INFO to the console: the emails the demo writes, every traceback."""
    logging.basicConfig(format="%(levelname)-5.5s [%(name)s] %(message)s")  # unless configured
    logging.getLogger(current_app.import_name).setLevel(logging.INFO)


def _run_jobs_here() -> None:
    """Run the job queue's worker and the daily schedule in this process (on threads)."""
    queue = job_queue()
    queue.start_worker(threads=2)
    Scheduler(queue).start()
    click.echo("  Background jobs (emails, webhook events, daily jobs) run in this process.")


def _start_stand_in() -> StripeStandIn | None:
    """Start the development stand-in for Stripe, unless real Stripe keys are configured."""
    try:
        stand_in = StripeStandIn.start_for(current_app._get_current_object())
    except StandInError as error:
        raise click.ClickException(str(error)) from error
    if stand_in is None:
        click.echo("Using the Stripe account of STRIPE_SECRET_KEY; no demo subscribers are made.")
    else:
        click.echo(f"Stand-in Stripe on {stand_in.api_base}")
    return stand_in


def _demo_publisher(host: str, port: int, publisher_port: int) -> DemoPublisher:
    """Register the demo publisher: a news site on another origin that embeds the gate."""
    publisher = prepare_demo_publisher(f"http://{host}:{port}", publisher_port)
    click.secho(f"  Publisher demo: {publisher.url}/  (embeds the gate with embed.js)", bold=True)
    if publisher.secret_key:
        click.echo(f"    site key {publisher.site_key}, secret API key {publisher.secret_key}")
    return publisher


def _serve_publisher(publisher: DemoPublisher) -> None:
    """Serve the publisher site on a background thread (it ends with the process)."""
    if serve_in_background(publisher) is None:
        click.secho(f"  The publisher demo could not use {publisher.url}: port taken.", fg="yellow")
