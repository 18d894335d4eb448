"""Authorization-matrix entries for this part of the privacy routes (merged into EXPECT).

EXPECT maps (endpoint, method) -> role -> expected status ("login" for a redirect to the login page);
extend_world(people, params) may create objects and add path parameters; it runs before the commit.
"""

from __future__ import annotations

EXPECT: dict[tuple[str, str], dict[str, object]] = {
    # the privacy policy is public: everyone, logged in or not, may read what is collected and why
    ("privacy.policy", "GET"): dict.fromkeys(("anon", "owner", "other", "staff", "admin"), 200),
}
DATA: dict[tuple[str, str], dict[str, str]] = {}


def extend_world(people: dict, params: dict) -> None:
    return None
