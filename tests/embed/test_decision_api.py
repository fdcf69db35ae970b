"""What embed.js asks: the decision for (reader, article), CORS for the site's origins
only, readers known by Bearer token and never by cookie."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import select, update

from billing.orm import utcnow
from paywall.embed.models import ReaderToken
from paywall.extensions import db
from tests.embed.conftest import ORIGIN, OTHER_ORIGIN, make_publisher, token_through_popup
from tests.factories import SECRET
from tests.helpers import sign_in_client


def test_anonymous_reader_gets_the_teaser_and_the_gate_never_the_rest(publisher):
    publisher.put("story")
    response = publisher.decision("story")
    assert response.status_code == 200
    decision = response.get_json()
    assert decision["access"] == "teaser"
    assert decision["reason"] == "anonymous"
    assert decision["title"] == "This article is for subscribers"
    assert [a["action"] for a in decision["actions"]] == ["subscribe", "sign_in"]
    sign_in = decision["actions"][1]["url"]
    assert "/embed/connect?" in sign_in and f"site={publisher.site_key}" in sign_in
    assert "second paragraph" in decision["html"]
    assert SECRET not in response.text
    assert decision["reader"] is None
    assert response.headers["Cache-Control"] == "private, no-store"


def test_comped_reader_with_a_token_gets_the_full_text(app, publisher, readers):
    publisher.put("story")
    token = token_through_popup(app, readers.comped(), publisher.site_key)
    decision = publisher.decision("story", token).get_json()
    assert decision["access"] == "full"
    assert decision["reason"] == "comped"
    assert SECRET in decision["html"]
    assert decision["reader"]["email"] == "comped@example.com"


def test_free_and_registered_articles_follow_the_same_rules(app, publisher, readers):
    publisher.put("free", access="free")
    publisher.put("members", access="registered")
    assert publisher.decision("free").get_json()["reason"] == "free_article"
    assert publisher.decision("members").get_json()["reason"] == "registration_required"
    token = token_through_popup(app, readers.plain(), publisher.site_key)
    assert publisher.decision("members", token).get_json()["reason"] == "registered_reader"
    paid = publisher.put("paid") and publisher.decision("paid", token).get_json()
    assert paid["reason"] == "no_subscription"
    assert [a["action"] for a in paid["actions"]] == ["subscribe"]


def test_cors_only_for_the_sites_registered_origins(publisher):
    publisher.put("story")
    allowed = publisher.decision("story", origin=ORIGIN)
    assert allowed.headers["Access-Control-Allow-Origin"] == ORIGIN
    assert "Origin" in allowed.headers["Vary"]
    assert "Access-Control-Allow-Credentials" not in allowed.headers

    refused = publisher.decision("story", origin=OTHER_ORIGIN)
    assert refused.status_code == 403
    assert refused.get_json()["error"]["code"] == "origin_not_allowed"
    # The page may read the refusal (so its console says why), and nothing more.
    assert refused.headers["Access-Control-Allow-Origin"] == OTHER_ORIGIN
    assert "Access-Control-Allow-Credentials" not in refused.headers
    assert SECRET not in refused.text and "paragraph" not in refused.text


def test_preflight_is_answered_for_registered_origins_only(publisher):
    path = f"/api/v1/sites/{publisher.site_key}/decisions/story"
    asking = {
        "Access-Control-Request-Method": "GET",
        "Access-Control-Request-Headers": "authorization",
    }
    ok = publisher.client.options(path, headers={"Origin": ORIGIN, **asking})
    assert ok.status_code == 204
    assert ok.headers["Access-Control-Allow-Origin"] == ORIGIN
    assert "Authorization" in ok.headers["Access-Control-Allow-Headers"]
    # Another origin's preflight passes, so its call can be answered origin_not_allowed.
    other = publisher.client.options(path, headers={"Origin": OTHER_ORIGIN, **asking})
    assert other.status_code == 204
    answered = publisher.client.get(
        path, headers={"Origin": OTHER_ORIGIN, "Authorization": "Bearer pw_rt_x"}
    )
    assert answered.status_code == 403
    assert answered.get_json()["error"]["code"] == "origin_not_allowed"
    assert answered.headers["Access-Control-Allow-Origin"] == OTHER_ORIGIN


def test_a_bad_token_is_a_readable_invalid_token_error(publisher):
    publisher.put("story")
    response = publisher.decision("story", "pw_rt_not-a-real-token")
    assert response.status_code == 401
    assert response.get_json()["error"]["code"] == "invalid_token"
    assert response.headers["Access-Control-Allow-Origin"] == ORIGIN


@pytest.mark.parametrize(
    ("sent", "says"), [("secret_key", "secret API key"), ("site_key", "site key")]
)
def test_a_key_sent_as_a_reader_token_gets_an_error_that_names_it(publisher, sent, says):
    publisher.put("story")
    key = getattr(publisher, sent)
    for response in (
        publisher.decision("story", key),
        publisher.client.delete(
            f"/api/v1/sites/{publisher.site_key}/token",
            headers={"Authorization": f"Bearer {key}", "Origin": ORIGIN},
        ),
        publisher.client.get(
            "/api/v1/decisions/story", headers={**publisher.auth(), "X-Reader-Token": key}
        ),
    ):
        assert response.status_code == 401
        error = response.get_json()["error"]
        assert error["code"] == "invalid_token"
        assert says in error["message"], error
        assert key not in response.text


def test_a_token_works_only_on_the_site_it_was_issued_for(app, publisher, readers):
    other = make_publisher(app, "Other Paper", origin="https://other.example.org")
    other.put("story")
    token = token_through_popup(app, readers.comped(), publisher.site_key)
    response = other.decision("story", token, origin="https://other.example.org")
    assert response.get_json()["error"]["code"] == "invalid_token"


def test_session_cookies_never_authenticate_the_api(app, publisher, readers):
    publisher.put("story")
    comped = readers.comped()
    sign_in_client(publisher.client, comped)  # the paywall's own cookie, in the same client
    response = publisher.decision("story")
    assert response.get_json()["access"] == "teaser" and response.get_json()["reader"] is None
    # The cookie is not even opened: the answer neither varies by it nor sets one.
    assert "cookie" not in response.headers.get("Vary", "").lower()
    assert "Set-Cookie" not in response.headers


def test_signing_out_revokes_the_token(app, publisher, readers):
    publisher.put("story")
    token = token_through_popup(app, readers.comped(), publisher.site_key)
    path = f"/api/v1/sites/{publisher.site_key}/token"
    headers = {"Authorization": f"Bearer {token}", "Origin": ORIGIN}
    assert publisher.client.delete(path, headers=headers).status_code == 204
    assert publisher.decision("story", token).status_code == 401
    assert publisher.client.delete(path, headers=headers).status_code == 401


def test_a_password_change_ends_every_token(app, publisher, readers, app_ctx):
    from paywall.accounts.models import Reader

    publisher.put("story")
    reader = readers.comped()
    token = token_through_popup(app, reader, publisher.site_key)
    db.session.execute(update(Reader).where(Reader.id == reader.id).values(security_stamp=9))
    db.session.commit()
    assert publisher.decision("story", token).get_json()["error"]["code"] == "invalid_token"


def test_token_expiry_slides_on_use_but_not_past_the_limit(app, publisher, readers, app_ctx):
    publisher.put("story")
    token = token_through_popup(app, readers.comped(), publisher.site_key)
    soon = utcnow() + timedelta(minutes=5)
    db.session.execute(update(ReaderToken).values(expires_at=soon))
    db.session.commit()
    assert publisher.decision("story", token).get_json()["access"] == "full"
    db.session.expire_all()
    slid = db.session.scalar(select(ReaderToken.expires_at))
    assert slid > soon + timedelta(minutes=20)

    long_ago = utcnow() - timedelta(hours=12)
    db.session.execute(update(ReaderToken).values(created_at=long_ago, expires_at=soon))
    db.session.commit()
    publisher.decision("story", token)
    db.session.expire_all()
    assert db.session.scalar(select(ReaderToken.expires_at)) <= soon + timedelta(seconds=1)

    db.session.execute(update(ReaderToken).values(expires_at=utcnow() - timedelta(seconds=1)))
    db.session.commit()
    assert publisher.decision("story", token).get_json()["error"]["code"] == "invalid_token"


def test_unknown_and_unpublished_articles_and_sites(publisher):
    assert publisher.decision("nothing-here").get_json()["error"]["code"] == "unknown_article"
    publisher.put("later", published_at="2999-01-01T00:00:00Z")
    assert publisher.decision("later").get_json()["error"]["code"] == "unknown_article"
    response = publisher.client.get("/api/v1/sites/pw_pk_nope/decisions/later")
    assert response.status_code == 404
    assert response.get_json()["error"]["code"] == "unknown_site"


def test_a_disabled_site_answers_nothing(app, publisher, readers, app_ctx):
    from paywall.embed.sites import find_site, set_site_enabled

    publisher.put("story")
    token = token_through_popup(app, readers.comped(), publisher.site_key)
    set_site_enabled(find_site(publisher.site_id), False)
    assert publisher.decision("story").get_json()["error"]["code"] == "unknown_site"
    set_site_enabled(find_site(publisher.site_id), True)
    assert publisher.decision("story", token).get_json()["error"]["code"] == "invalid_token"


def test_server_side_decision_with_the_secret_key_and_a_reader_token(app, publisher, readers):
    publisher.put("story")
    token = token_through_popup(app, readers.comped(), publisher.site_key)
    path = "/api/v1/decisions/story"
    anonymous = publisher.client.get(path, headers=publisher.auth()).get_json()
    assert anonymous["access"] == "teaser" and SECRET not in anonymous["html"]
    known = publisher.client.get(path, headers={**publisher.auth(), "X-Reader-Token": token})
    assert known.get_json()["reason"] == "comped" and SECRET in known.get_json()["html"]
    no_key = publisher.client.get(path, headers={"X-Reader-Token": token})
    assert no_key.get_json()["error"]["code"] == "invalid_key"


def test_a_new_token_clears_the_readers_spent_ones(app, publisher, readers, app_ctx):
    reader = readers.comped()
    first = token_through_popup(app, reader, publisher.site_key)
    headers = {"Authorization": f"Bearer {first}", "Origin": ORIGIN}
    publisher.client.delete(f"/api/v1/sites/{publisher.site_key}/token", headers=headers)
    token_through_popup(app, reader, publisher.site_key)
    token_through_popup(app, reader, publisher.site_key)
    assert len(db.session.scalars(select(ReaderToken)).all()) == 2
