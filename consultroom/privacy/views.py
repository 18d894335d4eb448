"""The privacy blueprint: the privacy policy (notice_views), an SME's own data (rights_views), the
admins' personal-data access log (access_views) and staff's retention and erasure pages
(retention_views) are one blueprint, named like its package; each module adds its routes to it."""

from flask import Blueprint

bp = Blueprint("privacy", __name__)

# The route modules register themselves on bp, so they are imported after it exists.
from consultroom.privacy import access_views, notice_views, retention_views, rights_views  # noqa: E402, F401
