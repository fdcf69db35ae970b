"""localstripe, spoken to over HTTP, with its answers made Stripe-like where it is not.

localstripe answers some errors as plain text (an unknown URL, a parameter its Python
code does not take) and every card failure as ``invalid_request_error``; the SDK reads
the status, but the body should still be a Stripe error, so it is made one here.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

import aiohttp

from devstripe import _forms

Obj = dict[str, Any]
# localstripe takes any secret key; the adapter's own calls use this one.
ADAPTER_AUTHORIZATION = "Bearer sk_test_devstripe_adapter"


@dataclass
class Answer:
    """A status and a JSON body; ``shaped`` once in the pinned version's shapes."""

    status: int
    body: Any
    shaped: bool = False

    @property
    def ok(self) -> bool:
        return 200 <= self.status < 300


def error_answer(
    status: int, message: str, kind: str = "invalid_request_error", **more: Any
) -> Answer:
    return Answer(status, {"error": {"type": kind, "message": message, **more}}, shaped=True)


class UpstreamDown(Exception):
    """localstripe did not answer."""


class UpstreamRefused(Exception):
    """localstripe answered an error where the adapter needed an object (a missing id)."""

    def __init__(self, answer: Answer) -> None:
        super().__init__(f"{answer.status}: {answer.body}")
        self.answer = answer


class Upstream:
    """The localstripe process behind the adapter."""

    def __init__(self, base: str, session: aiohttp.ClientSession) -> None:
        self.base = base.rstrip("/")
        self.session = session

    async def call(
        self,
        method: str,
        path: str,
        params: Obj | None = None,
        authorization: str | None = ADAPTER_AUTHORIZATION,
    ) -> Answer:
        """Make the request (a POST's parameters as JSON, which localstripe also reads)."""
        headers = {"Authorization": authorization} if authorization else {}
        url, data = f"{self.base}{path}", None
        if method == "POST":
            data = json.dumps(_with_booleans(params or {}))
            headers["Content-Type"] = "application/json"
        elif params:
            url = f"{url}?{_forms.encode(params)}"
        try:
            async with self.session.request(method, url, data=data, headers=headers) as response:
                status, text = response.status, await response.text()
        except aiohttp.ClientError as error:
            raise UpstreamDown(str(error)) from error
        try:
            body = json.loads(text)
        except ValueError:
            return _plain_text_error(status, method, path)
        if status == 402 and isinstance(body.get("error"), dict):
            body["error"]["type"] = "card_error"
        return Answer(status, body)

    async def get(self, path: str, params: Obj | None = None) -> Obj:
        """The object at ``path``; an error answer is raised, to be answered as it is."""
        answer = await self.call("GET", path, params)
        if not answer.ok:
            raise UpstreamRefused(answer)
        return answer.body


def _with_booleans(params: Obj) -> Obj:
    """A form's ``true``/``false`` as JSON booleans: localstripe's updates store values as
    given, so ``active=false`` would leave a plan active. Only top-level values: a
    ``metadata`` value stays the string it is."""
    return {
        name: {"true": True, "false": False}.get(value, value) if isinstance(value, str) else value
        for name, value in params.items()
    }


def _plain_text_error(status: int, method: str, path: str) -> Answer:
    if status in (404, 405):
        return error_answer(
            404, f"Unrecognized request URL ({method}: {path}). The Stripe emulator lacks it."
        )
    return error_answer(
        500,
        "The Stripe emulator (localstripe) failed on this request; its log says why.",
        kind="api_error",
    )
