"""A website as people type it (issue 15 item 7): "example.com" or "www.example.co.kr/en" is taken as
https://…, since nobody types the scheme; anything else must start with http:// or https://, so a
"javascript:" or "ftp:" address never becomes a link on a page."""

from __future__ import annotations

import re

from flask_babel import gettext as _

# A host of dot-separated labels (letters, digits, hyphens; Hangul for Korean domains), an optional
# port and path. No scheme, no spaces, no "user@".
_BARE = re.compile(r"^[\w-]+(\.[\w-]+)+(:\d{1,5})?([/?#]\S*)?$")


def normalize_website(raw: str) -> tuple[str, str | None]:
    """The address to keep, and the message naming what is wrong (None when it is fine)."""
    value = raw.strip()
    if not value:
        return "", None
    if any(c.isspace() for c in value):
        return value, _("A web address has no spaces.")
    if value.lower().startswith(("http://", "https://")):
        return value, None
    if _BARE.match(value):
        return "https://" + value, None
    return value, _("Start the address with http:// or https://.")
