"""Authorization-matrix entries for this part of the privacy routes (merged into EXPECT).

EXPECT maps (endpoint, method) -> role -> expected status ("login" for a redirect to the login page);
extend_world(people, params) may create objects and add path parameters; it runs before the commit.
"""

from __future__ import annotations

EXPECT: dict[tuple[str, str], dict[str, object]] = {}
DATA: dict[tuple[str, str], dict[str, str]] = {}


def extend_world(people: dict, params: dict) -> None:
    return None
