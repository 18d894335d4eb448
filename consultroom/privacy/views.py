"""The privacy pages: importing the route modules adds their routes to the one privacy blueprint."""

from consultroom.privacy import access_views, notice_views, retention_views, rights_views  # noqa: F401 - their routes
from consultroom.privacy.blueprint import bp

__all__ = ["bp"]
