"""The privacy blueprint, named like its package: the policy (notice_views), an SME's own data
(rights_views), the admins' access log (access_views) and staff's retention and erasure pages
(retention_views) add their routes to it; consultroom.privacy.views gathers them."""

from flask import Blueprint

bp = Blueprint("privacy", __name__)
