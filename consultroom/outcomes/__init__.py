"""Consultation logs, outcome pipeline, contracts and the dated exchange-rate table (issue 5)."""
