"""Billing commands: sync-catalog, reconcile, replay-events, send-card-reminders, and
``stripe check`` / ``stripe setup-webhook`` for going live."""

from __future__ import annotations

import click
from flask import current_app
from sqlalchemy import select

from billing import (
    BillingError,
    check_go_live,
    customers_to_reconcile,
    refresh_customer,
    setup_webhook,
    sync_catalog,
    unapplied_event_ids,
    utcnow,
)
from paywall.accounts.lookup import normalise_email
from paywall.accounts.models import Reader
from paywall.audit.log import record
from paywall.billing import bp
from paywall.billing.emails import send_card_reminders
from paywall.billing.stripe_endpoint import apply_stored_event
from paywall.billing.support import gateway
from paywall.extensions import db
from paywall.mailer import absolute_url


@bp.cli.command("sync-catalog")
def sync_catalog_command() -> None:
    """Create or update the Stripe Product and Plan of every plan."""
    try:
        changes = sync_catalog(db.session, gateway(), on_change=record)
    except BillingError as error:
        raise click.ClickException(f"Stripe: {error.message}") from error
    for line in changes:
        click.echo(line)
    click.echo(f"Catalogue in sync ({len(changes)} changes).")


@bp.cli.command("reconcile")
@click.option("--reader", "email", help="Only this reader (by email).")
@click.option("--all", "everyone", is_flag=True, help="Every reader with a Stripe customer.")
def reconcile_command(email: str | None, everyone: bool) -> None:
    """Re-read customers, subscriptions, cards and invoices from Stripe; print what changed."""
    if bool(email) == everyone:
        raise click.UsageError("Give --reader EMAIL or --all.")
    reader_id = None
    if email:
        reader_id = db.session.scalar(
            select(Reader.id).where(Reader.email == normalise_email(email))
        )
        if reader_id is None:
            raise click.ClickException(f"No reader with the email {email}.")
    customers = customers_to_reconcile(db.session, reader_id)
    if email and not customers:
        click.echo(f"{email} has no Stripe customer: nothing to reconcile.")
        return
    changed = failed = troubled = 0
    for customer in customers:
        try:
            result = refresh_customer(db.session, gateway(), customer)
        except BillingError as error:
            failed += 1
            click.secho(f"{customer.email}: {error.message}", fg="red", err=True)
            continue
        changed += bool(result.changes)
        troubled += bool(result.problems)
        for line in result.changes:
            click.echo(f"{customer.email}: {line}")
        for line in result.problems:
            click.secho(f"{customer.email}: CHECK {line}", fg="yellow")
    click.echo(
        f"Reconciled {len(customers)} customers: {changed} changed, {failed} failed, "
        f"{troubled} to check (more than one live subscription, or a period paid twice)."
    )
    if failed:
        raise SystemExit(1)


@bp.cli.command("replay-events")
@click.option("--event", "event_ids", multiple=True, help="Replay this event id (repeatable).")
def replay_events_command(event_ids: tuple[str, ...]) -> None:
    """Apply stored webhook events that were not applied (or the given ones again)."""
    pending = unapplied_event_ids(db.session, event_ids)
    applied = failed = 0
    for event_id in pending:
        if apply_stored_event(event_id, force=bool(event_ids)):
            applied += 1
            click.echo(f"{event_id}: applied")
        else:
            failed += 1
            click.secho(f"{event_id}: still failing (see the log)", fg="red", err=True)
    click.echo(f"{applied} applied, {failed} failed.")
    if failed:
        raise SystemExit(1)


@bp.cli.command("send-card-reminders")
def send_card_reminders_command() -> None:
    """Email subscribers whose card expires before their next renewal (once a month)."""
    sent, failed = send_card_reminders(utcnow())
    click.echo(f"{sent} reminders sent, {failed} failed.")
    if failed:
        raise SystemExit(1)


@bp.cli.group("stripe")
def stripe_group() -> None:
    """Check and set up the Stripe account before going live."""


def _webhook_url() -> str:
    return absolute_url("billing.stripe_webhook")


@stripe_group.command("check")
def stripe_check_command() -> None:
    """Say what is wrong with the Stripe account, its webhook endpoint and the catalogue."""
    findings = check_go_live(
        db.session,
        gateway(),
        secret_key=current_app.config["STRIPE_SECRET_KEY"] or "",
        webhook_url=_webhook_url(),
    )
    colours = {"ok": "green", "warning": "yellow", "error": "red"}
    for finding in findings:
        click.secho(f"{finding.level:>7}  {finding.text}", fg=colours[finding.level])
    errors = sum(finding.level == "error" for finding in findings)
    click.echo(f"{errors} problem(s) to fix." if errors else "Ready to go live.")
    if errors:
        raise SystemExit(1)


@stripe_group.command("setup-webhook")
def stripe_setup_webhook_command() -> None:
    """Create or update the webhook endpoint for PAYWALL_BASE_URL/stripe/webhook."""
    url = _webhook_url()
    try:
        done = setup_webhook(gateway(), url)
    except BillingError as error:
        raise click.ClickException(f"Stripe: {error.message}") from error
    if not done.created:
        click.echo(f"Updated webhook endpoint {done.endpoint_id} for {url}: every event we")
        click.echo("handle, enabled. Its signing secret is unchanged (STRIPE_WEBHOOK_SECRET).")
        return
    click.echo(f"Created webhook endpoint {done.endpoint_id} for {url}.")
    click.secho(f"Signing secret (shown once): {done.secret}", bold=True)
    click.echo("Set STRIPE_WEBHOOK_SECRET to it and restart the app.")
    for old in done.replaced:
        click.echo(f"Then delete the old endpoint {old} (another API version) in Stripe.")
