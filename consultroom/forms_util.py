"""Glue between DomainError and WTForms: field errors go beside their fields."""

from __future__ import annotations

from flask import flash
from flask_wtf import FlaskForm

from consultroom.errors import DomainError


def apply_domain_error(form: FlaskForm, exc: DomainError) -> None:
    placed = False
    for name, messages in exc.fields.items():
        field = getattr(form, name, None)
        if field is not None:
            field.errors = [*list(field.errors), *messages]
            placed = True
    if not placed:
        flash(exc.message, "danger")
