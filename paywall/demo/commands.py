"""``paywall demo``: migrate, seed the demo content and accounts, then serve."""

from __future__ import annotations

import atexit
import logging
import signal
import sys
from pathlib import Path

import click
from flask import current_app
from flask_migrate import upgrade
from werkzeug.serving import run_simple

from devstripe.emulator import (
    EMULATOR_SECRET_KEY,
    Emulator,
    EmulatorClient,
    EmulatorError,
    start_emulator,
)
from paywall.demo import bp
from paywall.embed.demo_site import DemoPublisher, prepare_demo_publisher, serve_in_background


@bp.cli.command("demo")
@click.option("--host", default="127.0.0.1", show_default=True, help="Address to serve on.")
@click.option("--port", default=5000, show_default=True, help="Port to serve on.")
@click.option("--no-serve", is_flag=True, help="Migrate and seed, then exit.")
@click.option(
    "--publisher-port", default=5001, show_default=True, help="Port of the demo publisher site."
)
def demo(host: str, port: int, no_serve: bool, publisher_port: int) -> None:
    """Set up the embedded demo (SQLite, Stripe emulator, articles, accounts) and serve it."""
    if current_app.config["ENV_NAME"] == "production":
        raise click.UsageError(
            "paywall demo creates accounts with published passwords; it refuses to run "
            "with PAYWALL_ENV=production."
        )
    from paywall.demo.seed import DEMO_ACCOUNTS, DEMO_PASSWORD, seed_demo

    upgrade()
    _log_the_app()
    emulator = _start_stripe_emulator(host, port)
    if emulator is not None:
        # The emulator is our child process: stop it however the demo ends (an error while
        # seeding, Ctrl-C, or SIGTERM, which otherwise skips clean-up).
        atexit.register(emulator.stop)
        signal.signal(signal.SIGTERM, lambda signum, frame: sys.exit(0))
    report = seed_demo()
    click.echo(
        f"Demo data: {len(report.articles_created)} articles added, "
        f"{len(report.articles_updated)} refreshed, "
        f"{len(report.accounts_created)} accounts added."
    )
    for problem in report.problems:
        click.secho(f"  skipped {problem}", fg="yellow")
    accounts = [(a.email, a.what) for a in DEMO_ACCOUNTS]
    if emulator is not None:
        accounts += _seed_subscribers(emulator)
        _send_webhooks_from_now_on(emulator, host, port)
    click.echo("")
    click.secho(f"  Paywall demo:  http://{host}:{port}/", bold=True)
    click.echo(f"  Sign in with any of these (password: {DEMO_PASSWORD}):")
    for email, what in accounts:
        click.echo(f"    {email:<24} {what}")
    if emulator is not None:
        click.echo(
            "  Subscribe a new account with card 4242 4242 4242 4242 (any future date);"
            " 4000 0000 0000 0341 is declined."
        )
    click.echo(f"  Emails are written to {current_app.instance_path}/outbox and the log.")
    publisher = _demo_publisher(host, port, publisher_port)
    click.echo("")
    if not no_serve:
        _serve_publisher(publisher)
        # Flask's CLI refuses app.run() inside a command, so serve with Werkzeug directly.
        run_simple(host, port, current_app._get_current_object(), threaded=True)
    if emulator is not None:
        emulator.stop()


def _log_the_app() -> None:
    """Log the app at INFO to the console: the emails the demo writes, every traceback."""
    logging.basicConfig(format="%(levelname)-5.5s [%(name)s] %(message)s")  # unless configured
    logging.getLogger(current_app.import_name).setLevel(logging.INFO)


def _start_stripe_emulator(host: str, port: int) -> Emulator | None:
    """Start the Stripe emulator unless real Stripe keys are configured."""
    config = current_app.config
    if config["STRIPE_SECRET_KEY"] != EMULATOR_SECRET_KEY:
        click.echo("Using the Stripe account of STRIPE_SECRET_KEY; no demo subscribers are made.")
        return None
    instance = Path(current_app.instance_path)
    instance.mkdir(parents=True, exist_ok=True)
    try:
        emulator = start_emulator(
            config["STRIPE_EMULATOR_PORT"], log_path=instance / "localstripe.log", strict=True
        )
    except EmulatorError as error:
        raise click.ClickException(f"{error} (port {config['STRIPE_EMULATOR_PORT']})") from error
    # The app talks to this emulator (STRIPE_API_BASE follows the port setting by default).
    config["STRIPE_API_BASE"], config["STRIPE_JS_URL"] = emulator.api_base, emulator.stripe_js_url
    current_app.extensions.pop("stripe_gateway", None)
    click.echo(f"Stripe emulator on {emulator.api_base}")
    return emulator


def _send_webhooks_from_now_on(emulator: Emulator, host: str, port: int) -> None:
    """Point the emulator's webhooks at the demo, for events after the seeding only.

    The seeding writes each subscriber's state from Stripe's answers and then dates their
    failed renewals back (the emulator has no clock); its own events, posted once the site
    is up, would undo that (lapsed@ would read as paid up again).
    """
    try:
        emulator.let_deliveries_pass()
        emulator.register_webhook(
            "paywall-demo",
            f"http://{host}:{port}/stripe/webhook",
            current_app.config["STRIPE_WEBHOOK_SECRET"],
        )
    except EmulatorError as error:
        raise click.ClickException(str(error)) from error


def _seed_subscribers(emulator: Emulator) -> list[tuple[str, str]]:
    from paywall.demo.billing_seed import BILLING_STATES, seed_billing
    from paywall.demo.seed import ensure_reader

    seed_billing(EmulatorClient(emulator.api_base), ensure_reader)
    return [(state.email, state.what) for state in BILLING_STATES]


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
