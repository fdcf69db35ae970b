"""``paywall create-site``, ``paywall rotate-key`` and ``paywall rotate-signing-key``."""

from __future__ import annotations

import click

from paywall.embed import bp, sites
from paywall.embed.signing import create_signing_key


def _echo_keys(made: sites.NewKeys) -> None:
    click.echo(f"Site:        {made.site.name} (#{made.site.id})")
    click.echo(f"Site key:    {made.site.public_key}   (public: goes in the script tag)")
    click.echo(f"Secret key:  {made.secret_key}   (shown once: keep it on your servers)")


@bp.cli.command("create-site")
@click.argument("name")
@click.option(
    "--origin", "origins", multiple=True, required=True, help="An origin the site is served from."
)
@click.option(
    "--plans", default="", help="Plan codes the Subscribe button offers, comma-separated."
)
@click.option("--logo", default="", help="An https address of the site's logo (sign-in window).")
@click.option("--accent", default="", help="The site's accent colour, #rrggbb (sign-in window).")
def create_site_command(
    name: str, origins: tuple[str, ...], plans: str, logo: str, accent: str
) -> None:
    """Register a site NAME that embeds the gate; prints its keys once."""
    try:
        made = sites.create_site(name, origins, plans, logo_url=logo, accent_color=accent)
    except sites.SiteError as error:
        raise click.UsageError(error.message) from error
    _echo_keys(made)
    click.echo("Script tag (put it on every page that shows articles):")
    click.echo(f"  {sites.script_tag(made.site.public_key)}")


@bp.cli.command("rotate-key")
@click.argument("site")
@click.option(
    "--site-key", "publishable", is_flag=True, help="Replace the publishable site key instead."
)
def rotate_key_command(site: str, publishable: bool) -> None:
    """Make a new secret key for SITE (its number or site key); older keys stop at once."""
    found = sites.find_site(site)
    if found is None:
        raise click.UsageError(f"No site {site!r}.")
    if publishable:
        sites.rotate_site_key(found)
        click.echo(f"Site key:    {found.public_key}   (update the site's script tags)")
        return
    _echo_keys(sites.rotate_secret_key(found))


@bp.cli.command("rotate-signing-key")
def rotate_signing_key_command() -> None:
    """Sign entitlement tokens with a new key; the old one stays published for a day."""
    key = create_signing_key()
    click.echo(f"Now signing with key {key.kid}; the JWKS publishes it and the previous key.")
