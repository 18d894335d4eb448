"""Retention: periods, the dry run, the anonymisation job, and reports that do not change."""

from __future__ import annotations

import io
from datetime import UTC, date, datetime, timedelta

import pytest
from flask_babel import force_locale
from openpyxl import load_workbook
from sqlalchemy import func, select, text

from consultroom.accounts.models import User
from consultroom.audit.models import AuditEntry
from consultroom.bookings.models import Booking, WaitlistEntry
from consultroom.buyers.models import Buyer
from consultroom.companies.models import Company
from consultroom.db import utcnow
from consultroom.errors import Invalid, NotAllowed
from consultroom.extensions import db
from consultroom.interpreters.models import Interpreter, InterpreterException
from consultroom.notifications.models import OutboxMail
from consultroom.outcomes.models import ConsultationLog, Contract, OutcomeChange
from consultroom.privacy.models import Anonymisation, PersonalDataAccess, RetentionRule
from consultroom.privacy.retention import (
    DEFAULT_MONTHS,
    apply,
    due_at,
    get_rules,
    plan,
    preview,
    update_rules,
)
from consultroom.reports.figures import program_report
from consultroom.reports.queries import targets_for
from consultroom.reports.targets import scorecard
from consultroom.scheduler.runner import run_job
from consultroom.surveys.models import SurveyAnswer
from tests.factories import make_consultation, make_user
from tests.factories.privacy import at, backdate, build_past_year, buyer, past_round, sme, upcoming_consultation

YEAR = 2022
# Contacts are kept 36 months after 31 Dec 2022 (due 1 Jan 2026, Seoul); a month later all is due.
AFTER = datetime(2026, 2, 1, tzinfo=UTC)
ALL_KINDS = ("sme_accounts", "buyer_contacts", "interpreter_contacts", "free_text", "access_log")


@pytest.fixture(autouse=True)
def _english_messages(app):
    """Service messages outside a request follow the default locale (Korean); read them in English."""
    with force_locale("en"):
        yield


def _report_rows(client) -> dict[str, list[tuple]]:
    wb = load_workbook(io.BytesIO(client.get(f"/staff/reports.xlsx?year={YEAR}").data))
    return {ws.title: [tuple(c.value for c in row) for row in ws.iter_rows()] for ws in wb.worksheets}


def _report():
    report = program_report(start=date(YEAR, 1, 1), end=date(YEAR, 12, 31))
    return report, scorecard(report, targets_for(YEAR))


def _everything() -> str:
    """Every row of every table as text: where an e-mail address could still hide."""
    out = []
    for table in db.metadata.sorted_tables:
        for row in db.session.execute(select(table)):
            out.append(repr(tuple(row)))
    return "\n".join(out).lower()


# --- rules -----------------------------------------------------------------------------------------


def test_get_rules_defaults_then_saved_values():
    admin = make_user("admin")

    assert (
        get_rules()
        == DEFAULT_MONTHS
        == {
            "sme_accounts": 36,
            "buyer_contacts": 36,
            "interpreter_contacts": 36,
            "free_text": 24,
            "access_log": 24,
        }
    )
    update_rules(data={**DEFAULT_MONTHS, "free_text": "0", "access_log": 12}, actor=admin)

    assert get_rules() == {**DEFAULT_MONTHS, "free_text": 0, "access_log": 12}
    entries = db.session.scalars(select(AuditEntry).where(AuditEntry.action == "retention_rule.update")).all()
    assert sorted((e.before["months"], e.after["months"]) for e in entries) == [(24, 0), (24, 12)]


def test_update_rules_access_log_below_the_legal_year_is_refused():
    admin = make_user("admin")

    with pytest.raises(Invalid) as exc:
        update_rules(data={**DEFAULT_MONTHS, "access_log": 11}, actor=admin)

    assert exc.value.fields == {
        "access_log": ["Keep it for at least 12 months: the law requires access records to be kept at least a year."]
    }
    assert db.session.scalar(select(func.count()).select_from(RetentionRule)) == 0


def test_access_log_rule_stored_below_the_minimum_still_keeps_a_year():
    db.session.add(RetentionRule(kind="access_log", months=0, updated_by_id=make_user("admin").id))
    db.session.commit()
    assert get_rules()["access_log"] == 12


def test_update_rules_names_every_bad_field_and_saves_nothing():
    admin = make_user("admin")

    with pytest.raises(Invalid) as exc:
        update_rules(
            data={"sme_accounts": "abc", "buyer_contacts": "1201", "interpreter_contacts": "-1", "free_text": "2.5"},
            actor=admin,
        )

    assert set(exc.value.fields) == {
        "sme_accounts",
        "buyer_contacts",
        "interpreter_contacts",
        "free_text",
        "access_log",
    }
    assert exc.value.fields["sme_accounts"] == ["Enter a whole number of months from 0 to 1200."]
    assert db.session.scalar(select(func.count()).select_from(RetentionRule)) == 0


def test_update_rules_by_staff_is_not_allowed():
    with pytest.raises(NotAllowed):
        update_rules(data=DEFAULT_MONTHS, actor=make_user("staff"))


def test_due_at_is_end_of_year_in_seoul_plus_months():
    assert due_at(2022, 36) == datetime(2025, 12, 31, 15, 0, tzinfo=UTC)  # 1 Jan 2026 00:00 KST
    assert due_at(2022, 0) == datetime(2022, 12, 31, 15, 0, tzinfo=UTC)
    assert due_at(2022, 14) == datetime(2024, 2, 29, 15, 0, tzinfo=UTC)  # 1 Mar 2024 KST


# --- the key test: reports before and after are equal -----------------------------------------------


def test_apply_keeps_past_reports_equal_and_removes_the_personal_data(client, login_as):
    w = build_past_year(YEAR)
    db.session.commit()
    login_as(w.staff)
    report_before, lines_before = _report()
    rows_before = _report_rows(client)
    csv_before = client.get(f"/staff/reports.csv?year={YEAR}").data
    assert report_before.total.held == 2 and report_before.total.contracts == 3
    kept = (w.companies["c1"].name_ko, w.companies["c1"].business_number, w.buyers["b1"].company_name)

    apply(now=AFTER)
    db.session.commit()

    report_after, lines_after = _report()
    assert report_after == report_before
    assert [vars(line) for line in lines_after] == [vars(line) for line in lines_before]
    assert _report_rows(client) == rows_before
    assert client.get(f"/staff/reports.csv?year={YEAR}").data == csv_before
    # The personal data is gone, row by row, with exact replacement values.
    u1, c1 = db.session.get(User, w.users["u1"].id), db.session.get(Company, w.companies["c1"].id)
    assert (u1.name, u1.email, u1.phone, u1.active, u1.session_version) == (
        f"Deleted user #{u1.id}",
        f"deleted-user-{u1.id}@invalid.example",
        None,
        False,
        2,
    )
    assert u1.password_hash.startswith("!erased-")
    assert (c1.representative, c1.contact_name, c1.contact_email, c1.contact_phone) == ("", "", "", "")
    assert (c1.name_ko, c1.hs_codes, c1.business_number) == (kept[0], ["330499"], kept[1])
    b1 = db.session.get(Buyer, w.buyers["b1"].id)
    assert (b1.contact_name, b1.email, b1.phone, b1.notes, b1.active) == (
        "",
        f"deleted-buyer-{b1.id}@invalid.example",
        "",
        "",
        False,
    )
    assert (b1.company_name, b1.country, b1.languages) == (kept[2], "US", ["en"])
    i1 = db.session.get(Interpreter, w.interpreters["i1"].id)
    assert (i1.name, i1.email, i1.phone, i1.active) == (
        f"Deleted interpreter #{i1.id}",
        f"deleted-interpreter-{i1.id}@invalid.example",
        "",
        False,
    )
    assert i1.languages == ["en"]
    k1 = db.session.get(Booking, w.bookings["k1"].id)
    assert (k1.products, k1.buyer_profile, k1.notes, k1.hs_codes, k1.status) == ("", "", "", ["330499"], "held")
    log = db.session.scalar(select(ConsultationLog).where(ConsultationLog.booking_id == k1.id))
    assert (log.products_discussed, log.samples_text, log.next_action, log.notes) == ("", "", "", "")
    assert (log.attendance, log.buyer_interest, log.samples_requested) == ("held", "high", True)
    assert set(db.session.scalars(select(OutcomeChange.note))) == {""}
    contracts = db.session.scalars(select(Contract).order_by(Contract.id)).all()
    assert [(c.items, c.currency, c.amount_minor) for c in contracts] == [
        ("", "USD", 1_000_000),
        ("", "KRW", 3_000_000),
        ("", "JPY", 1_000_000),
    ]
    answers = db.session.execute(select(SurveyAnswer.score, SurveyAnswer.text).order_by(SurveyAnswer.id)).all()
    assert sorted(answers, key=lambda a: (a.score is None, a.score or 0)) == [
        (3, None),
        (4, None),
        (5, None),
        (None, None),
        (None, None),
        (None, None),
    ]
    assert db.session.scalars(select(WaitlistEntry.notes)).all() == [""]
    assert db.session.scalars(select(InterpreterException.note)).all() == [""]
    assert db.session.scalar(select(func.count()).select_from(PersonalDataAccess)) == 0
    mails = [db.session.get(OutboxMail, w.mails[k]) for k in ("pending", "sent")]
    assert [(m.to_addr, m.status, m.body_text) for m in mails] == [
        (f"deleted-buyer-{b1.id}@invalid.example", "failed", ""),
        (f"deleted-user-{u1.id}@invalid.example", "sent", ""),
    ]
    everything = _everything()
    for email in w.emails:
        assert email.lower() not in everything
    for fragment in ("010-1234-5678", "john's mobile", "sato-san", "park's hospital", "+1 555 0100"):
        assert fragment not in everything
    # The staff and the admin are not program participants: kept.
    assert db.session.get(User, w.staff.id).email == "staff@city.example.kr"


def test_plan_is_a_dry_run_listing_exactly_what_apply_does():
    w = build_past_year(YEAR)
    db.session.commit()
    snapshot = _everything()

    due = plan(now=AFTER)
    db.session.commit()

    assert _everything() == snapshot
    listed = {k: sorted((i.subject_type, i.subject_id) for i in items) for k, items in due.items.items()}
    assert listed == {
        "sme_accounts": sorted(
            [("company", w.companies[c].id) for c in ("c1", "c2")] + [("user", w.users[u].id) for u in ("u1", "u2")]
        ),
        "buyer_contacts": sorted(("buyer", b.id) for b in w.buyers.values()),
        "interpreter_contacts": [("interpreter", w.interpreters["i1"].id)],
        "free_text": sorted(
            [("booking", b.id) for b in w.bookings.values()]
            + [("exception", db.session.scalar(select(InterpreterException.id)))]
            + [("waitlist", db.session.scalar(select(WaitlistEntry.id)))]
        ),
    }
    assert due.counts() == {
        "sme_accounts": 4,
        "buyer_contacts": 3,
        "interpreter_contacts": 1,
        "free_text": 5,
        "access_log": 3,
    }
    b1 = next(i for i in due.items["buyer_contacts"] if i.subject_id == w.buyers["b1"].id)
    assert (b1.name, b1.last_year, b1.due_at) == (
        f"Contact john · {w.buyers['b1'].company_name} (United States)",  # the country by name (issue 15 item 6)
        YEAR,
        datetime(2025, 12, 31, 15, 0, tzinfo=UTC),
    )

    done = apply(now=AFTER)
    db.session.commit()

    assert done.counts() == due.counts()
    anonymised = sorted((a.subject_type, a.subject_id, a.kind) for a in db.session.scalars(select(Anonymisation)))
    expected = sorted(
        (i.subject_type, i.subject_id, kind)
        for kind in ("sme_accounts", "buyer_contacts", "interpreter_contacts")
        for i in due.items[kind]
    )
    assert anonymised == expected
    assert {a.reason for a in db.session.scalars(select(Anonymisation))} == {"retention"}


def test_preview_windows_put_together_are_the_plan_in_its_order():
    build_past_year(YEAR)
    db.session.commit()
    due = plan(now=AFTER)

    windows = [preview(now=AFTER, offset=offset, limit=2) for offset in (0, 2, 4, 6)]

    for kind in ("sme_accounts", "buyer_contacts", "interpreter_contacts", "free_text"):
        assert [i for w in windows for i in w.items[kind]] == due.items[kind], kind
        assert {w.counts()[kind] for w in windows} == {len(due.items[kind])}
    assert windows[0].counts() == due.counts()


def test_settings_page_pages_through_the_dry_run(client, login_as, monkeypatch):
    from consultroom.privacy import retention_views

    monkeypatch.setattr(retention_views, "SHOWN_PER_KIND", 2)
    login_as("admin")
    w = build_past_year(YEAR)
    db.session.commit()
    first_buyer, *_rest, last_buyer = sorted(w.buyers.values(), key=lambda b: b.id)
    # The dry run is computed at the request's own time: the data's year is long past it.

    first = client.get("/staff/privacy/retention").get_data(as_text=True)
    second = client.get("/staff/privacy/retention?page=2").get_data(as_text=True)

    assert f"buyer #{first_buyer.id}<" in first and f"buyer #{last_buyer.id}<" not in first
    assert f"buyer #{last_buyer.id}<" in second and f"buyer #{first_buyer.id}<" not in second
    assert "Page 1 of 3" in first and 'href="/staff/privacy/retention?page=2"' in first


def test_apply_twice_changes_nothing_the_second_time():
    build_past_year(YEAR)
    db.session.commit()
    apply(now=AFTER)
    db.session.commit()
    snapshot = _everything()
    audits = db.session.scalar(select(func.count()).select_from(AuditEntry))

    again = apply(now=AFTER + timedelta(days=1))
    db.session.commit()

    assert again.counts() == dict.fromkeys(ALL_KINDS, 0)
    assert db.session.scalar(select(func.count()).select_from(AuditEntry)) == audits
    assert _everything() == snapshot


def test_before_the_period_ends_nothing_is_due():
    build_past_year(YEAR)
    db.session.commit()

    due = plan(now=datetime(2024, 12, 31, 14, 59, tzinfo=UTC))  # 23:59 KST: free text due a minute later

    assert due.counts() == {**dict.fromkeys(ALL_KINDS, 0), "access_log": 3}
    assert plan(now=datetime(2024, 12, 31, 15, 0, tzinfo=UTC)).counts()["free_text"] == 5


def test_a_company_with_a_booking_in_a_later_year_is_kept():
    w = build_past_year(YEAR)
    later = past_round(date(2025, 4, 9))
    kept = make_consultation(later, 0, company=w.companies["c2"], interpreter=w.interpreters["i1"])
    kept.buyer_id = w.buyers["b2"].id
    db.session.commit()

    due = plan(now=AFTER)

    sme_listed = {(i.subject_type, i.subject_id) for i in due.items["sme_accounts"]}
    assert sme_listed == {("company", w.companies["c1"].id), ("user", w.users["u1"].id)}
    assert {i.subject_id for i in due.items["buyer_contacts"]} == {w.buyers["b1"].id, w.buyers["b3"].id}
    assert due.items["interpreter_contacts"] == []
    # The 2022 texts of the active company still go: free text runs per consultation year.
    assert w.bookings["k2"].id in {i.subject_id for i in due.items["free_text"] if i.subject_type == "booking"}
    assert kept.id not in {i.subject_id for i in due.items["free_text"] if i.subject_type == "booking"}


def test_a_recent_login_keeps_the_account_and_its_company():
    w = build_past_year(YEAR)
    w.users["u1"].last_login_at = at(2025, 6)
    lone, _firm = sme(2021, email="old@gamma.example.kr", name="감마")
    db.session.commit()

    due = plan(now=AFTER)

    listed = {(i.subject_type, i.subject_id) for i in due.items["sme_accounts"]}
    assert ("user", w.users["u1"].id) not in listed
    assert ("company", w.companies["c1"].id) not in listed
    assert ("user", lone.id) in listed and ("company", _firm.id) in listed
    assert (
        next(i for i in due.items["sme_accounts"] if i.subject_id == lone.id and i.subject_type == "user").last_year
        == 2021
    )


def test_upcoming_consultations_are_never_touched():
    w = build_past_year(YEAR)
    admin = w.admin
    update_rules(data={**dict.fromkeys(ALL_KINDS, 0), "access_log": 12}, actor=admin)
    old_buyer = buyer(2020, email="future@acme.example.com", country="US", languages=("en",))
    upcoming = upcoming_consultation(buyer_=old_buyer, company=w.companies["c2"])
    upcoming.notes = "Bring the catalogue"
    db.session.commit()

    apply(now=utcnow())
    db.session.commit()

    booking = db.session.get(Booking, upcoming.id)
    assert (booking.products, booking.notes, booking.status) == ("Skin care serum", "Bring the catalogue", "confirmed")
    assert db.session.get(Buyer, old_buyer.id).email == "future@acme.example.com"
    assert db.session.get(Company, w.companies["c2"].id).contact_email == "lee@beta.example.kr"
    # The others from 2022 are anonymised in the same run.
    assert db.session.get(Buyer, w.buyers["b1"].id).email.endswith("@invalid.example")


def test_access_log_rows_within_the_period_stay():
    w = build_past_year(YEAR)
    recent = PersonalDataAccess(
        at=AFTER - timedelta(days=30), actor_id=w.staff.id, subject_type="buyer", subject_id=1, action="view", what="x"
    )
    db.session.add(recent)
    db.session.commit()

    done = apply(now=AFTER)
    db.session.commit()

    assert done.counts()["access_log"] == 3
    assert db.session.scalars(select(PersonalDataAccess.id)).all() == [recent.id]
    entry = db.session.scalar(select(AuditEntry).where(AuditEntry.action == "privacy.purge_access_log"))
    assert entry.after["deleted"] == 3


def test_apply_writes_audit_entries_without_the_removed_values():
    w = build_past_year(YEAR)
    db.session.commit()

    apply(now=AFTER, actor=w.admin)
    db.session.commit()

    entries = db.session.scalars(select(AuditEntry).where(AuditEntry.action == "privacy.anonymise")).all()
    assert sorted((e.object_type, e.object_id) for e in entries) == sorted(
        [("companies", w.companies[c].id) for c in ("c1", "c2")]
        + [("users", w.users[u].id) for u in ("u1", "u2")]
        + [("buyers", b.id) for b in w.buyers.values()]
        + [("interpreters", w.interpreters["i1"].id)]
    )
    assert {e.actor_id for e in entries} == {w.admin.id}
    assert entries[0].before is None and entries[0].after["reason"] == "retention"
    texts = db.session.scalars(select(AuditEntry).where(AuditEntry.action == "privacy.erase_text")).all()
    assert sorted((e.object_type, e.object_id) for e in texts) == sorted(
        [("bookings", b.id) for b in w.bookings.values()]
        + [("interpreter_exceptions", db.session.scalar(select(InterpreterException.id)))]
        + [("waitlist_entries", db.session.scalar(select(WaitlistEntry.id)))]
    )


def test_buyer_registered_long_ago_without_bookings_is_due_by_its_registration_year():
    b = buyer(2021, email="idle@acme.example.com", country="DE", languages=("de",))
    backdate(b, 2021)
    db.session.commit()

    due = plan(now=datetime(2025, 1, 1, tzinfo=UTC))

    assert [(i.subject_id, i.last_year) for i in due.items["buyer_contacts"]] == [(b.id, 2021)]


# --- the job ---------------------------------------------------------------------------------------


def test_privacy_retention_job_anonymises_and_reports_counts():
    w = build_past_year(YEAR)
    db.session.commit()

    outcome = run_job("privacy_retention", now=AFTER)

    assert outcome.status == "succeeded"
    assert outcome.detail == ("sme_accounts 4, buyer_contacts 3, interpreter_contacts 1, free_text 5, access_log 3")
    db.session.expire_all()
    assert db.session.get(Buyer, w.buyers["b2"].id).email == f"deleted-buyer-{w.buyers['b2'].id}@invalid.example"
    assert run_job("privacy_retention", now=AFTER).status == "skipped"


# --- pages -----------------------------------------------------------------------------------------


def test_settings_page_shows_periods_and_the_dry_run(client, login_as):
    w = build_past_year(YEAR)
    db.session.commit()
    login_as(w.admin)

    html = client.get("/staff/privacy/retention").get_data(as_text=True)

    assert 'id="sme_accounts"' in html and 'value="36"' in html
    assert "Contact john" in html  # the buyer due now, by name, before anonymisation
    assert "kim@alpha.example.kr" in html
    # Viewing names of people is logged.
    logged = db.session.scalar(
        select(func.count()).select_from(PersonalDataAccess).where(PersonalDataAccess.what == "privacy.retention")
    )
    assert logged == 8


def test_settings_form_saves_and_shows_field_errors(client, login_as):
    login_as("admin")

    bad = client.submit("/staff/privacy/retention", {**DEFAULT_MONTHS, "free_text": "forever"})
    good = client.submit("/staff/privacy/retention", {**DEFAULT_MONTHS, "free_text": "12"})

    assert bad.status_code == 200
    page = bad.get_data(as_text=True)
    assert "Enter a whole number of months from 0 to 1200." in page
    assert 'aria-invalid="true"' in page
    assert good.status_code == 302
    assert get_rules()["free_text"] == 12


def test_run_now_applies_and_flashes_counts(client, login_as):
    w = build_past_year(2020)
    db.session.commit()
    login_as(w.admin)

    response = client.submit("/staff/privacy/retention/run", {"confirm": "1"}, follow_redirects=True)

    assert response.status_code == 200
    assert "Anonymised: 4 SME accounts and companies, 3 buyers, 1 interpreters" in response.get_data(as_text=True)
    assert db.session.get(Buyer, w.buyers["b1"].id).email.endswith("@invalid.example")
    assert (
        db.session.scalar(select(func.count()).select_from(Anonymisation).where(Anonymisation.actor_id == w.admin.id))
        == 8
    )


def test_settings_page_is_admins_only(client, login_as):
    login_as("staff")

    assert client.get("/staff/privacy/retention").status_code == 404
    assert client.submit("/staff/privacy/retention/run", {}).status_code == 404


def test_sql_text_search_finds_no_email_in_audit_json_after_apply():
    # The audit JSON is searched as the database stores it, not only through the ORM.
    w = build_past_year(YEAR)
    db.session.commit()

    apply(now=AFTER)
    db.session.commit()

    raw = repr(db.session.execute(text("SELECT before, after FROM audit_entries")).all())
    for email in w.emails:
        assert email not in raw


def test_settings_page_in_korean(client, login_as):
    login_as(make_user("admin", locale="ko"))

    html = client.get("/staff/privacy/retention").get_data(as_text=True)
    bad = client.submit("/staff/privacy/retention", {**DEFAULT_MONTHS, "access_log": "x"}).get_data(as_text=True)

    assert "개인정보 보유 기간" in html and "지금 익명 처리될 대상(모의 실행)" in html
    assert "0부터 1200까지의 개월 수를 정수로 입력해 주세요." in bad


def test_settings_page_queries_stay_the_same_for_1_and_many_due_subjects(client, login_as, count_queries):
    login_as("admin")
    buyer(2019, email="one@acme.example.com", country="US", languages=("en",))
    sme(2019, email="one@sme.example.kr", name="기업")
    db.session.commit()
    with count_queries() as one:
        assert client.get("/staff/privacy/retention").status_code == 200
    for n in range(15):
        buyer(2019, email=f"many{n}@acme.example.com", country="JP", languages=("ja",))
        sme(2019, email=f"many{n}@sme.example.kr", name=f"기업{n}")
    db.session.commit()

    with count_queries() as many:
        html = client.get("/staff/privacy/retention").get_data(as_text=True)

    assert "many14@acme.example.com" not in html  # names are shown, e-mails of buyers are not
    assert many.count == one.count


# Each source of free text, and how to erase it in bulk (the others are emptied to test one at a time).
TEXT_SOURCES = {
    "booking": "UPDATE bookings SET products = '', buyer_profile = '', notes = ''",
    "log": "UPDATE consultation_logs SET products_discussed = '', samples_text = '', next_action = '', notes = ''",
    "outcome_note": "UPDATE outcome_changes SET note = ''",
    "contract": "UPDATE contracts SET items = ''",
    "survey": "UPDATE survey_answers SET text = NULL",
}


@pytest.mark.parametrize("kept", [*TEXT_SOURCES, None])
def test_free_text_count_finds_bookings_whose_only_text_is_in_one_source(kept):
    # The count reads each source's booking ids; the listed rows look each text up: they must agree.
    build_past_year(YEAR)
    for source, erase in TEXT_SOURCES.items():
        if source != kept:
            db.session.execute(text(erase))
    db.session.commit()

    due = plan(now=AFTER)
    window = preview(now=AFTER, offset=0, limit=50)

    bookings = [i for i in due.items["free_text"] if i.subject_type == "booking"]
    assert (len(bookings) > 0) == (kept is not None)
    assert window.counts()["free_text"] == len(due.items["free_text"])
    assert window.items["free_text"] == due.items["free_text"]
