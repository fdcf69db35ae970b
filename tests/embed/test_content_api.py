"""A publisher's CMS puts, reads, lists and deletes articles with the secret key."""

from __future__ import annotations

from billing import PlanInput, save_plan
from paywall.extensions import db
from tests.embed.conftest import make_publisher
from tests.factories import SECRET, PlanFactory


def test_cms_creates_then_updates_an_article_rendered_like_an_editors(publisher):
    created = publisher.put("story-1", author="Mara", canonical_url="https://news.example.com/1")
    assert created.status_code == 201
    article = created.get_json()
    assert article["id"] == "story-1"
    assert SECRET not in article["teaser_html"]
    assert "second paragraph" in article["teaser_html"]
    assert SECRET in article["full_html"]
    assert article["canonical_url"] == "https://news.example.com/1"

    updated = publisher.put("story-1", title="A new headline", access="registered")
    assert updated.status_code == 200
    again = publisher.client.get("/api/v1/articles/story-1", headers=publisher.auth()).get_json()
    assert again["title"] == "A new headline"
    assert again["access"] == "registered"


def test_body_html_is_sanitised_and_split_by_paragraph_count(publisher):
    body = "<p>One<script>alert(1)</script></p><p onclick='x()'>Two</p><p>Three</p><p>Four</p>"
    article = publisher.put("story-2", body_html=body, teaser_paragraphs=1).get_json()
    assert "<script" not in article["full_html"] and "onclick" not in article["full_html"]
    assert article["teaser_html"] == "<p>One</p>"
    assert article["teaser_paragraphs"] == 1


def list_page(publisher, **query):
    response = publisher.client.get(
        "/api/v1/articles", query_string=query, headers=publisher.auth()
    )
    assert response.status_code == 200, response.get_json()
    return response.get_json()


def test_articles_are_listed_newest_first_a_page_at_a_time(publisher):
    for number in range(3):
        assert publisher.put(f"story-{number}").status_code == 201
    first = list_page(publisher, limit=2)
    assert [a["id"] for a in first["articles"]] == ["story-2", "story-1"]
    rest = list_page(publisher, limit=2, cursor=first["next_cursor"])
    assert [a["id"] for a in rest["articles"]] == ["story-0"]
    assert rest["next_cursor"] is None


def test_walking_the_pages_sees_every_article_once_while_the_cms_adds_more(publisher):
    for number in range(25):
        assert publisher.put(f"old-{number:02d}").status_code == 201
    seen: list[str] = []
    page = list_page(publisher, limit=10)
    while True:
        seen += [a["id"] for a in page["articles"]]
        publisher.put(f"new-{len(seen)}")  # lands before the first page, never in the walk
        if page["next_cursor"] is None:
            break
        page = list_page(publisher, limit=10, cursor=page["next_cursor"])
    assert seen == [f"old-{number:02d}" for number in reversed(range(25))]


def test_bad_page_arguments_are_a_400_naming_the_argument(publisher):
    for query, field in [
        ({"limit": 0}, "limit"),
        ({"limit": 101}, "limit"),
        ({"limit": "ten"}, "limit"),
        ({"cursor": "abc"}, "cursor"),
        ({"cursor": -1}, "cursor"),
        ({"cursor": 2**31}, "cursor"),
    ]:
        response = publisher.client.get(
            "/api/v1/articles", query_string=query, headers=publisher.auth()
        )
        assert response.status_code == 400, query
        assert response.get_json()["error"]["code"] == "invalid_request"
        assert response.get_json()["error"]["field"] == field
    publisher.put("story")
    largest = list_page(publisher, cursor=2**31 - 1)  # the largest the document allows
    assert [a["id"] for a in largest["articles"]] == ["story"]


def test_deleted_article_is_gone_for_cms_and_readers(publisher):
    publisher.put("story-3")
    deleted = publisher.client.delete("/api/v1/articles/story-3", headers=publisher.auth())
    assert deleted.status_code == 204
    gone = publisher.client.get("/api/v1/articles/story-3", headers=publisher.auth())
    assert gone.status_code == 404
    assert gone.get_json()["error"]["code"] == "unknown_article"
    assert publisher.decision("story-3").get_json()["error"]["code"] == "unknown_article"


def test_calls_without_a_live_secret_key_are_refused(publisher):
    for headers in (
        {},
        {"Authorization": "Bearer pw_sk_wrong"},
        publisher.auth(publisher.site_key),
    ):
        response = publisher.client.get("/api/v1/articles", headers=headers)
        assert response.status_code == 401
        assert response.get_json()["error"]["code"] == "invalid_key"


def test_one_site_never_sees_another_sites_articles(app, publisher):
    publisher.put("shared-id")
    other = make_publisher(app, "Other Paper")
    response = other.client.get("/api/v1/articles/shared-id", headers=other.auth())
    assert response.status_code == 404
    assert other.client.get("/api/v1/articles", headers=other.auth()).get_json()["articles"] == []
    assert other.put("shared-id").status_code == 201  # its own article of the same id


def test_bad_input_names_the_field(publisher):
    cases = [
        ({"title": ""}, "title"),
        ({"access": "everyone"}, "access"),
        ({"teaser_paragraphs": -1}, "teaser_paragraphs"),
        ({"canonical_url": "javascript:alert(1)"}, "canonical_url"),
        ({"published_at": "yesterday"}, "published_at"),
        ({"title": "bad \ud800 text"}, "title"),
        ({"access": "tiers", "tiers": []}, "tiers"),
        ({"access": "tiers", "tiers": ["no spaces please"]}, "tiers"),
    ]
    for fields, field in cases:
        response = publisher.put("story-4", **fields)
        assert response.status_code == 400, fields
        assert response.get_json()["error"] == {
            "code": "invalid_request",
            "message": response.get_json()["error"]["message"],
            "field": field,
        }
    bad_id = publisher.client.put(
        "/api/v1/articles/-no",
        json={"title": "x", "body_html": "<p>x</p>"},
        headers=publisher.auth(),
    )
    assert bad_id.get_json()["error"]["field"] == "external_id"
    not_json = publisher.client.put(
        "/api/v1/articles/x", data="{", headers={**publisher.auth(), "Content-Type": "text/plain"}
    )
    assert not_json.status_code == 400


def test_the_content_api_needs_no_csrf_token_and_sets_no_cookie(publisher):
    response = publisher.put("story-5")
    assert response.status_code == 201
    assert "Set-Cookie" not in response.headers


def test_an_article_for_many_long_tier_names_is_saved_whole_and_more_are_refused(
    publisher, app_ctx
):
    """Twenty 40-character tier names passed the 200-character column on PostgreSQL as a
    500 (schemathesis found it); they are stored whole, and a twenty-first is refused."""
    names = [f"{n:02d}" + "t" * 38 for n in range(20)]
    for name in names:
        PlanFactory(tier=name)
    saved = publisher.put("many-tiers", access="tiers", tiers=names)
    assert saved.status_code == 201, saved.get_json()
    assert saved.get_json()["tiers"] == names
    refused = publisher.put("too-many-tiers", access="tiers", tiers=[*names, "extra"])
    assert refused.status_code == 400
    assert refused.get_json()["error"]["field"] == "tiers"


def test_a_tier_no_plan_has_is_refused_with_the_tiers_there_are(app, publisher):
    with app.app_context():
        save_plan(db.session, PlanInput("gold-monthly", "Gold", "gold", 900))
    assert publisher.put("gold-story", access="tiers", tiers=["gold"]).status_code == 201
    refused = publisher.put("typo-story", access="tiers", tiers=["gold", "glod"])
    assert refused.status_code == 422
    error = refused.get_json()["error"]
    assert error["code"] == "invalid_article" and error["field"] == "tiers"
    assert "'glod'" in error["message"] and "gold" in error["message"]
    assert (
        publisher.client.get("/api/v1/articles/typo-story", headers=publisher.auth()).status_code
        == 404
    )
