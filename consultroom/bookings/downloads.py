"""Files a party downloads about a booking: its .ics, for the web page and the API alike."""

from __future__ import annotations

from flask import Response

from consultroom.bookings.models import Booking


def ics_response(booking: Booking, user) -> Response:
    """The reader's own view of the event (their zone and language), with the same UID and SEQUENCE
    as every mail and feed, so importing it twice or subscribing as well keeps one event."""
    from consultroom.matching.confirmation import user_ics

    return Response(
        user_ics(booking, user, method="PUBLISH"),
        mimetype="text/calendar",
        headers={"Content-Disposition": f'attachment; filename="consultation-{booking.id}.ics"'},
    )
