"""Authorization-matrix entries for this part of the privacy routes (merged into EXPECT).

EXPECT maps (endpoint, method) -> role -> expected status ("login" for a redirect to the login page);
extend_world(people, params) may create objects and add path parameters; it runs before the commit.
"""

from __future__ import annotations

L = "login"


def _roles(anon, owner, other, staff, admin) -> dict[str, object]:
    return {"anon": anon, "owner": owner, "other": other, "staff": staff, "admin": admin}


ADMIN_ONLY = _roles(L, 404, 404, 404, 200)
EVERY_USER = _roles(L, 200, 200, 200, 200)

EXPECT: dict[tuple[str, str], dict[str, object]] = {
    # a person's own data: every account sees and downloads its own; SME users ask for deletion (an empty
    # form re-shows the page with the unticked confirmation), staff and admin accounts may not (403)
    ("privacy.my_data", "GET"): EVERY_USER,
    ("privacy.my_data_json", "GET"): EVERY_USER,
    ("privacy.my_data_xlsx", "GET"): EVERY_USER,
    ("privacy.request_my_erasure", "POST"): _roles(L, 200, 200, 403, 403),
    # the access log: admins only; everyone else gets 404
    ("privacy.access_log", "GET"): ADMIN_ONLY,
    ("privacy.access_log_csv", "GET"): ADMIN_ONLY,
    ("privacy.access_log_xlsx", "GET"): ADMIN_ONLY,
    # a long log's file is queued by a POST and listed on the admin's exports page
    ("privacy.prepare_access_log_csv", "POST"): _roles(L, 404, 404, 404, 303),
    ("privacy.prepare_access_log_xlsx", "POST"): _roles(L, 404, 404, 404, 303),
    # API: {} is a valid deletion request (the note is optional), not a valid consent (granted missing)
    ("api.my_data", "GET"): _roles(401, 200, 200, 200, 200),
    ("api.my_consents", "GET"): _roles(401, 200, 200, 200, 200),
    ("api.set_marketing_consent", "PUT"): _roles(401, 422, 422, 422, 422),
    ("api.create_erasure_request", "POST"): _roles(401, 201, 201, 403, 403),
    ("api.list_access_log", "GET"): _roles(401, 404, 404, 404, 200),
}
DATA: dict[tuple[str, str], dict[str, str]] = {}


def extend_world(people: dict, params: dict) -> None:
    return None
