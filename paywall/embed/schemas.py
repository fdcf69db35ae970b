"""What the embed API accepts and answers, as pydantic models: the one definition.

Requests are validated with these models (:mod:`paywall.embed.operations`) and the
OpenAPI document is generated from them (:mod:`paywall.embed.openapi`), so the two
cannot drift apart. Patterns are written to mean the same in pydantic's regex engine
(Rust's ``regex``, linear time) and in the document's ECMAScript patterns.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated, Any, Literal

from pydantic import (
    AfterValidator,
    AwareDatetime,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    ValidationInfo,
    field_validator,
)

from paywall.access import Action, Reason

EXTERNAL_ID_PATTERN = r"^[A-Za-z0-9][A-Za-z0-9._~-]{0,199}$"
TIER_PATTERN = r"^[A-Za-z0-9_-]{1,40}$"
CANONICAL_URL_PATTERN = r"^https?://[^\x00-\x20\x7f-\xa0/]+[^\x00]*$"
# Text with something besides (Python's and ECMAScript's) white space, and any text:
# never NUL, which no database keeps.
SOME_TEXT = r"^[^\x00]*[^\s\x00\x1c-\x1f\x85][^\x00]*$"
ANY_TEXT = r"^[^\x00]*$"
MAX_TIERS = 20
MAX_FRESH = 99_999_999_999
PAGE_LIMIT = 100
LARGEST_ROW_ID = 2**31 - 1  # ids are PostgreSQL integers: a larger bound cannot be compared
ERROR_CODES = (
    "invalid_request, invalid_key, invalid_token, unknown_site, unknown_article, "
    "origin_not_allowed, invalid_article, payload_too_large, signing_key_unreadable, "
    "database_unavailable, not_found, method_not_allowed"
)

ExternalId = Annotated[
    str,
    Field(
        pattern=EXTERNAL_ID_PATTERN,
        description="The site's own id for the article: 1-200 letters, digits, '.', '_', "
        "'~' or '-', starting with a letter or digit.",
    ),
]


def _text_only(value: object) -> object:
    if not isinstance(value, str):
        raise ValueError("must be an ISO 8601 date-time string")
    return value


# Publication dates from 1970 to 2999: any offset keeps them representable in UTC, and
# the document says so with a pattern, so what it allows is what the API accepts.
YEARS_PATTERN = r"^(19[7-9][0-9]|2[0-9]{3})-"


def _in_utc(moment: datetime) -> datetime:
    if not 1970 <= moment.year <= 2999:
        raise ValueError("must be a date from 1970 to 2999")
    return moment.astimezone(UTC)


# ISO 8601 text with a zone (``Z`` or an offset), kept in UTC.
UtcDateTime = Annotated[
    AwareDatetime,
    BeforeValidator(_text_only),
    AfterValidator(_in_utc),
    Field(strict=False, json_schema_extra={"pattern": YEARS_PATTERN}),
]


def _json_number_only(value: object) -> object:
    if isinstance(value, bool) or not isinstance(value, int | float | None):
        raise ValueError("must be a whole number")
    return value


# A JSON integer from 0 to 50: 3 or 3.0 (JSON Schema's "integer"), never true, 3.5 or "3".
TeaserParagraphs = Annotated[
    int, Field(strict=False, ge=0, le=50), BeforeValidator(_json_number_only)
]


def _none_as_empty(value: object) -> object:
    return "" if value is None else value


def _optional_text(limit: int, description: str) -> Any:
    return Field(
        default="", max_length=limit, pattern=ANY_TEXT, description=description + " (or null)"
    )


OptionalText = Annotated[str, BeforeValidator(_none_as_empty)]


# --- requests --------------------------------------------------------------------------


class ArticleInput(BaseModel):
    """The body of `PUT /api/v1/articles/{external_id}`; unknown fields are ignored."""

    model_config = ConfigDict(
        strict=True,
        frozen=True,
        json_schema_extra={
            "if": {"properties": {"access": {"const": "tiers"}}, "required": ["access"]},
            "then": {"properties": {"tiers": {"minItems": 1}}, "required": ["tiers"]},
        },
    )

    title: str = Field(max_length=300, pattern=SOME_TEXT)
    body_html: str = Field(
        max_length=1_000_000,
        pattern=SOME_TEXT,
        description="HTML; the teaser ends at <!-- more --> or after teaser_paragraphs "
        "paragraphs. Sanitised and split when saved.",
    )
    access: Literal["free", "registered", "paid", "tiers"] = Field(
        default="paid",
        description="Who reads it in full; 'tiers': subscribers to a plan of one of `tiers`.",
    )
    tiers: list[Annotated[str, Field(pattern=TIER_PATTERN)]] = Field(
        default=[],
        max_length=MAX_TIERS,
        validate_default=True,
        description="Plan tiers that read a tier-only article (at least one then).",
    )
    teaser_paragraphs: TeaserParagraphs | None = Field(
        default=None, description="Teaser length when the body has no marker."
    )
    canonical_url: OptionalText = Field(
        default="",
        max_length=2000,
        pattern=f"^$|{CANONICAL_URL_PATTERN}",
        description="The article's address on the site, http(s).",
    )
    author: OptionalText = _optional_text(200, "Byline")
    section: OptionalText = _optional_text(80, "The part of the paper, e.g. Politics")
    dek: OptionalText = _optional_text(500, "One-paragraph summary")
    published_at: UtcDateTime | None = Field(
        default=None, description="When it was (or will be) published; default: now."
    )

    @field_validator("tiers")
    @classmethod
    def _tier_article_names_a_tier(cls, tiers: list[str], info: ValidationInfo) -> list[str]:
        if info.data.get("access") == "tiers" and not tiers:
            raise ValueError("name at least one plan tier for a tier-only article")
        return tiers


class ArticlePath(BaseModel):
    """An article named by the site's own id."""

    external_id: ExternalId


class SitePath(BaseModel):
    """A site named by its publishable key (from its script tag)."""

    site_key: str = Field(description="The site's publishable key (from its script tag).")


class SiteArticlePath(SitePath):
    """One of a site's articles, named by its publishable key and the article's id."""

    external_id: ExternalId


class ArticleListQuery(BaseModel):
    """Which page of the site's articles."""

    limit: int = Field(default=50, ge=1, le=PAGE_LIMIT, description="Articles per page.")
    cursor: int = Field(
        default=0,
        ge=0,
        le=LARGEST_ROW_ID,
        description="`next_cursor` of the page before; none (or 0) for the newest page.",
    )


class FreshQuery(BaseModel):
    """``fresh``: what older copies of embed.js send after a billing change. Accepted and
    ignored: every billing change is seen by every worker at once."""

    fresh: float = Field(
        default=0.0,
        ge=0,
        le=MAX_FRESH,
        description="Ignored (sent by older copies of embed.js); every billing change is "
        "seen at once.",
    )


class ReaderTokenHeader(BaseModel):
    """The reader a site's server asks about."""

    reader_token: str = Field(
        default="",
        alias="X-Reader-Token",
        description="A reader token the reader's browser holds for this site; "
        "none: an anonymous reader.",
    )


# --- answers ---------------------------------------------------------------------------


class ErrorDetail(BaseModel):
    """What went wrong, for programs (`code`) and people (`message`)."""

    code: str = Field(description=f"A stable code, one of: {ERROR_CODES}.")
    message: str
    field: str | None = Field(default=None, description="The input to blame, if one is.")


class Error(BaseModel):
    """Every error of the API has this body."""

    error: ErrorDetail


class Article(BaseModel):
    """An article as its publisher sees it: the full body included."""

    id: str
    title: str
    author: str
    section: str
    dek: str
    access: Literal["free", "registered", "paid", "tiers"]
    tiers: list[str]
    canonical_url: str
    teaser_paragraphs: int | None
    teaser_html: str
    full_html: str
    published_at: datetime | None
    updated_at: datetime | None


class ArticleList(BaseModel):
    """A page of the site's articles, newest first."""

    articles: list[Article]
    next_cursor: int | None = Field(
        description="Pass as `cursor` for the next (older) page; null on the last page."
    )


class GateAction(BaseModel):
    """A button of the gate: it opens the sign-in popup, which goes on to `action`."""

    action: Action
    label: str
    url: str = Field(json_schema_extra={"format": "uri"})


class DecisionReader(BaseModel):
    """The signed-in reader a decision was made for."""

    email: str
    token_expires_at: datetime


class Decision(BaseModel):
    """May this reader read this article in full, and if not, what should they do?"""

    article: str
    access: Literal["full", "teaser"]
    reason: Reason
    title: str
    message: str
    actions: list[GateAction]
    notices: list[str]
    html: str = Field(description="The full text when access is full, else the teaser only.")
    reader: DecisionReader | None


class Entitlement(BaseModel):
    """A signed statement of what a reader may read, to verify with the JWKS."""

    token: str = Field(description="A JWT (EdDSA) to verify with the JWKS.")
    expires_at: datetime


class JWKS(BaseModel):
    """The public keys that verify entitlement tokens (a JSON Web Key Set)."""

    keys: list[dict[str, Any]]
