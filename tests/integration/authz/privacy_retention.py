"""Authorization-matrix entries for this part of the privacy routes (merged into EXPECT).

EXPECT maps (endpoint, method) -> role -> expected status ("login" for a redirect to the login page);
extend_world(people, params) may create objects and add path parameters; it runs before the commit.
"""

from __future__ import annotations

L = "login"


def _roles(anon, owner, other, staff, admin) -> dict[str, object]:
    return {"anon": anon, "owner": owner, "other": other, "staff": staff, "admin": admin}


EXPECT: dict[tuple[str, str], dict[str, object]] = {
    # retention periods and the dry run are admins'; an empty form re-shows the page with its errors.
    # "Run now" finds nothing due in the fresh world and redirects.
    ("privacy.retention", "GET"): _roles(L, 404, 404, 404, 200),
    ("privacy.retention", "POST"): _roles(L, 404, 404, 404, 200),
    ("privacy.run_retention", "POST"): _roles(L, 404, 404, 404, 302),
    # deletion requests are handled by staff; SMEs ask on their own My data page. An empty form
    # (no person chosen, no decision) re-shows the page.
    ("privacy.erasure_requests", "GET"): _roles(L, 404, 404, 200, 200),
    ("privacy.erasure_requests", "POST"): _roles(L, 404, 404, 200, 200),
    ("privacy.erasure_request", "GET"): _roles(L, 404, 404, 200, 200),
    ("privacy.erasure_request", "POST"): _roles(L, 404, 404, 200, 200),
    # a buyer's or interpreter's data, downloaded by staff for that person's access request
    ("privacy.export_subject", "GET"): _roles(L, 404, 404, 200, 200),
}
DATA: dict[tuple[str, str], dict[str, str]] = {}


def extend_world(people: dict, params: dict) -> None:
    from consultroom.privacy.erasure import request_erasure

    req = request_erasure(
        subject_type="buyer", subject_id=params["buyer_id"], note="Asked by e-mail", actor=people["staff"]
    )
    params["request_id"] = req.id
    params.update(subject_type="buyer", subject_id=params["buyer_id"], fmt="json")
