"""Account routes. PLACEHOLDER endpoints, replaced by the accounts work."""

from paywall.accounts import bp


@bp.route("/signin")
def sign_in() -> str:
    return "sign in"


@bp.route("/signup")
def sign_up() -> str:
    return "sign up"


@bp.route("/signout", methods=["POST"])
def sign_out() -> str:
    return "sign out"


@bp.route("/account")
def account() -> str:
    return "account"
