"""Erasure and retention reach every copy (issue 17, item 9): a person seeded everywhere the app can
put them (their row, values nested in audit entries about other objects, mails to other people,
delivery errors, a pending import upload, the erasure request's own words) is found nowhere after."""

from __future__ import annotations

import json
import runpy
from datetime import timedelta
from types import SimpleNamespace

import pytest
from gunicorn.config import Config
from gunicorn.glogging import Logger
from sqlalchemy import select

from consultroom import ROOT
from consultroom.audit.services import record
from consultroom.buyers import importing
from consultroom.buyers.models import BuyerImportBatch
from consultroom.extensions import db
from consultroom.notifications.models import OutboxMail
from consultroom.privacy import erasure
from consultroom.privacy.anonymise import anonymise_subject
from consultroom.privacy.registry import COPIES
from tests.factories import make_buyer, make_sme_with_company, make_user

NAME = "Erin Example"
EMAIL = "erin.example@acme-buyers.example"
PHONE = "+1 415 555 0199"
NOTES = "Prefers calls before 9 am, ask for Erin"
SEEDED = (NAME, EMAIL, PHONE, NOTES)


def _seed_everywhere():
    staff = make_user("staff")
    user, company = make_sme_with_company()
    buyer = make_buyer(contact_name=NAME, email=EMAIL, phone=PHONE, notes=NOTES, company_name="Acme Buyers")
    # Audit entries about other objects, the values nested at different depths.
    record(
        actor=staff,
        action="company.note",
        obj=company,
        after={"met": {"buyer": {"contact": NAME, "email": EMAIL}}, "calls": [{"phone": PHONE}, "ok"]},
    )
    record(actor=staff, action="buyer.update", obj=buyer, before={"notes": NOTES}, after={"notes": "x"})
    # A mail to another person that names her, and one of hers whose delivery error quotes her address.
    db.session.add(
        OutboxMail(
            message_id="<m1@consultroom.local>",
            to_addr=user.email,
            template="match_proposed_company",
            locale="en",
            subject=f"Meeting with {NAME}",
            body_text=f"Your buyer {NAME} ({EMAIL}, {PHONE}) accepted.",
            body_html=f"<p>Your buyer <b>{NAME}</b> accepted.</p>",
            status="sent",
        )
    )
    db.session.add(
        OutboxMail(
            message_id="<m2@consultroom.local>",
            to_addr=EMAIL,
            template="match_proposed",
            locale="en",
            subject="Proposal",
            body_text="Dear Erin",
            status="failed",
            last_error=f"Recipient refused ({EMAIL}: 550 no such user)",
        )
    )
    # An upload waiting for its preview that lists her again.
    raw = f"company,country,email,contact,timezone\nAcme Buyers,US,{EMAIL},{NAME},America/New_York\n".encode()
    importing.save_batch(parsed=importing.parse_upload("buyers.csv", raw), actor=staff)
    db.session.flush()
    return staff, buyer


def _hits() -> list[tuple[str, str]]:
    """Every table, every column: where any seeded value still appears (case-insensitive)."""
    db.session.commit()
    found = []
    for table in db.metadata.sorted_tables:
        for row in db.session.execute(select(table)).mappings():
            for column, value in row.items():
                if isinstance(value, dict | list):
                    value = json.dumps(value, ensure_ascii=False)
                if isinstance(value, str):
                    found += [(f"{table.name}.{column}", v) for v in SEEDED if v.lower() in value.lower()]
    return found


def test_erasure_seeded_everywhere_leaves_nothing():
    staff, buyer = _seed_everywhere()
    request = erasure.request_erasure(
        subject_type="buyer",
        subject_id=buyer.id,
        note=f"I am {NAME}; write to {EMAIL} or call {PHONE}.",
        actor=staff,
    )
    db.session.commit()
    before = {place for place, _v in _hits()}
    assert before >= {
        "buyers.email",
        "audit_entries.after",
        "audit_entries.before",
        "outbox_mails.body_text",
        "outbox_mails.last_error",
        "buyer_import_batches.rows",
        "erasure_requests.note",
    }

    erasure.carry_out(request=request, actor=staff, response="Done.")

    assert _hits() == []
    assert db.session.scalar(select(BuyerImportBatch.id)) is None
    mail = db.session.scalar(select(OutboxMail).where(OutboxMail.message_id == "<m1@consultroom.local>"))
    assert mail.body_text == f"Your buyer [deleted] (deleted-buyer-{buyer.id}@invalid.example, [deleted]) accepted."


def test_retention_seeded_everywhere_leaves_nothing():
    _staff, buyer = _seed_everywhere()
    db.session.commit()

    anonymise_subject(subject_type="buyer", subject_id=buyer.id, reason="retention", actor=None)

    assert _hits() == []


def test_registry_lists_every_copy_the_scrub_reaches():
    assert [c.name for c in COPIES] == [
        "audit_entries",
        "outbox_mails",
        "buyer_import_batches",
        "interpreter_import_batches",
        "export_files",
        "erasure_requests",
    ]


@pytest.mark.parametrize("query", ["q=%ED%99%8D%EA%B8%B8%EB%8F%99", "email=erin.example%40acme-buyers.example"])
def test_request_log_has_no_query_string_or_referrer(query):
    cfg = Config()
    for key, value in runpy.run_path(str(ROOT / "gunicorn.conf.py")).items():
        if key in cfg.settings:
            cfg.set(key, value)
    environ = {
        "REQUEST_METHOD": "GET",
        "PATH_INFO": "/companies",
        "QUERY_STRING": query,
        "RAW_URI": f"/companies?{query}",
        "SERVER_PROTOCOL": "HTTP/1.1",
        "REMOTE_ADDR": "10.0.0.1",
        "HTTP_REFERER": f"https://consultroom.example/buyers?{query}",
    }
    response = SimpleNamespace(status="200 OK", headers=[], response_length=512, sent=512)
    request = SimpleNamespace(headers=[("REFERER", environ["HTTP_REFERER"])])
    atoms = Logger(cfg).atoms(response, request, environ, timedelta(milliseconds=12))
    line = cfg.access_log_format % atoms
    assert line.endswith('"GET /companies HTTP/1.1" 200 512 0.012000')
    assert "?" not in line and query not in line
