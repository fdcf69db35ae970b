"""Every Flask extension, created unbound in one place and bound in ``create_app``."""

from __future__ import annotations

from flask import request
from flask_limiter import Limiter
from flask_limiter.util import get_remote_address
from flask_login import LoginManager
from flask_mailman import Mail
from flask_migrate import Migrate
from flask_sqlalchemy import SQLAlchemy
from flask_wtf.csrf import CSRFProtect

from billing.orm import Base

db = SQLAlchemy(model_class=Base, disable_autonaming=True)
migrate = Migrate()
login_manager = LoginManager()
csrf = CSRFProtect()
limiter = Limiter(key_func=get_remote_address)


@limiter.request_filter
def _reading_is_never_limited() -> bool:
    """Only form posts carry limits; skipping the rest keeps the reading path lean."""
    return request.method in ("GET", "HEAD", "OPTIONS")


mail = Mail()
