"""Every Flask extension, created unbound in one place and bound in ``create_app``.

The caches of the reading path are :class:`paywall.caching.FreshCache` maps, kept right
on every worker by the generations of :mod:`paywall.invalidation`.
"""

from __future__ import annotations

from flask_login import LoginManager
from flask_mailman import Mail
from flask_migrate import Migrate
from flask_sqlalchemy import SQLAlchemy
from flask_wtf.csrf import CSRFProtect

from billing import Base

db = SQLAlchemy(model_class=Base, disable_autonaming=True)
migrate = Migrate()
login_manager = LoginManager()
csrf = CSRFProtect()
mail = Mail()
