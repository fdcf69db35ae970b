"""Gate views per article and day, and the sign-ups and subscriptions they led to."""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import ForeignKey, Index, String
from sqlalchemy.orm import Mapped, mapped_column

from billing import Base, utcnow

SIGN_UP = "sign_up"
SUBSCRIPTION = "subscription"


class GateView(Base):
    """How many times an article's gate was shown on one UTC day (flushed in batches)."""

    __tablename__ = "gate_views"

    # The key leads with the day: the dashboard sums a range of days.
    day: Mapped[date] = mapped_column(primary_key=True)
    article_id: Mapped[int] = mapped_column(
        ForeignKey("articles.id", ondelete="CASCADE"), primary_key=True
    )
    views: Mapped[int] = mapped_column(default=0)


class ArticleConversion(Base):
    """A reader who signed up or subscribed on the way back to an article."""

    __tablename__ = "article_conversions"
    __table_args__ = (Index("ix_article_conversions_created_at", "created_at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    article_id: Mapped[int] = mapped_column(ForeignKey("articles.id", ondelete="CASCADE"))
    reader_id: Mapped[int] = mapped_column(ForeignKey("readers.id", ondelete="CASCADE"))
    kind: Mapped[str] = mapped_column(String(16))  # SIGN_UP or SUBSCRIPTION
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
