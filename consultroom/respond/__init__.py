"""Signed-link pages where a proposed buyer or interpreter accepts or declines a consultation."""
