"""The adapter: an HTTP server in front of localstripe that answers as Stripe does for
the pinned API version.

Every ``/v1`` request is checked against the SDK's contract (``devstripe.contract``,
when present): one Stripe would refuse is recorded, and refused too when ``--strict``.
Idempotency keys are kept as Stripe keeps them. What localstripe lacks or spells
differently is translated (:mod:`devstripe.translations`), and every answer and webhook
event is reshaped into the pinned version's shapes (:mod:`devstripe.reshape`). Events
go to the endpoints held here (:mod:`devstripe.events`), each signed with its secret.
The adapter also serves localstripe's stand-in Stripe.js as the ``endive`` release.

Test controls live under ``/_adapter/``; ``--help`` lists the options.

    python -m devstripe.adapter --port 8420 --upstream http://127.0.0.1:8421
"""

from __future__ import annotations

import argparse
import asyncio
import importlib
import importlib.util
import json
import logging
import secrets
import time
from dataclasses import dataclass
from typing import Any

import aiohttp
from aiohttp import web

from devstripe import _forms, states
from devstripe.emulator import TOOLING_HEADER
from devstripe.events import Deliveries, Endpoint, is_signed
from devstripe.held import Held
from devstripe.idempotency import IdempotencyKeys, Kept, conflict
from devstripe.renewals import renew
from devstripe.reshape import Overlays, Shaping, reshape
from devstripe.translations import route, settle_pending_updates
from devstripe.upstream import Answer, Upstream, UpstreamDown, UpstreamRefused, error_answer

# The contract derived from the SDK; until it exists, every request passes.
contract: Any = (
    importlib.import_module("devstripe.contract")
    if importlib.util.find_spec("devstripe.contract")
    else None
)

log = logging.getLogger("devstripe.adapter")
Obj = dict[str, Any]

UPSTREAM_WEBHOOK = "devstripe-adapter"
STARTUP_SECONDS = 20
# Events Stripe sends along with one localstripe sends.
ALSO_SENT = {"invoice.payment_succeeded": "invoice.paid"}

# Stripe.js, versioned by release: the endive release has none of the methods the
# dahlia release removed, so calling one throws (a TypeError), as with the real one.
ENDIVE_RELEASE = """
// devstripe: the endive release of Stripe.js has none of these (removed in dahlia).
Stripe = (function (standIn) {
  var removed = ["handleCardSetup", "handleCardPayment", "confirmPaymentIntent",
                 "confirmSetupIntent", "createSource", "retrieveSource"];
  return function (key, options) {
    var stripe = standIn(key, options);
    removed.forEach(function (name) { delete stripe[name]; });
    return stripe;
  };
})(Stripe);
"""
# localstripe's card box wants 16 bare digits and a two-digit year; Stripe's card Element
# takes what people type (spaces or dashes in the number, a two- or four-digit year) and
# moves on only once a part is complete, so the stand-in does too.
CARD_AS_TYPED = """
// devstripe: the card box takes what people type, as Stripe's card Element does.
(function (Card) {
  var mount = Card.prototype.mount;
  var order = ["number", "exp_month", "exp_year", "cvc", "postal_code"];
  function digits(value) { return String(value || "").replace(/\\D/g, ""); }
  function year(value) { var d = digits(value); return d.length <= 2 ? "20" + d : d; }
  var complete = {
    number: function (v) { return digits(v).length >= 16; },
    exp_month: function (v) { var d = digits(v); return d.length >= 2 || /^[2-9]$/.test(d); },
    exp_year: function (v) {
      var d = digits(v);
      return d.length >= 4 || (d.length === 2 && d !== "20");
    },
    cvc: function (v) { return digits(v).length >= 3; }
  };
  Card.prototype.mount = function (domElement) {
    mount.call(this, domElement);
    var element = this, inputs = this._inputs;
    if (!inputs) { return; }
    function changed(event) {
      element.value = {
        card: {
          number: digits(inputs.number.value),
          exp_month: digits(inputs.exp_month.value),
          exp_year: year(inputs.exp_year.value),
          cvc: digits(inputs.cvc.value)
        },
        postal_code: inputs.postal_code.value.trim()
      };
      var at = order.indexOf(event.target.getAttribute("placeholder"));
      var done = complete[order[at]];
      if (done && done(event.target.value) && at + 1 < order.length) {
        inputs[order[at + 1]].focus();
      }
      (element.listeners.change || []).forEach(function (handler) { handler(); });
    }
    order.forEach(function (field) {
      inputs[field].oninput = changed;
      inputs[field].setAttribute("aria-label", field.replace("_", " "));
      if (field !== "postal_code") { inputs[field].setAttribute("inputmode", "numeric"); }
    });
    inputs.number.setAttribute("size", "19");
    inputs.exp_year.setAttribute("size", "4");
  };
})(Element);
"""

# localstripe's confirmCardPayment only passes or fails 3-D Secure; Stripe's also takes a
# card (``{payment_method: {card: element}}``), confirms the intent with it and asks for
# 3-D Secure only when the bank wants it.
CARD_PAYMENT = """
// devstripe: confirmCardPayment with a card, as Stripe.js does it.
Stripe = (function (standIn) {
  return function (key, options) {
    var stripe = standIn(key, options);
    var authenticate = stripe.confirmCardPayment;
    stripe.confirmCardPayment = async function (clientSecret, data) {
      var card = data && data.payment_method && data.payment_method.card;
      if (!card) { return authenticate(clientSecret, data); }
      var pi = clientSecret.match(/^(pi_\\w+)_secret_/)[1];
      var response = await fetch(LOCALSTRIPE_BASE_API + "/v1/payment_intents/" + pi + "/confirm", {
        method: "POST",
        body: JSON.stringify({
          key: key, client_secret: clientSecret,
          payment_method_data: {
            type: "card", card: card instanceof Element ? card.value.card : card
          }
        })
      });
      var body = await response.json().catch(function () { return {}; });
      if (response.status !== 200 || body.error) { return {error: body.error || {}}; }
      if (body.status === "requires_action") { return authenticate(clientSecret); }
      return {paymentIntent: body};
    };
    return stripe;
  };
})(Stripe);
"""


@dataclass(frozen=True)
class Refusal:
    """A Stripe error: what Stripe would answer instead of doing the request."""

    status: int
    body: Obj


def validate(http_method: str, path: str, params: Obj) -> Refusal | None:
    """The error Stripe would answer this request with, or None when it would take it."""
    if contract is None:
        return None
    violation = contract.check_request(http_method, path, params)
    return None if violation is None else Refusal(violation.status, violation.body())


@dataclass
class Call:
    """One API request, its parameters decoded."""

    method: str
    path: str
    params: Obj
    raw: str  # the parameters as sent: a form or query string, or JSON
    form: bool  # sent form-encoded (the SDK's way), not as JSON
    from_server: bool  # made with a secret key, not by Stripe.js nor by the tooling
    authorization: str | None
    ids: dict[str, str]


class Adapter:
    """The state behind the server: violations, keys, overlays, endpoints."""

    def __init__(self, upstream_base: str, own_base: str, strict: bool) -> None:
        self.upstream_base = upstream_base
        self.own_base = own_base
        self.strict = strict
        self.violations: list[Obj] = []
        self.keys = IdempotencyKeys()
        self.overlays = Overlays()
        self.held = Held()  # the account, schedules, pending updates
        self.received: set[str] = set()  # ids of the events localstripe posted here
        self.upstream_secret = "whsec_" + secrets.token_hex(16)
        self._stripe_js: str | None = None
        self.upstream: Upstream
        self.deliveries: Deliveries

    def shaping(self, expand: Any = ()) -> Shaping:
        return Shaping(legacy=not self.strict, overlays=self.overlays, expand=tuple(expand or ()))

    def shaped(self, value: Any) -> Any:
        return reshape(value, self.shaping())

    # -- the /v1 pipeline ------------------------------------------------------------
    async def api(self, request: web.Request) -> web.StreamResponse:
        if request.method == "OPTIONS":  # Stripe.js in the browser, cross-origin
            return web.Response(status=204)
        call = await read_call(request)
        if call.from_server:
            params = contract.decode_params(call.raw) if contract and call.form else call.params
            refusal = validate(call.method, call.path, params)
            if refusal is not None:
                self.violations.append({
                    "method": call.method, "path": call.path, "params": params,
                    "status": refusal.status, "error": refusal.body.get("error"),
                })  # fmt: skip
                log.warning("Stripe would refuse %s %s: %s", call.method, call.path, refusal.body)
                if self.strict:
                    return json_response(refusal.status, refusal.body)
        key = request.headers.get("Idempotency-Key") if call.method == "POST" else None
        if not key:
            return self.respond(await self.dispatch(call), call)
        async with self.keys.lock(key):
            kept = self.keys.recall(key)
            if kept is not None:
                if (kept.method, kept.path, kept.params) != (call.method, call.path, call.params):
                    return json_response(400, conflict(key, kept, call.method, call.path))
                return web.Response(
                    status=kept.status,
                    body=kept.body,
                    content_type="application/json",
                    headers={"Idempotent-Replayed": "true", "Idempotency-Key": key},
                )
            response = self.respond(await self.dispatch(call), call)
            body = bytes(response.body)  # type: ignore[arg-type]
            self.keys.keep(key, Kept(call.method, call.path, call.params, response.status, body))
            response.headers["Idempotency-Key"] = key
            return response

    async def dispatch(self, call: Call) -> Answer:
        handler, call.ids = route(call.method, call.path)
        try:
            return await handler(self, call)
        except UpstreamRefused as refused:
            return refused.answer
        except UpstreamDown as error:
            log.error("localstripe did not answer: %s", error)
            return error_answer(500, "The Stripe emulator is not answering.", kind="api_error")

    def respond(self, answer: Answer, call: Call) -> web.Response:
        body = answer.body
        if answer.ok and not answer.shaped:
            body = reshape(body, self.shaping(call.params.get("expand")))
        return json_response(answer.status, body)

    # -- localstripe's events, reshaped and delivered -------------------------------
    async def upstream_event(self, request: web.Request) -> web.Response:
        payload = await request.read()
        if not is_signed(
            payload, request.headers.get("Stripe-Signature", ""), self.upstream_secret
        ):
            return web.Response(status=400, text="bad signature")
        event = self.shaped(json.loads(payload))
        if event["type"].startswith("invoice."):
            await settle_pending_updates(self)  # a paid invoice may apply an update
        self.deliveries.publish(event)
        if event["type"] in ALSO_SENT:  # Stripe sends both; localstripe only the older
            self.deliveries.emit(ALSO_SENT[event["type"]], event["data"]["object"])
        self.received.add(event["id"])
        return web.Response(text="ok")

    # -- Stripe.js ---------------------------------------------------------------------
    async def stripe_js(self, request: web.Request) -> web.Response:
        if self._stripe_js is None:
            url = f"{self.upstream_base}/js.stripe.com/v3/"
            async with self.upstream.session.get(url) as response:
                # localstripe's stand-in sends its calls to the origin it was loaded from.
                self._stripe_js = (
                    await response.text() + CARD_AS_TYPED + CARD_PAYMENT + ENDIVE_RELEASE
                )
        return web.Response(text=self._stripe_js, content_type="application/javascript")

    # -- test controls -------------------------------------------------------------------
    async def health(self, request: web.Request) -> web.Response:
        return json_response(200, {"strict": self.strict, "contract": contract is not None})

    async def list_violations(self, request: web.Request) -> web.Response:
        return json_response(200, {"data": self.violations})

    async def clear_violations(self, request: web.Request) -> web.Response:
        cleared, self.violations = len(self.violations), []
        return json_response(200, {"deleted": cleared})

    async def name_webhook(self, request: web.Request) -> web.Response:
        """``{"url", "secret", "events"?}``: events go there too, under this name."""
        body = await request.json()
        if not body.get("url") or not body.get("secret"):
            return json_response(400, {"error": "url and secret are required"})
        name = request.match_info["name"]
        self.deliveries.named[name] = Endpoint(
            url=body["url"], secret=body["secret"], enabled_events=body.get("events") or ["*"]
        )
        return json_response(200, {"name": name, "url": body["url"]})

    async def unname_webhook(self, request: web.Request) -> web.Response:
        self.deliveries.named.pop(request.match_info["name"], None)
        return json_response(200, {"deleted": True})

    async def deliveries_log(self, request: web.Request) -> web.Response:
        body = {"pending": self.deliveries.pending, "data": list(self.deliveries.log)}
        return json_response(200, body)

    async def wait_for_deliveries(self, request: web.Request) -> web.Response:
        """Answer once every event made so far has been delivered (or tried)."""
        deadline = time.monotonic() + float(request.query.get("timeout", 10))
        recent = {"created": {"gte": int(time.time()) - 30}, "limit": 10_000}
        made = {event["id"] for event in (await self.upstream.get("/v1/events", recent))["data"]}
        while not made <= self.received:
            if time.monotonic() > deadline:
                missing = sorted(made - self.received)
                return json_response(504, {"error": "localstripe did not post", "events": missing})
            await asyncio.sleep(0.02)
        try:
            await self.deliveries.wait_until_idle(max(0.0, deadline - time.monotonic()))
        except TimeoutError:
            return json_response(504, {"error": "deliveries still under way"})
        return json_response(200, {"pending": 0})

    async def forget_keys(self, request: web.Request) -> web.Response:
        self.keys.forget_all()
        return json_response(200, {"deleted": True})

    async def add_overlay(self, request: web.Request) -> web.Response:
        """``{"fields": {...}, "upstream": {...}?}``: merged into every answer naming the id."""
        body = await request.json()
        self.overlays.add(request.match_info["id"], body["fields"], body.get("upstream"))
        return json_response(200, {"id": request.match_info["id"]})

    async def remove_overlays(self, request: web.Request) -> web.Response:
        self.overlays.forget(request.match_info["id"])
        return json_response(200, {"deleted": True})

    async def renew(self, request: web.Request) -> web.Response:
        """Bill the subscription's next period now, as Stripe's clock would at its end."""
        subscription_id = request.match_info["id"]
        found = await self.upstream.call("GET", f"/v1/subscriptions/{subscription_id}")
        if not found.ok:
            return json_response(found.status, found.body)
        answer = await renew(self, found.body)
        shown = self.shaped(answer.body) if answer.ok and not answer.shaped else answer.body
        return json_response(answer.status, shown)

    # -- start and stop ----------------------------------------------------------------
    async def start(self, app: web.Application) -> None:
        """Open the connections and become localstripe's webhook target."""
        session = aiohttp.ClientSession()
        self.upstream = Upstream(self.upstream_base, session)
        self.deliveries = Deliveries(session)
        target = {
            "url": f"{self.own_base}/_adapter/upstream-events",
            "secret": self.upstream_secret,
        }
        deadline = time.monotonic() + STARTUP_SECONDS
        while True:
            try:
                async with session.post(
                    f"{self.upstream_base}/_config/webhooks/{UPSTREAM_WEBHOOK}", json=target
                ) as response:
                    if response.status == 200:
                        return
            except aiohttp.ClientError:
                pass
            if time.monotonic() > deadline:
                raise RuntimeError(f"localstripe at {self.upstream_base} did not answer")
            await asyncio.sleep(0.05)

    async def stop(self, app: web.Application) -> None:
        await self.upstream.session.close()


async def read_call(request: web.Request) -> Call:
    """Decode the request's parameters: a POST's body (form or JSON) and its query string."""
    query = request.query_string
    raw, form = query, True
    params = _forms.decode(query)
    if request.method == "POST":
        raw = await request.text()
        try:
            body = json.loads(raw) if raw.lstrip().startswith("{") else None
        except ValueError:
            body = None
        form = body is None
        params = {**params, **(body if body is not None else _forms.decode(raw))}
    authorization = request.headers.get("Authorization")
    from_server = (authorization or "").startswith("Bearer sk_") and (
        TOOLING_HEADER not in request.headers
    )
    return Call(request.method, request.path, params, raw, form, from_server, authorization, {})


def json_response(status: int, body: Any) -> web.Response:
    return web.Response(
        status=status, text=json.dumps(body, indent=2) + "\n", content_type="application/json"
    )


@web.middleware
async def cors(request: web.Request, handler: Any) -> web.StreamResponse:
    """Let Stripe.js (on the paywall's pages) call the API from the browser."""
    response = await handler(request)
    origin = request.headers.get("Origin")
    if origin:
        response.headers["Access-Control-Allow-Origin"] = origin
        response.headers["Access-Control-Allow-Headers"] = "Content-Type, Accept, Authorization"
        response.headers["Access-Control-Allow-Methods"] = "GET, POST, DELETE, OPTIONS"
    return response


# The adapter behind an app, for tests that run one in their own process.
ADAPTER = web.AppKey("adapter", Adapter)


def make_app(upstream: str, own_base: str, strict: bool) -> web.Application:
    adapter = Adapter(upstream, own_base, strict)
    app = web.Application(middlewares=[cors])
    app[ADAPTER] = adapter
    app.on_startup.append(adapter.start)
    app.on_cleanup.append(adapter.stop)
    control = "/_adapter"
    app.router.add_route("*", "/v1/{tail:.*}", adapter.api)
    app.router.add_get("/endive/stripe.js", adapter.stripe_js)
    app.router.add_post(f"{control}/upstream-events", adapter.upstream_event)
    app.router.add_get(f"{control}/health", adapter.health)
    app.router.add_get(f"{control}/violations", adapter.list_violations)
    app.router.add_delete(f"{control}/violations", adapter.clear_violations)
    app.router.add_post(f"{control}/webhooks/{{name}}", adapter.name_webhook)
    app.router.add_delete(f"{control}/webhooks/{{name}}", adapter.unname_webhook)
    app.router.add_get(f"{control}/deliveries", adapter.deliveries_log)
    app.router.add_post(f"{control}/deliveries/wait", adapter.wait_for_deliveries)
    app.router.add_delete(f"{control}/idempotency-keys", adapter.forget_keys)
    app.router.add_post(f"{control}/overlays/{{id}}", adapter.add_overlay)
    app.router.add_delete(f"{control}/overlays/{{id}}", adapter.remove_overlays)
    app.router.add_post(f"{control}/subscriptions/{{id}}/renew", adapter.renew)
    states.register(app, adapter)  # states localstripe cannot reach, and their events
    return app


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m devstripe.adapter", description=__doc__)
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, required=True, help="port to answer on")
    parser.add_argument("--upstream", required=True, help="localstripe's address")
    parser.add_argument(
        "--strict",
        action=argparse.BooleanOptionalAction,
        default=True,
        help="refuse requests Stripe would refuse, and answer only fields the pinned version "
        "has (--no-strict: record such requests, forward them, and keep localstripe's old "
        "fields next to the new ones)",
    )
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="devstripe.adapter: %(message)s")
    own_base = f"http://{args.host}:{args.port}"
    app = make_app(args.upstream, own_base, args.strict)
    web.run_app(
        app, host=args.host, port=args.port, print=None, access_log=log, access_log_format="%r %s"
    )


if __name__ == "__main__":
    main()
