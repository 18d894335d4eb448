"""Changes to a consultation (a booking and its match) that keep every party in step."""
