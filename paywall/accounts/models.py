"""Reader accounts (readers, subscribers and staff are all readers with a role)."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum

from flask_login import UserMixin
from sqlalchemy import ColumnElement, ForeignKey, Index, String, and_, text
from sqlalchemy.ext.hybrid import hybrid_property
from sqlalchemy.orm import Mapped, mapped_column

from billing import Base, utcnow


class Role(StrEnum):
    READER = "reader"
    EDITOR = "editor"
    ADMIN = "admin"


class Reader(UserMixin, Base):
    """A person with an account. Email is stored normalised (see ``normalise_email``)."""

    __tablename__ = "readers"
    # The staff's lists of comped readers and of editors and admins; on PostgreSQL a
    # trigram index on email serves "email contains" (made by the migration).
    __table_args__ = (
        Index(
            "ix_readers_comped_email",
            "email",
            postgresql_where=text("is_comped"),
            sqlite_where=text("is_comped"),
        ),
        Index(
            "ix_readers_staff_id",
            "id",
            postgresql_where=text("role IN ('editor', 'admin')"),
            sqlite_where=text("role IN ('editor', 'admin')"),
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    email: Mapped[str] = mapped_column(String(254), unique=True)
    name: Mapped[str] = mapped_column(String(120), default="")
    # argon2 hash; None for accounts that only ever signed in by emailed link.
    password_hash: Mapped[str | None] = mapped_column(String(255))
    role: Mapped[str] = mapped_column(String(16), default=Role.READER)
    email_verified_at: Mapped[datetime | None]
    # Complimentary access granted by an editor; ``comped_until`` None means open-ended.
    is_comped: Mapped[bool] = mapped_column(default=False)
    comped_until: Mapped[datetime | None]
    # Bumped on password change, reset and sign-out-everywhere: spends any emailed link
    # and embed reader token issued before (the browser sessions are rows of their own).
    security_stamp: Mapped[int] = mapped_column(default=0)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    last_signed_in_at: Mapped[datetime | None]
    # The reader deleted the account: the row stays, emptied of the person, for the
    # invoices accounting law keeps (see ``paywall.accounts.data_rights``).
    deleted_at: Mapped[datetime | None]

    @property
    def is_staff(self) -> bool:
        """Editors and admins: they manage articles and read everything."""
        return self.role in (Role.EDITOR, Role.ADMIN)

    @property
    def is_admin(self) -> bool:
        """Admins also change prices, plans, comps, sites, keys and roles."""
        return self.role == Role.ADMIN

    @property
    def email_verified(self) -> bool:
        return self.email_verified_at is not None

    @hybrid_property
    def awaiting_confirmation(self) -> bool:
        """Signed up, and the mailbox never proven: neither the emailed confirmation link
        nor a sign-in or reset link has been used. It cannot sign in by password, or
        signing up and then in would tell anyone whether an address already had an account.
        """
        return self.email_verified_at is None and self.last_signed_in_at is None

    @awaiting_confirmation.inplace.expression
    @classmethod
    def _awaiting_confirmation_expression(cls) -> ColumnElement[bool]:
        return and_(cls.email_verified_at.is_(None), cls.last_signed_in_at.is_(None))

    def get_id(self) -> str:
        """Never a session identity by itself: sign in through ``sessions.sign_in``."""
        raise TypeError("A Reader row is not a session: use paywall.accounts.sessions.sign_in")

    def __repr__(self) -> str:
        return f"<Reader {self.id} {self.email}>"


class LoginSession(Base):
    """One signed-in browser: what its session and remember-me cookies stand for.

    The cookies carry a random token; only its SHA-256 digest is stored. Deleting the
    row signs that browser out on every host at its next request, whatever copies of
    its cookies exist.
    """

    __tablename__ = "login_sessions"

    id: Mapped[int] = mapped_column(primary_key=True)
    reader_id: Mapped[int] = mapped_column(ForeignKey("readers.id", ondelete="CASCADE"), index=True)
    token_digest: Mapped[str] = mapped_column(String(64), unique=True)
    # "Firefox on Windows": read from the User-Agent once, at sign-in.
    device: Mapped[str] = mapped_column(String(120), default="")
    remember: Mapped[bool] = mapped_column(default=False)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    last_seen_at: Mapped[datetime] = mapped_column(default=utcnow)
    expires_at: Mapped[datetime]

    def __repr__(self) -> str:
        return f"<LoginSession {self.id} of reader {self.reader_id}>"


class SignInCode(Base):
    """The six-digit code of one request for a sign-in email, for the browser that asked.

    That browser's session keeps a random token naming the row (only its SHA-256 digest
    is stored here) and the email holds the code (only a keyed digest of it is stored),
    so a code works in that browser alone. An address without an account gets a row
    too, whose code is never sent: the code form answers the same for both.
    """

    __tablename__ = "sign_in_codes"

    id: Mapped[int] = mapped_column(primary_key=True)
    request_digest: Mapped[str] = mapped_column(String(64), unique=True)
    # Keyed digest of the address asked for: a new request for it supersedes this one.
    email_digest: Mapped[str] = mapped_column(String(64), index=True)
    reader_id: Mapped[int | None] = mapped_column(ForeignKey("readers.id", ondelete="CASCADE"))
    code_digest: Mapped[str] = mapped_column(String(64))
    # The reader's last sign-in when the code was made: any sign-in since (the emailed
    # link's included) spends the code, as it spends the link.
    issued_for: Mapped[datetime | None]
    attempts: Mapped[int] = mapped_column(default=0)
    expires_at: Mapped[datetime] = mapped_column(index=True)

    def __repr__(self) -> str:
        return f"<SignInCode {self.id} of reader {self.reader_id}>"


class SessionReader(UserMixin):
    """The signed-in reader as every request sees it: a read-only snapshot of one row.

    Loaded with its browser session in a single column query for each request (the
    reading path is measured);
    use cases that change an account load the ORM :class:`Reader` by ``id`` themselves.
    """

    __slots__ = (
        "comped_until",
        "email",
        "email_verified_at",
        "id",
        "is_comped",
        "name",
        "role",
        "security_stamp",
        "session_id",
        "session_token",
    )
    COLUMNS = (
        Reader.id,
        Reader.email,
        Reader.name,
        Reader.role,
        Reader.email_verified_at,
        Reader.is_comped,
        Reader.comped_until,
        Reader.security_stamp,
    )

    def __init__(
        self,
        id: int,
        email: str,
        name: str,
        role: str,
        email_verified_at: datetime | None,
        is_comped: bool,
        comped_until: datetime | None,
        security_stamp: int,
        session_id: int | None = None,
        session_token: str | None = None,
    ) -> None:
        self.id = id
        self.email = email
        self.name = name
        self.role = role
        self.email_verified_at = email_verified_at
        self.is_comped = is_comped
        self.comped_until = comped_until
        self.security_stamp = security_stamp
        self.session_id = session_id  # the LoginSession row of this browser
        self.session_token = session_token

    is_staff = Reader.is_staff
    is_admin = Reader.is_admin
    email_verified = Reader.email_verified

    def get_id(self) -> str:
        """Flask-Login's identity of this browser's session (its token)."""
        if self.session_token is None:
            raise TypeError("This reader was not loaded through a browser session.")
        return self.session_token
