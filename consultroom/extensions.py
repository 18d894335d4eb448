"""Extension singletons, bound to the app in create_app()."""

from flask import request
from flask_babel import Babel
from flask_bootstrap import Bootstrap5
from flask_limiter import Limiter
from flask_limiter.util import get_remote_address
from flask_login import LoginManager
from flask_migrate import Migrate
from flask_sqlalchemy import SQLAlchemy
from flask_wtf.csrf import CSRFProtect

from consultroom.db import Base

db = SQLAlchemy(model_class=Base)
migrate = Migrate()
login_manager = LoginManager()
csrf = CSRFProtect()
babel = Babel()
bootstrap = Bootstrap5()


def _client_ip() -> str:
    # Behind a proxy, ProxyFix (configured in production) rewrites remote_addr.
    return get_remote_address() or request.remote_addr or "unknown"


# No default limits: only the routes that need one (login, token, reset) carry a limit.
limiter = Limiter(key_func=_client_ip, default_limits=[])
