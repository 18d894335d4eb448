"""The personal-data access log: rows written by staff views and exports, none for an SME's own data,
constant query counts on the hooked lists, and the admins' log page with its filters and exports."""

from __future__ import annotations

import csv
import io
from datetime import datetime, timedelta

import pytest
from openpyxl import load_workbook
from sqlalchemy import select

from consultroom.db import utcnow
from consultroom.extensions import db
from consultroom.notifications.services import queue_mail_to_user
from consultroom.privacy.access_log import log_access
from consultroom.privacy.models import PersonalDataAccess
from consultroom.timeutil import SEOUL
from tests.factories import make_buyer, make_company, make_interpreter, make_sme_with_company, make_user


def _rows() -> list[tuple]:
    return [
        (r.actor_id, r.subject_type, r.subject_id, r.action, r.what, r.via)
        for r in db.session.scalars(select(PersonalDataAccess).order_by(PersonalDataAccess.id))
    ]


def test_log_access_writes_one_row_per_subject_in_one_statement(count_queries):
    staff = make_user("staff")
    companies = [make_company() for _ in range(30)]

    with count_queries() as q:
        written = log_access(
            actor=staff, subjects=[("company", c.id) for c in companies], action="view", what="companies.index"
        )

    assert written == 30
    assert q.count == 1
    assert _rows()[0] == (staff.id, "company", companies[0].id, "view", "companies.index", "web")
    assert len(_rows()) == 30


def test_log_access_skips_smes_the_actors_own_account_and_repeats():
    staff = make_user("staff")
    sme, company = make_sme_with_company()

    by_sme = log_access(actor=sme, subjects=[("company", company.id)], action="view", what="companies.detail")
    by_staff = log_access(
        actor=staff,
        subjects=[("user", staff.id), ("user", sme.id), ("user", sme.id)],
        action="export",
        what="admin.users",
        via="api",
    )

    assert (by_sme, by_staff) == (0, 1)
    assert _rows() == [(staff.id, "user", sme.id, "export", "admin.users", "api")]


def test_log_access_refuses_unknown_kinds():
    staff = make_user("staff")

    with pytest.raises(ValueError):
        log_access(actor=staff, subjects=[("robot", 1)], action="view", what="x")
    with pytest.raises(ValueError):
        log_access(actor=staff, subjects=[("user", 1)], action="read", what="x")


def test_staff_viewing_a_company_is_logged(client, login_as):
    _owner, company = make_sme_with_company()
    staff = login_as("staff")

    client.get(f"/companies/{company.id}")
    client.get(f"/companies/{company.id}/edit")

    assert _rows() == [
        (staff.id, "company", company.id, "view", "companies.detail", "web"),
        (staff.id, "company", company.id, "view", "companies.edit", "web"),
    ]


def test_an_sme_viewing_its_own_company_is_not_logged(client, login_as):
    owner, company = make_sme_with_company()
    login_as(owner)

    assert client.get(f"/companies/{company.id}").status_code == 200
    assert client.get(f"/companies/{company.id}/edit").status_code == 200

    assert _rows() == []


def test_staff_viewing_buyers_logs_each_buyer_shown(client, login_as):
    first, second = make_buyer(company_name="Acme"), make_buyer(company_name="Zenith")
    staff = login_as("staff")

    client.get("/staff/buyers")
    client.get(f"/staff/buyers/{first.id}")

    assert _rows() == [
        (staff.id, "buyer", first.id, "view", "buyers.index", "web"),
        (staff.id, "buyer", second.id, "view", "buyers.index", "web"),
        (staff.id, "buyer", first.id, "view", "buyers.detail", "web"),
    ]


def test_interpreter_detail_and_report_export_are_logged(client, login_as):
    interpreter = make_interpreter()
    staff = login_as("staff")

    client.get(f"/staff/interpreters/{interpreter.id}")
    response = client.get("/staff/interpreters/report.csv")

    assert response.status_code == 200
    assert _rows() == [
        (staff.id, "interpreter", interpreter.id, "view", "interpreters.detail", "web"),
        (staff.id, "interpreter", interpreter.id, "export", "interpreters.report_csv", "web"),
    ]


def test_admin_users_list_logs_the_other_accounts_not_the_admins_own(client, login_as):
    sme = make_user("sme", email="a-sme@example.kr")
    admin = login_as("admin")

    client.get("/admin/users")

    assert _rows() == [(admin.id, "user", sme.id, "view", "admin.users", "web")]


def test_outbox_logs_the_recipients_shown(client, login_as):
    sme = make_user("sme")
    queue_mail_to_user(user=sme, template="confirm_email", context={"link": "http://localhost/c"})
    admin = login_as("admin")

    client.get("/admin/outbox")

    assert _rows() == [(admin.id, "user", sme.id, "view", "notifications.outbox", "web")]


def _page_queries(client, count_queries, url: str) -> int:
    client.get(url)  # warm caches (translations, settings) outside the count
    with count_queries() as q:
        assert client.get(url).status_code == 200
    return q.count


def test_companies_index_query_count_is_the_same_for_1_and_20_rows(client, login_as, count_queries):
    login_as("staff")
    make_company()
    db.session.commit()
    one = _page_queries(client, count_queries, "/companies")
    for _ in range(19):
        make_company()
    db.session.commit()

    many = _page_queries(client, count_queries, "/companies")

    assert one == many


def test_admin_users_query_count_is_the_same_for_1_and_30_rows(client, login_as, count_queries):
    login_as("admin")
    make_user("sme")
    db.session.commit()
    one = _page_queries(client, count_queries, "/admin/users")
    for _ in range(29):
        make_user("sme")
    db.session.commit()

    many = _page_queries(client, count_queries, "/admin/users")

    assert one == many


# --- the admins' log page ----------------------------------------------------------------------------


@pytest.fixture
def logged():
    staff = make_user("staff", name="Park Staff", email="park@example.kr")
    other_staff = make_user("staff", name="Choi Staff", email="choi@example.kr")
    company, buyer = make_company(), make_buyer()
    log_access(actor=staff, subjects=[("company", company.id)], action="view", what="companies.detail")
    log_access(actor=other_staff, subjects=[("buyer", buyer.id)], action="export", what="buyers.index", via="api")
    old = PersonalDataAccess(
        at=utcnow() - timedelta(days=40),
        actor_id=staff.id,
        subject_type="buyer",
        subject_id=buyer.id,
        action="view",
        what="=cmd|' /C calc'!A0",
        via="web",
    )
    db.session.add(old)
    db.session.commit()
    return {"staff": staff, "other_staff": other_staff, "company": company, "buyer": buyer}


def test_admin_reads_the_log_newest_first(client, login_as, logged):
    login_as("admin")

    html = client.get("/admin/access-log/").get_data(as_text=True)

    assert html.count("<h1") == 1
    assert html.index("buyers.index") < html.index("companies.detail") < html.index("=cmd")
    assert "park@example.kr" in html and "choi@example.kr" in html
    assert _rows()[-1][4] == "=cmd|' /C calc'!A0"  # reading the log wrote nothing


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ({"subject_type": "buyer"}, ["buyers.index", "=cmd"]),
        ({"action": "export"}, ["buyers.index"]),
        ({"subject_type": "company", "subject_id": "{company}"}, ["companies.detail"]),
        ({"actor": "{staff}"}, ["companies.detail", "=cmd"]),
        ({"start": "{today}"}, ["buyers.index", "companies.detail"]),
        ({"end": "{forty_days_ago}"}, ["=cmd"]),
    ],
)
def test_admin_filters_the_log(client, login_as, logged, query, expected):
    login_as("admin")
    today = utcnow().astimezone(SEOUL).date()
    values = {
        "company": logged["company"].id,
        "staff": logged["staff"].id,
        "today": today.isoformat(),
        "forty_days_ago": (today - timedelta(days=40)).isoformat(),
    }

    html = client.get("/admin/access-log/", query_string={k: v.format(**values) for k, v in query.items()}).get_data(
        as_text=True
    )

    shown = [what for what in ("buyers.index", "companies.detail", "=cmd") if what in html]
    assert shown == expected


@pytest.mark.parametrize(
    ("query", "field", "message"),
    [
        ({"start": "2026-13-01"}, "start", "Give the date as YYYY-MM-DD."),
        ({"start": "2026-03-10", "end": "2026-03-01"}, "end", "The end date is before the start date."),
        ({"subject_id": "abc"}, "subject_id", "Enter a whole number."),
        ({"subject_type": "robot"}, "subject_type", "Choose a kind of person from the list."),
        ({"actor": "999999"}, "actor", "Choose a staff member from the list."),
    ],
)
def test_bad_filters_are_named_beside_their_field(client, login_as, logged, query, field, message):
    login_as("admin")

    response = client.get("/admin/access-log/", query_string=query)

    html = response.get_data(as_text=True)
    assert response.status_code == 200
    assert f'id="{field}-error"' in html
    assert message in html
    assert f'href="#{field}"' in html  # the summary links to the field
    assert client.get("/admin/access-log/export.csv", query_string=query).status_code == 422


def test_admin_exports_the_filtered_log_as_csv_and_xlsx(client, login_as, logged):
    login_as("admin")

    as_csv = client.get("/admin/access-log/export.csv", query_string={"subject_type": "buyer"})
    as_xlsx = client.get("/admin/access-log/export.xlsx", query_string={"subject_type": "buyer"})

    assert as_csv.status_code == 200
    assert as_csv.headers["Content-Disposition"].startswith('attachment; filename="access-log-')
    rows = list(csv.reader(io.StringIO(as_csv.get_data(as_text=True).lstrip("\ufeff"))))
    assert rows[0] == [
        "When (Korea time)",
        "Staff member",
        "Staff e-mail",
        "Kind of person",
        "Person's number",
        "Action",
        "What",
        "Channel",
    ]
    buyer_id = str(logged["buyer"].id)
    assert [r[1:] for r in rows[1:]] == [
        ["Choi Staff", "choi@example.kr", "Buyer", buyer_id, "Exported", "buyers.index", "api"],
        ["Park Staff", "park@example.kr", "Buyer", buyer_id, "Viewed", "'=cmd|' /C calc'!A0", "web"],
    ]
    sheet = load_workbook(io.BytesIO(as_xlsx.data)).active
    values = list(sheet.iter_rows(min_row=2, values_only=True))
    assert len(values) == 2
    assert isinstance(values[0][0], datetime)
    assert values[0][4] == logged["buyer"].id  # a number, not text
    assert values[1][6] == "'=cmd|' /C calc'!A0"


@pytest.mark.parametrize("role", ["sme", "staff"])
def test_only_admins_see_the_log(client, login_as, logged, role):
    login_as(role)

    for url in ("/admin/access-log/", "/admin/access-log/export.csv", "/admin/access-log/export.xlsx"):
        assert client.get(url).status_code == 404


def test_log_exports_send_the_same_queries_for_2_and_40_rows_of_many_actors(client, login_as, count_queries):
    login_as("admin")
    urls = ("/admin/access-log/export.csv", "/admin/access-log/export.xlsx")

    def add(count: int) -> None:
        for n in range(count):
            # every other row by its own staff member, the rest by a deleted account (no actor)
            actor = make_user("staff") if n % 2 else None
            db.session.add(
                PersonalDataAccess(at=utcnow(), actor_id=actor.id if actor else None, subject_type="company",
                                   subject_id=n + 1, action="view", what="companies.detail", via="web")
            )  # fmt: skip
        db.session.commit()

    add(2)
    few = [_page_queries(client, count_queries, url) for url in urls]
    add(38)
    many = [_page_queries(client, count_queries, url) for url in urls]

    assert few == many
    rows = list(csv.reader(io.StringIO(client.get(urls[0]).get_data(as_text=True).lstrip("\ufeff"))))
    assert len(rows) == 41
    assert sum(1 for r in rows[1:] if r[1] == "" and r[2] == "") == 20  # rows without an actor stay, empty


def test_the_actor_filter_offers_staff_and_everyone_already_in_the_log():
    """The choices come from the log's actors by a skip scan of its index (not a DISTINCT over every
    row): a former staff member stays searchable, an SME never in the log is not offered."""
    from consultroom.privacy.access_log import staff_users

    staff, admin, former, sme = make_user("staff"), make_user("admin"), make_user("staff"), make_user("sme")
    for actor, company in ((former, make_company()), (staff, make_company()), (former, make_company())):
        log_access(actor=actor, subjects=[("company", company.id)], action="view", what="companies.detail")
    former.role = "sme"
    db.session.flush()

    assert {u.id for u in staff_users()} == {staff.id, admin.id, former.id}
    assert sme.id not in {u.id for u in staff_users()}
