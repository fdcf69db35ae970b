"""``paywall demo``: migrate, seed the demo content and accounts, then serve."""

from __future__ import annotations

import click
from flask import current_app
from flask_migrate import upgrade
from werkzeug.serving import run_simple

from paywall.demo import bp


@bp.cli.command("demo")
@click.option("--host", default="127.0.0.1", show_default=True, help="Address to serve on.")
@click.option("--port", default=5000, show_default=True, help="Port to serve on.")
@click.option("--no-serve", is_flag=True, help="Migrate and seed, then exit.")
def demo(host: str, port: int, no_serve: bool) -> None:
    """Set up the embedded demo (SQLite, demo articles and accounts) and serve it."""
    if current_app.config["ENV_NAME"] == "production":
        raise click.UsageError(
            "paywall demo creates accounts with published passwords; it refuses to run "
            "with PAYWALL_ENV=production."
        )
    from paywall.demo.seed import DEMO_ACCOUNTS, DEMO_PASSWORD, seed_demo

    upgrade()
    report = seed_demo()
    click.echo(
        f"Demo data: {len(report.articles_created)} articles added, "
        f"{len(report.articles_updated)} refreshed, "
        f"{len(report.accounts_created)} accounts added."
    )
    for problem in report.problems:
        click.secho(f"  skipped {problem}", fg="yellow")
    click.echo("")
    click.secho(f"  Paywall demo:  http://{host}:{port}/", bold=True)
    click.echo(f"  Sign in with any of these (password: {DEMO_PASSWORD}):")
    for account in DEMO_ACCOUNTS:
        click.echo(f"    {account.email:<24} {account.what}")
    click.echo(f"  Emails are written to {current_app.instance_path}/outbox and the log.")
    click.echo("")
    if no_serve:
        return
    # Flask's CLI refuses app.run() inside a command, so serve with Werkzeug directly.
    run_simple(host, port, current_app._get_current_object(), threaded=True)
