"""Publisher sites, their API keys, their articles, reader tokens and signing keys."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, Index, String, Text, UniqueConstraint, text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from billing import Base, utcnow


class Site(Base):
    """A publisher's web site that embeds the gate (one deployment may serve several)."""

    __tablename__ = "embed_sites"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(120))
    # The publishable key: public, written into the site's script tag.
    public_key: Mapped[str] = mapped_column(String(64), unique=True)
    # Origins allowed to call the reader API and receive tokens, one per line.
    allowed_origins: Mapped[str] = mapped_column(Text, default="")
    # Plan codes the gate's "Subscribe" offers first, comma-separated (empty: all plans).
    plan_codes: Mapped[str] = mapped_column(String(300), default="")
    # The site's own look in the sign-in popup: an https logo and a #rrggbb accent colour.
    logo_url: Mapped[str] = mapped_column(String(500), default="", server_default="")
    accent_color: Mapped[str] = mapped_column(String(7), default="", server_default="")
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    # A disabled site answers nothing: its keys and reader tokens stop working at once.
    disabled_at: Mapped[datetime | None]

    keys: Mapped[list[SiteKey]] = relationship(
        back_populates="site", cascade="all, delete-orphan", order_by="SiteKey.id"
    )

    @property
    def origins(self) -> tuple[str, ...]:
        """The allowed origins, in the order they were given."""
        return tuple(o for o in (line.strip() for line in self.allowed_origins.split()) if o)

    @property
    def plans(self) -> tuple[str, ...]:
        """The default plan codes."""
        return tuple(p for p in (c.strip() for c in self.plan_codes.split(",")) if p)

    @property
    def is_active(self) -> bool:
        return self.disabled_at is None

    def __repr__(self) -> str:
        return f"<Site {self.id} {self.name}>"


class SiteKey(Base):
    """A secret API key of a site, stored as a SHA-256 digest (the key is shown once)."""

    __tablename__ = "embed_site_keys"

    id: Mapped[int] = mapped_column(primary_key=True)
    site_id: Mapped[int] = mapped_column(ForeignKey("embed_sites.id", ondelete="CASCADE"))
    # The first characters, so editors can tell keys apart without the key itself.
    prefix: Mapped[str] = mapped_column(String(16))
    digest: Mapped[str] = mapped_column(String(64), unique=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    revoked_at: Mapped[datetime | None]

    site: Mapped[Site] = relationship(back_populates="keys")

    @property
    def is_active(self) -> bool:
        return self.revoked_at is None


class SiteArticle(Base):
    """An article a site's CMS put through the content API, by the site's own id for it."""

    __tablename__ = "embed_articles"
    __table_args__ = (
        UniqueConstraint("site_id", "external_id"),
        Index("ix_embed_articles_site_id_id", "site_id", "id"),  # a site's list, newest first
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    site_id: Mapped[int] = mapped_column(ForeignKey("embed_sites.id", ondelete="CASCADE"))
    external_id: Mapped[str] = mapped_column(String(200))
    article_id: Mapped[int] = mapped_column(
        ForeignKey("articles.id", ondelete="CASCADE"), unique=True
    )
    canonical_url: Mapped[str] = mapped_column(String(2000), default="")
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)


class ReaderToken(Base):
    """A short-lived bearer token a reader's browser holds on one publisher site.

    Stored as a SHA-256 digest; bound to one site and to the reader's security stamp
    (a password change or sign-out-everywhere ends it); its expiry slides on use up to
    an absolute limit.
    """

    __tablename__ = "embed_reader_tokens"
    __table_args__ = (Index("ix_embed_reader_tokens_reader_id", "reader_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    digest: Mapped[str] = mapped_column(String(64), unique=True)
    site_id: Mapped[int] = mapped_column(ForeignKey("embed_sites.id", ondelete="CASCADE"))
    reader_id: Mapped[int] = mapped_column(ForeignKey("readers.id", ondelete="CASCADE"))
    security_stamp: Mapped[int]
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    expires_at: Mapped[datetime]
    revoked_at: Mapped[datetime | None]


class SigningKey(Base):
    """An Ed25519 key pair for entitlement tokens; the private half is stored encrypted."""

    __tablename__ = "embed_signing_keys"
    __table_args__ = (
        # At most one active key: two instances signing for the first time make one.
        Index(
            "uq_embed_signing_keys_one_active",
            text("(retired_at IS NULL)"),
            unique=True,
            sqlite_where=text("retired_at IS NULL"),
            postgresql_where=text("retired_at IS NULL"),
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    kid: Mapped[str] = mapped_column(String(64), unique=True)
    public_jwk: Mapped[str] = mapped_column(Text)
    private_key_encrypted: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    # Set when a newer key takes over signing; still published until tokens it signed expire.
    retired_at: Mapped[datetime | None]
