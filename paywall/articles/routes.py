"""Article routes. PLACEHOLDER endpoints, replaced by the articles work."""

from paywall.articles import bp


@bp.route("/")
def home() -> str:
    return "home"


@bp.route("/articles/<slug>")
def article(slug: str) -> str:
    return slug


@bp.route("/editor/articles/new")
def new_article() -> str:
    return "new"
