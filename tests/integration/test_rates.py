"""The exchange-rate table: admin pages, hand edits, the CSV import with its preview, and audit."""

from __future__ import annotations

import io
import re
from datetime import date
from decimal import Decimal

import pytest
from flask_babel import force_locale
from sqlalchemy import func, select

from consultroom.audit.models import AuditEntry
from consultroom.errors import Conflict, Invalid
from consultroom.extensions import db
from consultroom.outcomes import rates, services
from consultroom.outcomes.models import ExchangeRate
from tests.factories import make_rate, make_user
from tests.undone import half_write_kept, writes_then_refuses


@pytest.fixture(autouse=True)
def _english_messages(app):
    """Service messages outside a request follow the default locale (Korean); read them in English."""
    with force_locale("en"):
        yield


def _rates() -> list[tuple[str, str, str]]:
    return [
        (r.currency, r.day.isoformat(), str(r.krw_per_unit))
        for r in db.session.scalars(select(ExchangeRate).order_by(ExchangeRate.currency, ExchangeRate.day))
    ]


def _upload(client, content: bytes, name: str = "rates.csv"):
    return client.post(
        "/admin/rates/import",
        data={"file": (io.BytesIO(content), name), "csrf_token": client.csrf_token()},
        content_type="multipart/form-data",
    )


def _hidden(html: str, name: str) -> str:
    match = re.search(rf'<input[^>]*name="{name}"[^>]*value="([^"]*)"', html, re.S) or re.search(
        rf'<input[^>]*value="([^"]*)"[^>]*name="{name}"', html, re.S
    )
    assert match, name
    from html import unescape

    return unescape(match.group(1))


def _problems(html: str) -> list[str]:
    return [re.sub(r"\s+", " ", p).strip() for p in re.findall(r'<li class="import-problem">(.*?)</li>', html, re.S)]


# --- hand-kept rates -----------------------------------------------------------------------------


def test_admin_adds_and_edits_a_rate_and_both_are_audited(client, login_as):
    admin = login_as("admin")
    response = client.submit("/admin/rates/new", {"currency": "usd", "day": "2026-03-06", "krw_per_unit": "1,387.25"})
    assert response.status_code == 302
    rate = db.session.scalar(select(ExchangeRate))
    assert _rates() == [("USD", "2026-03-06", "1387.250000")]
    response = client.submit(
        f"/admin/rates/{rate.id}/edit", {"currency": "USD", "day": "2026-03-06", "krw_per_unit": "1388"}
    )
    assert response.status_code == 302
    db.session.expire_all()
    assert _rates() == [("USD", "2026-03-06", "1388.000000")]
    entries = db.session.scalars(
        select(AuditEntry).where(AuditEntry.object_type == "exchange_rates").order_by(AuditEntry.id)
    ).all()
    assert [(e.action, e.actor_id, e.before, e.after) for e in entries] == [
        (
            "exchange_rate.create",
            admin.id,
            None,
            {"currency": "USD", "day": "2026-03-06", "krw_per_unit": "1387.250000"},
        ),
        ("exchange_rate.update", admin.id, {"krw_per_unit": "1387.250000"}, {"krw_per_unit": "1388.000000"}),
    ]


def test_rate_list_filters_by_currency(client, login_as):
    make_rate("USD", date(2026, 3, 6), "1387.25")
    make_rate("JPY", date(2026, 3, 6), "9.1234")
    login_as("admin")
    html = client.get("/admin/rates?currency=jpy").get_data(as_text=True)
    assert html.count('class="rate-row"') == 1 and "JPY" in html


def test_rate_pages_are_for_admins_only(client, login_as):
    login_as("staff")
    assert client.get("/admin/rates").status_code == 404
    assert client.get("/admin/rates/import").status_code == 404


@pytest.mark.parametrize(
    ("currency", "value", "fields"),
    [
        ("XYZ", "10", {"currency": ["Not an ISO 4217 currency code (e.g. USD, JPY, EUR)."]}),
        ("KRW", "1", {"currency": ["KRW is the base currency; it needs no rate."]}),
        ("USD", "-1", {"krw_per_unit": ["Enter a positive number of won, e.g. 1387.25."]}),
        ("USD", "1.1234567", {"krw_per_unit": ["At most 6 decimals."]}),
    ],
)
def test_bad_hand_rates_are_refused_naming_the_field(currency, value, fields):
    with pytest.raises(Invalid) as exc:
        services.save_rate(
            rate=None, currency=currency, day=date(2026, 3, 6), krw_per_unit=value, actor=make_user("admin")
        )
    assert exc.value.fields == fields


def test_a_second_rate_for_the_same_currency_and_day_is_refused():
    admin = make_user("admin")
    services.save_rate(rate=None, currency="USD", day=date(2026, 3, 6), krw_per_unit="1387.25", actor=admin)
    with pytest.raises(Conflict) as exc:
        services.save_rate(rate=None, currency="USD", day=date(2026, 3, 6), krw_per_unit="1390", actor=admin)
    assert exc.value.fields == {"day": ["There is already a USD rate for 2026-03-06."]}


# --- CSV import ----------------------------------------------------------------------------------


def test_import_preview_then_confirm_writes_every_row_and_audits_once(client, login_as):
    admin = login_as("admin")
    csv_bytes = b"\xef\xbb\xbfdate,currency,krw_per_unit\n2026-03-06,USD,1387.25\n2026-03-06,jpy,9.1234\n"
    preview = _upload(client, csv_bytes)
    html = preview.get_data(as_text=True)
    assert preview.status_code == 200
    assert "2 new rates, 0 changes to existing rates, 0 unchanged." in html
    assert _rates() == []  # the preview writes nothing
    response = client.submit(
        "/admin/rates/import/confirm", {"payload": _hidden(html, "payload"), "digest": _hidden(html, "digest")}
    )
    assert response.status_code == 302
    assert _rates() == [("JPY", "2026-03-06", "9.123400"), ("USD", "2026-03-06", "1387.250000")]
    entry = db.session.scalar(select(AuditEntry).where(AuditEntry.action == "exchange_rates.import"))
    assert (entry.actor_id, entry.before, entry.after) == (
        admin.id,
        None,
        {"rows": 2, "new": 2, "updated": 0, "unchanged": 0, "changes": {}},
    )


def test_import_names_every_bad_row_and_imports_nothing(client, login_as):
    login_as("admin")
    csv_bytes = (
        b"date,currency,krw_per_unit\n"
        b"2026-03-06,USD,1387.25\n"
        b"2026-13-01,USD,1387.25\n"
        b"2026-03-06,XYZ,abc\n"
        b"2026-03-06,usd,1390\n"
        b"2026-03-09,KRW,1\n"
    )
    html = _upload(client, csv_bytes).get_data(as_text=True)
    assert _problems(html) == [
        "Row 3, column date: Not a date in the form YYYY-MM-DD.",
        "Row 4, column currency: Not an ISO 4217 currency code (e.g. USD, JPY, EUR).",
        "Row 4, column krw_per_unit: Enter a positive number of won, e.g. 1387.25.",
        "Row 5, column date: USD on 2026-03-06 is already in row 2.",
        "Row 6, column currency: KRW is the base currency; it needs no rate.",
    ]
    assert 'name="payload"' not in html  # no way to confirm a file with errors
    assert _rates() == []


def test_confirming_a_file_with_bad_rows_writes_nothing():
    text = "date,currency,krw_per_unit\n2026-03-06,USD,1387.25\n2026-03-06,USD,1387.25\n"
    result = rates.parse_rates_csv(text)
    with pytest.raises(Invalid) as exc:
        rates.apply_import(text=text, digest=result.digest(), update_existing=True, actor=make_user("admin"))
    assert exc.value.message == "The file has errors; nothing was imported."
    assert _rates() == []


def test_import_reads_a_korean_excel_cp949_file(client, login_as):
    login_as("admin")
    csv_bytes = "date,currency,krw_per_unit,비고\n2026-03-06,USD,1387.25,하나은행 매매기준율\n".encode("cp949")
    html = _upload(client, csv_bytes).get_data(as_text=True)
    assert "1 new rates, 0 changes to existing rates, 0 unchanged." in html
    client.submit(
        "/admin/rates/import/confirm", {"payload": _hidden(html, "payload"), "digest": _hidden(html, "digest")}
    )
    assert _rates() == [("USD", "2026-03-06", "1387.250000")]


def test_import_updates_existing_rates_only_when_the_admin_confirms(client, login_as):
    make_rate("USD", date(2026, 3, 6), "1380")
    login_as("admin")
    csv_bytes = b"date,currency,krw_per_unit\n2026-03-06,USD,1387.25\n2026-03-09,USD,1390\n"
    html = _upload(client, csv_bytes).get_data(as_text=True)
    assert "1 new rates, 1 changes to existing rates, 0 unchanged." in html
    form = {"payload": _hidden(html, "payload"), "digest": _hidden(html, "digest")}
    refused = client.submit("/admin/rates/import/confirm", form)
    assert refused.status_code == 422
    assert "1 row would change an existing rate. Tick the box to update it." in refused.get_data(as_text=True)
    assert _rates() == [("USD", "2026-03-06", "1380.000000")]
    accepted = client.submit("/admin/rates/import/confirm", {**form, "update_existing": "y"})
    assert accepted.status_code == 302
    db.session.expire_all()
    assert _rates() == [("USD", "2026-03-06", "1387.250000"), ("USD", "2026-03-09", "1390.000000")]
    entry = db.session.scalar(select(AuditEntry).where(AuditEntry.action == "exchange_rates.import"))
    assert (entry.before, entry.after) == (
        None,
        {
            "rows": 2,
            "new": 1,
            "updated": 1,
            "unchanged": 0,
            "changes": {"USD 2026-03-06": ["1380.000000", "1387.250000"]},
        },
    )


def test_import_refuses_a_confirm_after_the_table_changed():
    admin = make_user("admin")
    text = "date,currency,krw_per_unit\n2026-03-06,USD,1387.25\n"
    digest = rates.plan_import(rates.parse_rates_csv(text)).digest()
    make_rate("USD", date(2026, 3, 6), "1380")
    with pytest.raises(Invalid):
        rates.apply_import(text=text, digest=digest, update_existing=True, actor=admin)
    assert _rates() == [("USD", "2026-03-06", "1380.000000")]
    assert db.session.scalar(select(func.count(AuditEntry.id))) == 0


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (b"", "The file is empty."),
        (b"day,cur,rate\n2026-03-06,USD,1\n", "The first row must name the columns date, currency, krw_per_unit"),
        (b"date,currency,krw_per_unit\n", "The file has no rows."),
    ],
)
def test_import_file_problems_are_named(client, login_as, content, message):
    login_as("admin")
    html = _upload(client, content).get_data(as_text=True)
    assert message in html
    assert _rates() == []


def test_rates_are_read_back_exactly():
    make_rate("IDR", date(2026, 3, 6), "0.086712")
    make_rate("KWD", date(2026, 3, 6), "999999.123456")
    db.session.commit()
    db.session.expire_all()
    assert {r.currency: r.krw_per_unit for r in db.session.scalars(select(ExchangeRate))} == {
        "IDR": Decimal("0.086712"),
        "KWD": Decimal("999999.123456"),
    }


def test_a_refused_import_keeps_nothing_written_before_the_refusal(client, login_as, monkeypatch):
    login_as("admin")
    html = _upload(client, b"date,currency,krw_per_unit\n2026-03-06,USD,1387.25\n").get_data(as_text=True)
    monkeypatch.setattr(rates, "apply_import", writes_then_refuses(Conflict("The table changed.")))

    response = client.submit(
        "/admin/rates/import/confirm", {"payload": _hidden(html, "payload"), "digest": _hidden(html, "digest")}
    )

    # The preview again, with the message.
    assert response.status_code == 422 and "The table changed." in response.get_data(as_text=True)
    assert _rates() == [] and not half_write_kept()
