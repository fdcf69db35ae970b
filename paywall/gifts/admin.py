"""The staff's list of gifts (/admin/gifts), and sending a recipient their link again."""

from __future__ import annotations

import logging
from urllib.parse import parse_qsl

from flask import abort, flash, redirect, render_template, request, url_for
from werkzeug.wrappers import Response

from billing import (
    GIFT_ORDER,
    GIFT_STATUS_WORDS,
    format_money,
    gift_status,
    gifts_query,
    reissue_gift_link,
    utcnow,
)
from paywall.accounts.decorators import admin_required, staff_required
from paywall.accounts.lookup import normalise_email
from paywall.audit.log import record
from paywall.billing.forms import NextForm
from paywall.extensions import db
from paywall.gifts import bp
from paywall.gifts.emails import send_gift_link
from paywall.mailer import MailNotSent
from paywall.pagination import requested_page

log = logging.getLogger(__name__)


@bp.get("/admin/gifts")
@staff_required
def gifts() -> str:
    """Gifts a page at a time, newest first, searched by the buyer's or recipient's email
    and filtered by status."""
    search = request.args.get("email", "").strip()[:254]
    status = request.args.get("status") or None
    if status is not None and status not in GIFT_STATUS_WORDS:
        abort(400, "There is no such gift status.")
    now = utcnow()
    page = requested_page(
        gifts_query(email=normalise_email(search), status=status, now=now),
        GIFT_ORDER,
        noun="gifts",
        shape=(int,),
        item=lambda row: row[0],
        key=lambda gift: (gift.id,),
    )
    rows = [
        (gift, gift_status(gift, now), format_money(gift.amount, gift.currency))
        for gift in page.items
    ]
    return render_template(
        "gifts/admin_gifts.html",
        page=page,
        rows=rows,
        search=search,
        status=status,
        statuses=GIFT_STATUS_WORDS,
    )


@bp.post("/admin/gifts/<int:gift_id>/resend")
@admin_required
def resend(gift_id: int) -> Response:
    """Email the recipient a new link (the old one stops working), for a paid gift not
    redeemed yet; recorded in the audit log."""
    form = NextForm()
    back = redirect(url_for("gifts.gifts", **_list_filters(form.next.data)))
    if not form.validate_on_submit():
        flash("The form expired. Please try again.", "error")
        return back
    issued = reissue_gift_link(db.session, gift_id)
    if issued is None:
        db.session.rollback()
        flash("Only a paid gift that is not redeemed yet can be sent again.", "error")
        return back
    gift, token = issued
    record(
        "gift.resend",
        f"gift {gift.id} to {gift.recipient_email}",
        None,
        {"recipient": gift.recipient_email, "plan": gift.plan_name, "months": gift.months},
    )
    try:
        send_gift_link(gift, token)
    except MailNotSent:
        db.session.rollback()
        log.exception("could not send gift %s's link again", gift_id)
        flash(
            "The email could not be sent; the earlier link still works. Try again later.", "error"
        )
        return back
    db.session.commit()
    flash(
        f"A new link went to {gift.recipient_email}; the earlier link no longer works.", "success"
    )
    return back


def _list_filters(next_value: str | None) -> dict[str, str]:
    """The list's search and filters to go back to (only those, whatever was posted)."""
    if not next_value:
        return {}
    allowed = {"email", "status", "older", "newer"}
    return {k: v[:254] for k, v in parse_qsl(next_value) if k in allowed}
