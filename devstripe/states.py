"""States localstripe cannot reach, held by the adapter, with the events Stripe sends.

localstripe bills a renewal that needs 3-D Secure, or is declined, and leaves the
subscription ``active`` without a word; it has no trials, pauses, unpaid subscriptions,
disputes, nor refund events; and, once any invoice of a subscription is paid, it makes
the subscription ``active`` even when a newer invoice is still unpaid. Stripe does
otherwise, and the product has to cope with what Stripe does. This module holds those
states as overlays (:class:`devstripe.reshape.Overlays`, merged into every answer and
event naming the object) and emits the events Stripe would, through the adapter's normal
signed delivery. :func:`register` wires it into the adapter:

- **test controls** under ``/_adapter/`` (Stripe's clock and Stripe's back office):

  ``POST subscriptions/{id}/renewal`` ``{"decline"?: {"message", "decline_code"?}}``
      The period ends: invoice the next one and collect it off-session, as Stripe does.
      Paid: localstripe's own events. A card that asks for 3-D Secure: the invoice stays
      ``open`` with its PaymentIntent in ``requires_action``, the subscription is
      ``past_due``; ``invoice.payment_action_required``, ``invoice.payment_failed``,
      ``customer.subscription.updated``. Declined: ``past_due``, ``invoice.payment_failed``
      and ``customer.subscription.updated``; ``decline`` is the bank's answer on the
      PaymentIntent's ``last_payment_error``. (``subscriptions/{id}/renew`` is
      localstripe's renewal as it is.)
  ``POST subscriptions/{id}/retries-exhausted`` ``{"then", "invoice"}``
      Stripe gave up collecting the latest invoice: the account's settings say what
      follows. ``then``: ``unpaid`` (default), ``paused`` (``status_details.paused`` of
      type ``final_payment_failure``, ``customer.subscription.paused``), ``canceled`` or
      ``past_due``; ``invoice``: ``uncollectible`` (default,
      ``invoice.marked_uncollectible``) or ``open``.
  ``POST charges/{id}/dispute`` ``{"reason"?, "amount"?}``
      The cardholder disputes the charge: a Dispute (``needs_response``), held and
      answered at ``GET /v1/disputes/{id}``; ``charge.dispute.created``.
  ``POST events`` ``{"type", "object"}``
      Stripe sends an event of ``type`` about the object (an id) as it is now, e.g.
      ``customer.subscription.updated`` after a change made in the dashboard, or
      ``customer.subscription.trial_will_end`` three days before a trial ends.
  ``POST losses`` ``{"method", "path", "how"?, "times"?}``, ``GET``/``DELETE losses``
      The next request(s) whose method and path (a regular expression matching the whole
      path) match are done, Stripe acts (idempotency keys keep the answer), and then the
      answer is lost: ``how`` ``cut`` closes the connection, ``error`` answers a 500.

- **the API**, as Stripe answers it: ``POST /v1/subscriptions/{id}/pause`` (a requested
  pause: ``status_details.paused`` of type ``pause_requested``,
  ``customer.subscription.paused``; ``resume`` is a translation) and
  ``GET /v1/disputes/{id}``;

- **what follows a request**, as at Stripe: an invoice paid (``pay``, or a PaymentIntent
  confirmed or authenticated) makes its ``past_due``/``unpaid`` subscription ``active``
  only when it is the subscription's latest invoice, with ``customer.subscription.updated``
  (a paused one stays paused until resumed); a subscription made with a trial is
  ``trialing`` until the trial ends (no invoice, nothing charged); a canceled subscription
  holds no status of the adapter's; a refund sends ``charge.refunded``.
"""

from __future__ import annotations

import copy
import importlib
import importlib.util
import json
import logging
import re
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from aiohttp import web

from devstripe.events import new_id
from devstripe.translations import forward, invoice_now
from devstripe.upstream import Answer, UpstreamDown, UpstreamRefused, error_answer

if TYPE_CHECKING:
    from devstripe.adapter import Adapter, Call

log = logging.getLogger("devstripe.adapter")
Obj = dict[str, Any]
Dispatch = Callable[["Call"], Awaitable[Answer]]

INVOICE_PAYMENTS = "payments.data.payment.payment_intent"
UNSETTLED = ("past_due", "unpaid")  # statuses a paid latest invoice makes active
PAUSABLE = ("active", "trialing", "past_due", "unpaid")
AFTER_RETRIES = ("unpaid", "paused", "canceled", "past_due")
DISPUTE_REASONS = (
    "bank_cannot_process", "check_returned", "credit_not_processed", "customer_initiated",
    "debit_not_authorized", "duplicate", "fraudulent", "general", "incorrect_account_details",
    "insufficient_funds", "noncompliant", "product_not_received", "product_unacceptable",
    "subscription_canceled", "unrecognized",
)  # fmt: skip
DISPUTE_RESPONSE_DAYS = 7
# Where an object is read, by the prefix of its id.
OBJECT_PATHS = {
    "sub_": "/v1/subscriptions/",
    "in_": "/v1/invoices/",
    "cus_": "/v1/customers/",
    "pm_": "/v1/payment_methods/",
    "pi_": "/v1/payment_intents/",
    "ch_": "/v1/charges/",
    "seti_": "/v1/setup_intents/",
}
ID = r"(?P<id>[^/]+)"
# A PaymentIntent confirmed by Stripe.js (``_authenticate``: the stand-in's 3-D Secure).
CONFIRMED = r"/v1/payment_intents/([^/]+)/(?:confirm|_authenticate)"


def register(app: web.Application, adapter: Adapter) -> None:
    """Hold these states in ``adapter``: its controls, its API endpoints, what follows
    a request, and lost answers (a middleware, after the adapter has answered)."""
    states = States(adapter)
    adapter.dispatch = states.dispatching(adapter.dispatch)  # type: ignore[method-assign]
    app.middlewares.append(states.losing)
    control = "/_adapter"
    app.router.add_post(f"{control}/subscriptions/{{id}}/renewal", states.renewal)
    app.router.add_post(f"{control}/subscriptions/{{id}}/retries-exhausted", states.give_up)
    app.router.add_post(f"{control}/charges/{{id}}/dispute", states.dispute)
    app.router.add_post(f"{control}/events", states.send_event)
    app.router.add_post(f"{control}/losses", states.add_loss)
    app.router.add_get(f"{control}/losses", states.list_losses)
    app.router.add_delete(f"{control}/losses", states.forget_losses)


@dataclass
class Loss:
    """Answers to lose: requests matching ``method`` and ``path`` (a regular expression)."""

    method: str
    path: str
    how: str  # "cut" (the connection) or "error" (a 500)
    times: int

    def matches(self, method: str, path: str) -> bool:
        return self.method == method and re.fullmatch(self.path, path) is not None

    def as_json(self) -> Obj:
        return {"method": self.method, "path": self.path, "how": self.how, "times": self.times}


@dataclass
class Before:
    """What a watched request found before it ran."""

    invoice_id: str | None = None
    subscription_id: str | None = None
    status: str | None = None  # the subscription's status as shown


class States:
    """The held states, the controls and the watchers of one adapter."""

    def __init__(self, adapter: Adapter) -> None:
        self.adapter = adapter
        self.disputes: dict[str, Obj] = {}
        self.losses: list[Loss] = []
        self.own: list[tuple[str, re.Pattern[str], Callable[[Call], Awaitable[Answer]]]] = [
            ("POST", re.compile(f"^/v1/subscriptions/{ID}/pause$"), self.pause),
            ("GET", re.compile(f"^/v1/disputes/{ID}$"), self.retrieve_dispute),
        ]

    # -- reading what localstripe has, as the adapter answers it ---------------------------
    async def shown(self, path: str, expand: list[str] | None = None) -> Obj:
        """The object at ``path`` in the pinned shape, overlays merged (404: raised)."""
        answer = await forward(self.adapter, "GET", path, {"expand": expand} if expand else None)
        if not answer.ok:
            raise UpstreamRefused(answer)
        return self.adapter.shaped(answer.body)

    async def invoice(self, invoice_id: str) -> Obj:
        return await self.shown(f"/v1/invoices/{invoice_id}", [INVOICE_PAYMENTS])

    async def subscription(self, subscription_id: str) -> Obj:
        return await self.shown(f"/v1/subscriptions/{subscription_id}")

    def emit(self, event_type: str, obj: Obj, previous: Obj | None = None) -> Obj:
        return self.adapter.deliveries.emit(event_type, obj, previous)

    async def hold_status(self, subscription_id: str, status: str, **fields: Any) -> Obj:
        """Show the subscription in ``status`` (and ``fields``); the updated event is sent."""
        before = await self.subscription(subscription_id)
        self.adapter.overlays.add(subscription_id, {"status": status, **fields})
        after = await self.subscription(subscription_id)
        if before["status"] != after["status"]:
            self.emit("customer.subscription.updated", after, {"status": before["status"]})
        return after

    # -- the API: requests handled here, and what follows the others ---------------------
    def dispatching(self, original: Dispatch) -> Dispatch:
        """The adapter's dispatch, with this module's endpoints and watchers."""

        async def dispatch(call: Call) -> Answer:
            for method, pattern, handler in self.own:
                found = pattern.match(call.path)
                if method == call.method and found:
                    call.ids = found.groupdict()
                    try:
                        return await handler(call)
                    except UpstreamRefused as refused:
                        return refused.answer
                    except UpstreamDown as error:
                        log.error("localstripe did not answer: %s", error)
                        return error_answer(
                            500, "The Stripe emulator is not answering.", kind="api_error"
                        )
            try:
                before = await self.before(call)
            except UpstreamDown:
                before = None  # the request itself answers that localstripe is down
            answer = await original(call)
            if answer.ok:
                try:
                    await self.after(call, answer, before)
                except (UpstreamRefused, UpstreamDown) as error:  # the answer stands
                    log.error("could not follow %s %s: %s", call.method, call.path, error)
            return answer

        return dispatch

    async def before(self, call: Call) -> Before | None:
        """For a request that may pay an invoice: the invoice, its subscription and the
        subscription's status as shown now."""
        invoice_id = await self._invoice_paid_by(call)
        if invoice_id is None:
            return None
        try:
            invoice = await self.adapter.upstream.get(f"/v1/invoices/{invoice_id}")
            subscription_id = invoice.get("subscription")
            if not subscription_id:
                return Before(invoice_id)
            status = (await self.subscription(subscription_id))["status"]
        except UpstreamRefused:
            return None  # the request itself answers the 404
        return Before(invoice_id, subscription_id, status)

    async def _invoice_paid_by(self, call: Call) -> str | None:
        if call.method != "POST":
            return None
        paid = re.fullmatch(r"/v1/invoices/([^/]+)/pay", call.path)
        if paid:
            return paid.group(1)
        confirmed = re.fullmatch(CONFIRMED, call.path)
        if confirmed:
            try:
                intent = await self.adapter.upstream.get(f"/v1/payment_intents/{confirmed[1]}")
            except UpstreamRefused:
                return None
            return intent.get("invoice") or None
        return None

    async def after(self, call: Call, answer: Answer, before: Before | None) -> None:
        if before is not None and before.subscription_id:
            await self._settle_after_payment(before)
        elif call.method == "POST" and call.path == "/v1/subscriptions":
            self._hold_trial(call.params, answer.body)
        elif call.method == "DELETE" and re.fullmatch(r"/v1/subscriptions/[^/]+", call.path):
            # Canceled: the status is localstripe's again (an overlay would outlive it).
            self.adapter.overlays.forget(answer.body["id"], "status", "status_details")
        elif call.method == "POST" and call.path == "/v1/refunds":
            charge = await self.shown(f"/v1/charges/{answer.body['charge']}")
            self.emit("charge.refunded", charge)

    async def _settle_after_payment(self, before: Before) -> None:
        """An invoice may have been paid: the subscription's status as Stripe has it then."""
        assert before.invoice_id and before.subscription_id
        invoice = await self.adapter.upstream.get(f"/v1/invoices/{before.invoice_id}")
        if invoice.get("status") != "paid":
            return
        subscription_id = before.subscription_id
        raw = await self.adapter.upstream.get(f"/v1/subscriptions/{subscription_id}")
        shown = self.adapter.shaped(copy.deepcopy(raw))
        latest = raw.get("latest_invoice")
        latest_paid = latest in (None, before.invoice_id) or (
            (await self.shown(f"/v1/invoices/{latest}"))["status"] == "paid"
        )
        if latest_paid and shown["status"] in UNSETTLED and raw["status"] != shown["status"]:
            self.adapter.overlays.forget(subscription_id, "status")  # active again
        elif not latest_paid and before.status in UNSETTLED and shown["status"] != before.status:
            # localstripe made it active; Stripe waits for the latest invoice.
            self.adapter.overlays.add(subscription_id, {"status": before.status})
        after = await self.subscription(subscription_id)
        if after["status"] != before.status:
            self.emit("customer.subscription.updated", after, {"status": before.status})

    def _hold_trial(self, params: Obj, subscription: Obj) -> None:
        """A subscription made with a trial is ``trialing``, its first period the trial's
        (localstripe leaves it ``incomplete``, with no invoice)."""
        days, end = params.get("trial_period_days"), params.get("trial_end")
        if not (days or (end and end != "now")) or subscription.get("status") != "incomplete":
            return
        if subscription.get("latest_invoice"):
            return
        start = int(subscription.get("start_date") or subscription["created"])
        trial_end = int(end) if end else start + int(days) * 86400
        period = {"current_period_start": start, "current_period_end": trial_end}
        held = {"status": "trialing", "trial_start": start, "trial_end": trial_end}
        # Guarded by localstripe's status: canceled, it is canceled.
        self.adapter.overlays.add(subscription["id"], held, upstream={"status": "incomplete"})
        self.adapter.overlays.add(subscription["id"], {"billing_cycle_anchor": trial_end})
        for item in (subscription.get("items") or {}).get("data") or []:
            self.adapter.overlays.add(item["id"], period)

    async def pause(self, call: Call) -> Answer:
        """``POST /v1/subscriptions/{id}/pause``: paused on request until resumed."""
        subscription_id = call.ids["id"]
        current = await self.subscription(subscription_id)
        if current["status"] not in PAUSABLE:
            return error_answer(
                400,
                f"This subscription cannot be paused because its status is {current['status']}.",
            )
        paused = await self.hold_status(
            subscription_id, "paused", status_details=paused_details("pause_requested")
        )
        self.emit("customer.subscription.paused", paused)
        return await forward(
            self.adapter, "GET", f"/v1/subscriptions/{subscription_id}", _expand(call.params)
        )

    async def retrieve_dispute(self, call: Call) -> Answer:
        dispute = self.disputes.get(call.ids["id"])
        if dispute is None:
            return error_answer(
                404, f"No such dispute: '{call.ids['id']}'", code="resource_missing", param="id"
            )
        return Answer(200, dispute, shaped=True)

    # -- controls: Stripe's clock and Stripe's back office ----------------------------------
    async def renewal(self, request: web.Request) -> web.Response:
        """Bill the next period and collect it off-session, with Stripe's outcomes."""
        subscription_id = request.match_info["id"]
        body = await _body(request)
        found = await self.adapter.upstream.call("GET", f"/v1/subscriptions/{subscription_id}")
        if not found.ok:
            return _json(found.status, found.body)
        made = await invoice_now(
            self.adapter, found.body["customer"], subscription_id, "subscription_cycle"
        )
        if not made.ok:
            return _json(made.status, made.body)
        invoice = await self.invoice(made.body["id"])
        intent = _payment_intent(invoice)
        if invoice["status"] == "paid" or intent is None:
            return _json(200, invoice)
        if intent["status"] == "requires_action":  # nobody is there to authenticate
            await self.hold_status(subscription_id, "past_due")
            invoice = await self.invoice(invoice["id"])
            self.emit("invoice.payment_action_required", invoice)
            self.emit("invoice.payment_failed", invoice)
            return _json(200, invoice)
        decline = body.get("decline")
        if decline:
            error = {
                **(intent.get("last_payment_error") or {}),
                "type": "card_error", "code": decline.get("code") or "card_declined",
                "decline_code": decline.get("decline_code") or "generic_decline",
                "message": decline.get("message") or "Your card was declined.",
            }  # fmt: skip
            self.adapter.overlays.add(intent["id"], {"last_payment_error": error})
        await self.hold_status(subscription_id, "past_due")
        invoice = await self.invoice(invoice["id"])
        self.emit("invoice.payment_failed", invoice)
        return _json(200, invoice)

    async def give_up(self, request: web.Request) -> web.Response:
        """Retries exhausted on the latest invoice: what the account's settings say."""
        subscription_id = request.match_info["id"]
        body = await _body(request)
        then, invoice_then = body.get("then", "unpaid"), body.get("invoice", "uncollectible")
        if then not in AFTER_RETRIES or invoice_then not in ("uncollectible", "open"):
            wanted = f"then: one of {', '.join(AFTER_RETRIES)}; invoice: uncollectible or open"
            return _json(400, {"error": wanted})
        found = await self.adapter.upstream.call("GET", f"/v1/subscriptions/{subscription_id}")
        if not found.ok:
            return _json(found.status, found.body)
        latest = found.body.get("latest_invoice")
        invoice = await self.invoice(latest) if latest else None
        if invoice is None or invoice["status"] != "open":
            return _json(400, {"error": "the latest invoice is not open: nothing is being retried"})
        if invoice_then == "uncollectible":
            now = int(time.time())
            self.adapter.overlays.add(
                invoice["id"], {"status": "uncollectible"}, upstream={"status": "open"}
            )
            self.adapter.overlays.add(
                invoice["id"], {"status_transitions": {"marked_uncollectible_at": now}}
            )
            marked = await self.invoice(invoice["id"])
            self.emit("invoice.marked_uncollectible", marked)
            self.emit("invoice.updated", marked, {"status": "open"})
        if then == "unpaid":
            await self.hold_status(subscription_id, "unpaid")
        elif then == "paused":
            details = paused_details("final_payment_failure")
            paused = await self.hold_status(subscription_id, "paused", status_details=details)
            self.emit("customer.subscription.paused", paused)
        elif then == "canceled":
            details = {"cancellation_details": {"reason": "payment_failed"}}
            self.adapter.overlays.add(subscription_id, details)
            await self.adapter.upstream.call("DELETE", f"/v1/subscriptions/{subscription_id}")
            self.adapter.overlays.forget(subscription_id, "status", "status_details")
        return _json(200, await self.subscription(subscription_id))

    async def dispute(self, request: web.Request) -> web.Response:
        """The cardholder disputes a charge with their bank."""
        charge_id = request.match_info["id"]
        body = await _body(request)
        found = await self.adapter.upstream.call("GET", f"/v1/charges/{charge_id}")
        if not found.ok:
            return _json(found.status, found.body)
        charge = found.body
        reason = body.get("reason", "fraudulent")
        if charge.get("status") != "succeeded" or reason not in DISPUTE_REASONS:
            return _json(400, {"error": "only a succeeded charge is disputed, for a known reason"})
        dispute = new_dispute(charge, reason, int(body.get("amount") or charge["amount"]))
        self.disputes[dispute["id"]] = dispute
        self.adapter.overlays.add(charge_id, {"disputed": True})
        self.emit("charge.dispute.created", dispute)
        return _json(200, dispute)

    async def send_event(self, request: web.Request) -> web.Response:
        """Stripe sends an event about an object as it is now."""
        body = await _body(request)
        event_type, object_id = body.get("type"), str(body.get("object") or "")
        if object_id in self.disputes:
            obj = self.disputes[object_id]
        else:
            path = next((p for k, p in OBJECT_PATHS.items() if object_id.startswith(k)), None)
            if not event_type or path is None:
                return _json(400, {"error": "type and the id of an object are required"})
            answer = await forward(self.adapter, "GET", path + object_id)
            if not answer.ok:
                return _json(answer.status, answer.body)
            obj = self.adapter.shaped(answer.body)
        return _json(200, self.emit(str(event_type), obj))

    # -- answers lost after Stripe acted -------------------------------------------------
    async def add_loss(self, request: web.Request) -> web.Response:
        body = await _body(request)
        how = body.get("how", "cut")
        if not body.get("method") or not body.get("path") or how not in ("cut", "error"):
            return _json(400, {"error": "method and path are required; how: cut|error"})
        loss = Loss(str(body["method"]).upper(), body["path"], how, int(body.get("times", 1)))
        self.losses.append(loss)
        return _json(200, loss.as_json())

    async def list_losses(self, request: web.Request) -> web.Response:
        return _json(200, {"data": [loss.as_json() for loss in self.losses]})

    async def forget_losses(self, request: web.Request) -> web.Response:
        forgotten, self.losses = len(self.losses), []
        return _json(200, {"deleted": forgotten})

    def take_loss(self, method: str, path: str) -> Loss | None:
        for loss in self.losses:
            if loss.matches(method, path):
                loss.times -= 1
                if loss.times <= 0:
                    self.losses.remove(loss)
                return loss
        return None

    @web.middleware
    async def losing(self, request: web.Request, handler: Any) -> web.StreamResponse:
        """After the adapter has answered (Stripe acted), lose the answer when asked to."""
        response = await handler(request)
        if request.path.startswith("/_adapter/"):
            return response
        loss = self.take_loss(request.method, request.path)
        if loss is None:
            return response
        log.warning("losing the answer to %s %s (%s)", request.method, request.path, loss.how)
        if loss.how == "error":
            message = "An error occurred with our connection to Stripe (devstripe lost the answer)."
            return _json(500, {"error": {"type": "api_error", "message": message}})
        if request.transport is not None:
            request.transport.abort()  # the connection drops; nothing is answered
        return response


# -- objects the adapter makes ----------------------------------------------------------------
def paused_details(kind: str) -> Obj:
    """``status_details`` of a subscription paused for ``kind``."""
    return {
        "paused": {
            "type": "subscription",
            "transitioned_at": int(time.time()),
            "subscription": {"type": kind},
        }
    }


def new_dispute(charge: Obj, reason: str, amount: int) -> Obj:
    """A Dispute of the pinned version over ``charge``: every field it defines."""
    now = int(time.time())
    card = ((charge.get("payment_method_details") or {}).get("card")) or {}
    dispute: Obj = {
        "id": new_id("dp_"),
        "object": "dispute",
        "amount": amount,
        "balance_transactions": [],
        "charge": charge["id"],
        "created": now,
        "currency": charge.get("currency"),
        "enhanced_eligibility_types": [],
        "evidence_details": {
            "due_by": now + DISPUTE_RESPONSE_DAYS * 86400,
            "has_evidence": False,
            "past_due": False,
            "submission_count": 0,
        },
        "is_charge_refundable": False,
        "livemode": False,
        "metadata": {},
        "payment_intent": charge.get("payment_intent"),
        "payment_method_details": {
            "type": "card",
            "card": {"brand": card.get("brand") or "visa", "case_type": "chargeback"},
        },
        "reason": reason,
        "status": "needs_response",
    }
    return _complete(dispute)


def _complete(obj: Obj) -> Obj:
    """Add every field the pinned version defines and ``obj`` lacks, as null (or empty)."""
    if importlib.util.find_spec("devstripe.contract") is None:
        return obj
    contract = importlib.import_module("devstripe.contract")
    contract.missing_fields(obj, fill=contract.empty_value)
    return obj


def _payment_intent(invoice: Obj) -> Obj | None:
    payments = (invoice.get("payments") or {}).get("data") or []
    intent = payments[0]["payment"]["payment_intent"] if payments else None
    return intent if isinstance(intent, dict) else None


def _expand(params: Obj) -> Obj:
    return {"expand": params["expand"]} if "expand" in params else {}


async def _body(request: web.Request) -> Obj:
    text = await request.text()
    body = json.loads(text) if text.strip() else {}
    return body if isinstance(body, dict) else {}


def _json(status: int, body: Any) -> web.Response:
    return web.Response(
        status=status, text=json.dumps(body, indent=2) + "\n", content_type="application/json"
    )
