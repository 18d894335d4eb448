"""Buyer registry pages and services: create, edit, deactivate, search, history, import with preview."""

from __future__ import annotations

import html as html_module
import io
import re
from datetime import time, timedelta

import pytest
from flask_babel import force_locale
from openpyxl import Workbook
from sqlalchemy import func, select

from consultroom.audit.models import AuditEntry
from consultroom.buyers import importing
from consultroom.buyers.models import Buyer, BuyerImportBatch
from consultroom.buyers.queries import buyer_history
from consultroom.buyers.services import create_buyer, set_buyer_active, update_buyer
from consultroom.errors import Conflict, Invalid, NotAllowed
from consultroom.extensions import db
from tests.factories import make_sme_with_company, make_user

FORM = {
    "company_name": "Sunrise Cosmetics Inc.",
    "country": "US",
    "contact_name": "Jane Roe",
    "email": "Jane.Roe@Sunrise.example.com",
    "phone": "+1 212 555 0100",
    "timezone": "America/New_York",
    "languages": ["en", "es"],
    "interest_codes": "33, 3304, 3304.99",
    "keywords": "skin care, K-beauty",
    "size": "medium",
    "source": "KOTRA",
    "meet_from": "08:00",
    "meet_to": "16:30",
    "meet_days": ["0", "1", "2", "3"],
    "notes": "Prefers morning calls",
}


def make_buyer(**fields) -> Buyer:
    """A buyer through the real service (an actor is needed for the audit entry)."""
    actor = fields.pop("actor", None) or make_user("staff")
    n = db.session.scalar(select(func.count(Buyer.id))) + 1
    data = {
        "company_name": f"Buyer Company {n}",
        "country": "US",
        "email": f"buyer{n}@buyers.example.com",
        "timezone": "America/New_York",
        **fields,
    }
    return create_buyer(data=data, actor=actor)


def _field_error(html: str, field: str) -> str:
    match = re.search(rf'id="{field}-error"[^>]*>(.*?)</div>\s*</div>', html, re.S)
    assert match, f"no error shown beside {field}"
    return html_module.unescape(re.sub(r"<[^>]+>", " ", match.group(1)).strip())


def _count(model=Buyer) -> int:
    return db.session.scalar(select(func.count()).select_from(model))


def _audit(action: str) -> list[AuditEntry]:
    return list(db.session.scalars(select(AuditEntry).where(AuditEntry.action == action).order_by(AuditEntry.id)))


# --- create, edit, deactivate --------------------------------------------------------------------


def test_staff_creates_buyer_normalised_and_audited(client, login_as):
    staff = login_as("staff")
    response = client.submit("/staff/buyers/new", FORM)
    assert response.status_code == 302
    buyer = db.session.scalar(select(Buyer))
    assert response.headers["Location"] == f"/staff/buyers/{buyer.id}"
    assert buyer.email == "jane.roe@sunrise.example.com"
    assert buyer.company_key == "sunrise cosmetics inc."
    assert buyer.interest_codes == ["33", "3304", "330499"]
    assert buyer.languages == ["en", "es"]
    assert (buyer.meet_from, buyer.meet_to, buyer.meet_days) == (time(8, 0), time(16, 30), [0, 1, 2, 3])
    assert buyer.active is True
    [entry] = _audit("buyer.create")
    assert (entry.actor_id, entry.object_type, entry.object_id) == (staff.id, "buyers", buyer.id)
    assert entry.after["email"] == "jane.roe@sunrise.example.com"
    assert entry.after["interest_codes"] == ["33", "3304", "330499"]
    page = client.get(f"/staff/buyers/{buyer.id}").get_data(as_text=True)
    assert "Sunrise Cosmetics Inc." in page and "America/New_York" in page and "08:00–16:30" in page


def test_create_buyer_infers_time_zone_from_a_one_zone_country(app):
    buyer = make_buyer(country="Vietnam", timezone="")
    assert (buyer.country, buyer.timezone) == ("VN", "Asia/Ho_Chi_Minh")
    assert (buyer.meet_from, buyer.meet_to, buyer.meet_days, buyer.size) == (
        time(9),
        time(18),
        [0, 1, 2, 3, 4],
        "unknown",
    )


@pytest.mark.parametrize(
    ("field", "value", "message"),
    [
        ("company_name", "", "This field is required."),
        ("email", "jane@", "Not a valid e-mail address."),
        ("email", "", "This field is required."),
        ("country", "XX", "Not a known country: XX"),
        ("timezone", "Mars/Olympus", "Not an IANA time zone such as Europe/Berlin: Mars/Olympus"),
        ("interest_codes", "33, 7701, 12345", "Not an HS code of 2, 4 or 6 digits: 7701, 12345"),
        ("meet_from", "25:00", "Not a time of day such as 09:00."),
        ("meet_to", "08:00", "The meeting hours must not start and end at the same time."),
        ("size", "huge", "Choose small, medium, large or unknown."),
        ("languages", ["en", "klingon"], "Not a known language: klingon"),
    ],
)
def test_create_buyer_bad_field_error_beside_field_and_nothing_saved(client, login_as, field, value, message):
    login_as("staff")
    response = client.submit("/staff/buyers/new", {**FORM, field: value})
    html = response.get_data(as_text=True)
    assert response.status_code == 200
    assert _field_error(html, field) == message
    assert _count() == 0
    assert "Jane Roe" in html  # what was typed elsewhere is kept


def test_buyer_form_reports_every_bad_field_in_one_pass(client, login_as):
    """Issue 15 item 7: a tampered weekday, field errors and the schema-wide checks show together."""
    login_as("staff")
    form = {**FORM, "email": "jane@", "timezone": "", "meet_to": "08:00", "meet_days": ["9"], "size": "huge"}

    html = client.submit("/staff/buyers/new", form).get_data(as_text=True)

    assert _field_error(html, "email") == "Not a valid e-mail address."
    assert _field_error(html, "timezone") == "Choose the buyer's time zone (it cannot be told from the country)."
    assert _field_error(html, "meet_to") == "The meeting hours must not start and end at the same time."
    assert _field_error(html, "meet_days") == "Give weekdays such as Mon-Fri or 0,1,2 (0 is Monday)."
    assert _field_error(html, "size") == "Choose small, medium, large or unknown."
    assert _count() == 0


def test_create_buyer_us_without_time_zone_asks_for_one(client, login_as):
    login_as("staff")
    html = client.submit("/staff/buyers/new", {**FORM, "timezone": ""}).get_data(as_text=True)
    assert _field_error(html, "timezone") == "Choose the buyer's time zone (it cannot be told from the country)."


def test_clean_buyer_data_names_every_bad_field_at_once(app):
    staff = make_user("staff")
    with pytest.raises(Invalid) as caught:
        create_buyer(data={"company_name": "", "country": "ZZ", "email": "x", "colour": "red"}, actor=staff)
    assert sorted(caught.value.fields) == ["colour", "company_name", "country", "email"]


def test_duplicate_email_refused_naming_the_registered_buyer(client, login_as):
    existing = make_buyer(email="jane.roe@sunrise.example.com")
    login_as("staff")
    response = client.submit("/staff/buyers/new", {**FORM, "email": "JANE.ROE@sunrise.example.com"})
    assert _field_error(response.get_data(as_text=True), "email") == (
        f"A buyer with this e-mail address is already registered (buyer no. {existing.id})."
    )
    assert _count() == 1


def test_duplicate_company_in_same_country_refused_ignoring_case_and_spaces(app):
    staff = make_user("staff")
    existing = make_buyer(company_name="Sunrise Cosmetics Inc.", country="US", actor=staff)
    with pytest.raises(Conflict) as caught, force_locale("en"):  # outside a request the default is Korean
        make_buyer(company_name="  sunrise   COSMETICS inc. ", country="us", actor=staff)
    assert caught.value.fields == {
        "company_name": [f"This company is already registered in this country (buyer no. {existing.id})."]
    }
    other_country = make_buyer(company_name="Sunrise Cosmetics Inc.", country="CA", timezone="America/Toronto")
    assert other_country.id != existing.id


def test_staff_edits_buyer_with_before_and_after_in_audit(client, login_as):
    buyer = make_buyer(company_name="Old Name", keywords="tea")
    staff = login_as("staff")
    form = client.get(f"/staff/buyers/{buyer.id}/edit").get_data(as_text=True)
    assert 'value="Old Name"' in form
    data = {**FORM, "email": buyer.email, "company_name": "New Name", "keywords": "coffee"}
    assert client.submit(f"/staff/buyers/{buyer.id}/edit", data).status_code == 302
    db.session.refresh(buyer)
    assert (buyer.company_name, buyer.company_key, buyer.keywords) == ("New Name", "new name", "coffee")
    [entry] = _audit("buyer.update")
    assert entry.actor_id == staff.id
    assert entry.before["company_name"] == "Old Name" and entry.after["company_name"] == "New Name"
    assert entry.before["keywords"] == "tea" and entry.after["keywords"] == "coffee"
    assert "email" not in entry.after  # only changed keys are kept


def test_edit_to_another_buyers_email_is_refused(app):
    a = make_buyer(email="a@buyers.example.com")
    b = make_buyer(email="b@buyers.example.com")
    with pytest.raises(Conflict) as caught:
        update_buyer(buyer=b, data={"email": "A@buyers.example.com"}, actor=make_user("staff"), partial=True)
    assert str(a.id) in caught.value.fields["email"][0]


def test_update_without_change_writes_no_audit_entry(app):
    buyer = make_buyer()
    update_buyer(buyer=buyer, data={"company_name": buyer.company_name}, actor=make_user("staff"), partial=True)
    assert _audit("buyer.update") == []


def test_staff_deactivates_and_reactivates_buyer_with_audit(client, login_as):
    buyer = make_buyer(company_name="Fading Imports")
    login_as("staff")
    assert client.submit(f"/staff/buyers/{buyer.id}/active", {"active": "0", "confirm": "1"}).status_code == 302
    db.session.refresh(buyer)
    assert buyer.active is False
    assert "Fading Imports" not in client.get("/staff/buyers").get_data(as_text=True)
    assert "Fading Imports" in client.get("/staff/buyers?status=inactive").get_data(as_text=True)
    assert client.submit(f"/staff/buyers/{buyer.id}/active", {"active": "1"}).status_code == 302
    db.session.refresh(buyer)
    assert buyer.active is True
    assert [(e.before, e.after) for e in _audit("buyer.deactivate")] == [({"active": True}, {"active": False})]
    assert [(e.before, e.after) for e in _audit("buyer.reactivate")] == [({"active": False}, {"active": True})]


def test_set_active_without_a_value_changes_nothing(client, login_as):
    buyer = make_buyer()
    login_as("staff")
    assert client.submit(f"/staff/buyers/{buyer.id}/active", {}).status_code == 302
    db.session.refresh(buyer)
    assert buyer.active is True
    assert _audit("buyer.deactivate") == []


def test_services_refuse_non_staff_actor(app):
    sme, _company = make_sme_with_company()
    buyer = make_buyer()
    with pytest.raises(NotAllowed):
        create_buyer(data=FORM, actor=sme)
    with pytest.raises(NotAllowed):
        set_buyer_active(buyer=buyer, active=False, actor=sme)


# --- list, search, history -----------------------------------------------------------------------


def _names(client, query: str = "") -> list[str]:
    html = client.get("/staff/buyers" + query).get_data(as_text=True)
    return re.findall(r'<a href="/staff/buyers/\d+">([^<]+)</a>', html)


def test_staff_list_search_and_filters(client, login_as):
    make_buyer(company_name="Alpha Beauty", country="US", interest_codes="3304", languages=["en"], keywords="serum")
    make_buyer(
        company_name="Beta Foods",
        country="JP",
        timezone="Asia/Tokyo",
        interest_codes="33",
        languages=["ja"],
        contact_name="Sato Kenji",
    )
    make_buyer(
        company_name="Gamma Machines", country="DE", timezone="", interest_codes="848340", languages=["de", "en"]
    )
    login_as("staff")
    assert _names(client) == ["Alpha Beauty", "Beta Foods", "Gamma Machines"]
    assert _names(client, "?q=serum") == ["Alpha Beauty"]
    assert _names(client, "?q=sato") == ["Beta Foods"]
    assert _names(client, "?q=buyers.example") == ["Alpha Beauty", "Beta Foods", "Gamma Machines"]
    assert _names(client, "?country=jp") == ["Beta Foods"]
    # 330499 is under 3304 (Alpha) and chapter 33 (Beta); 33 finds both, 8483 only Gamma.
    assert _names(client, "?hs=330499") == ["Alpha Beauty", "Beta Foods"]
    assert _names(client, "?hs=33") == ["Alpha Beauty", "Beta Foods"]
    assert _names(client, "?hs=8483") == ["Gamma Machines"]
    assert _names(client, "?language=en") == ["Alpha Beauty", "Gamma Machines"]
    assert _names(client, "?q=%25") == []  # LIKE wildcards are literal
    assert _names(client, "?status=bogus") == ["Alpha Beauty", "Beta Foods", "Gamma Machines"]


def test_staff_list_paginates(client, login_as):
    staff = make_user("staff")
    for i in range(30):
        make_buyer(company_name=f"Buyer {i:02d}", actor=staff)
    login_as("staff")
    assert len(_names(client)) == 25
    assert len(_names(client, "?page=2")) == 5
    assert client.get("/staff/buyers?page=99").status_code == 200
    assert client.get("/staff/buyers?page=-1").status_code == 200


def test_staff_list_query_count_is_the_same_for_1_and_30_rows(client, login_as, count_queries):
    staff = make_user("staff")
    make_buyer(actor=staff, languages=["en"], interest_codes="3304")
    login_as("staff")
    client.get("/staff/buyers")  # warm-up
    with count_queries() as one:
        assert client.get("/staff/buyers").status_code == 200
    for i in range(29):
        country = ("US", "JP", "DE")[i % 3]
        make_buyer(
            actor=staff, country=country, timezone="" if country != "US" else "America/Denver", languages=["en", "ja"]
        )
    db.session.commit()
    with count_queries() as many:
        assert client.get("/staff/buyers").status_code == 200
    assert one.count == many.count


def test_buyer_detail_shows_history_of_consultations(client, login_as):
    buyer = make_buyer()
    login_as("staff")
    assert buyer_history(buyer.id) == []
    from consultroom.bookings.services import book_slot
    from tests.factories import make_round

    owner, company = make_sme_with_company(name_ko="한빛코스메틱")
    rnd = make_round()
    booking = book_slot(company=company, slot=rnd.slots[0], request={"products": "김"}, actor=owner)
    booking.buyer_id = buyer.id
    db.session.commit()
    assert [b.id for b in buyer_history(buyer.id)] == [booking.id]
    assert "한빛코스메틱" in client.get(f"/staff/buyers/{buyer.id}").get_data(as_text=True)


# --- import --------------------------------------------------------------------------------------


def upload(client, raw: bytes, filename: str = "buyers.csv"):
    return client.submit("/staff/buyers/import", {"file": (io.BytesIO(raw), filename)})


def preview_digest(html: str) -> str:
    match = re.search(r'name="digest"[^>]*value="([0-9a-f]{64})"', html) or re.search(
        r'value="([0-9a-f]{64})"[^>]*name="digest"', html
    )
    assert match, "no confirm form on the preview"
    return match.group(1)


def upload_and_confirm(client, raw: bytes, filename: str = "buyers.csv"):
    response = upload(client, raw, filename)
    assert response.status_code == 302, response.get_data(as_text=True)[:2000]
    preview_url = response.headers["Location"]
    html = client.get(preview_url).get_data(as_text=True)
    return client.submit(preview_url + "/confirm", {"digest": preview_digest(html)}), html


GOOD_CSV = (
    "company,country,contact,email,timezone,languages,hs_codes,keywords,size,source,meet_from,meet_to\n"
    'Sunrise Cosmetics,US,Jane Roe,jane@sunrise.example.com,America/Los_Angeles,"en, es","3304, 330499",'
    "skin care,large,KOTRA,8:00,16:00\n"
    "Saigon Trading,Vietnam,Nguyen An,an@saigon.example.vn,,vi,2106,snacks,small,trade fair,,\n"
)


def test_import_good_utf8_csv_creates_buyers_with_one_audit_entry(client, login_as):
    staff = login_as("staff")
    response, preview = upload_and_confirm(client, GOOD_CSV.encode(), "바이어 목록.csv")
    assert "2 rows read: 2 will be created, 0 are skipped as duplicates." in preview
    assert response.status_code == 302 and response.headers["Location"] == "/staff/buyers"
    assert "2 buyers imported; 0 duplicates skipped." in client.get("/staff/buyers").get_data(as_text=True)
    buyers = db.session.scalars(select(Buyer).order_by(Buyer.company_name)).all()
    assert [(b.company_name, b.country, b.timezone) for b in buyers] == [
        ("Saigon Trading", "VN", "Asia/Ho_Chi_Minh"),
        ("Sunrise Cosmetics", "US", "America/Los_Angeles"),
    ]
    assert buyers[1].interest_codes == ["3304", "330499"] and buyers[1].languages == ["en", "es"]
    assert (buyers[1].meet_from, buyers[1].meet_to, buyers[1].size) == (time(8), time(16), "large")
    [entry] = _audit("buyer.import")
    assert entry.actor_id == staff.id and entry.object_type == "buyer_import_batches"
    assert entry.after["file"] == "바이어 목록.csv"
    assert entry.after["created"] == 2 and entry.after["skipped_duplicates"] == 0
    assert sorted(entry.after["buyer_ids"]) == sorted(b.id for b in buyers)
    batch = db.session.scalar(select(BuyerImportBatch))
    assert (batch.status, batch.created_count, batch.rows) == ("applied", 2, [])


def test_import_cp949_csv_with_korean_headings(client, login_as):
    login_as("staff")
    text = (
        "회사명,국가,담당자,이메일,시간대,언어,관심 HS,키워드,규모,출처,미팅 시작,미팅 종료\r\n"
        "Tokyo Beauty,일본,Sato,sato@tokyobeauty.example.jp,,일본어,3304,한국 화장품,대형,코트라,오전 10시,17:00\r\n"
    )
    response, preview = upload_and_confirm(client, text.encode("cp949"))
    assert "한국 화장품" in preview
    assert response.status_code == 302
    buyer = db.session.scalar(select(Buyer))
    assert (buyer.company_name, buyer.country, buyer.timezone) == ("Tokyo Beauty", "JP", "Asia/Tokyo")
    assert (buyer.keywords, buyer.source, buyer.size, buyer.languages) == ("한국 화장품", "코트라", "large", ["ja"])
    assert buyer.meet_from == time(10)


def test_import_utf8_bom_csv(client, login_as):
    login_as("staff")
    raw = b"\xef\xbb\xbf" + "회사명,국가,이메일\nBerlin Import GmbH,DE,kontakt@berlin.example.de\n".encode()
    response, _preview = upload_and_confirm(client, raw)
    assert response.status_code == 302
    buyer = db.session.scalar(select(Buyer))
    assert (buyer.company_name, buyer.country, buyer.timezone) == ("Berlin Import GmbH", "DE", "Europe/Berlin")


def test_import_xlsx_with_numeric_hs_codes_and_phones(client, login_as):
    login_as("staff")
    book = Workbook()
    sheet = book.active
    sheet.append(["Company", "Country", "Email", "Phone", "HS codes", "Time zone", "Meet from", "Meet to"])
    sheet.append(
        ["Andes Foods", "CL", "ventas@andes.example.cl", 56221234567, 20130, "America/Santiago", time(9), time(13)]
    )
    sheet.append(["Lima Beauty", "PE", "info@lima.example.pe", 5112345678.0, 3304.0, None, None, None])
    sheet.append(["Fish Co", "NO", "post@fish.example.no", None, 30111, None, None, None])
    out = io.BytesIO()
    book.save(out)
    response, _preview = upload_and_confirm(client, out.getvalue(), "buyers.xlsx")
    assert response.status_code == 302
    buyers = {b.company_name: b for b in db.session.scalars(select(Buyer))}
    assert buyers["Andes Foods"].interest_codes == ["020130"]
    assert buyers["Andes Foods"].phone == "56221234567"
    assert (buyers["Andes Foods"].meet_from, buyers["Andes Foods"].meet_to) == (time(9), time(13))
    assert buyers["Lima Beauty"].interest_codes == ["3304"]
    assert (buyers["Lima Beauty"].phone, buyers["Lima Beauty"].timezone) == ("5112345678", "America/Lima")
    assert buyers["Fish Co"].interest_codes == ["030111"]


BAD_CSV = (
    "company,country,email,timezone,hs_codes\n"
    "Good One,US,good@one.example.com,America/Chicago,3304\n"
    "Bad Country,XX,bad1@x.example.com,Europe/Paris,3304\n"
    "Bad HS,FR,bad2@x.example.com,Europe/Paris,7701\n"
    "Bad Mail,FR,not-an-email,Europe/Paris,33\n"
    "Bad Zone,FR,bad4@x.example.com,Europe/Atlantis,33\n"
    ",FR,bad5@x.example.com,Europe/Paris,33\n"
)


def test_import_with_bad_rows_names_each_row_and_column_and_writes_nothing(client, login_as):
    login_as("staff")
    response = upload(client, BAD_CSV.encode())
    preview_url = response.headers["Location"]
    html = client.get(preview_url).get_data(as_text=True)
    table = html.split('id="import-errors"', 1)[1].split("</table>", 1)[0]
    rows = [
        [re.sub(r"<[^>]+>", "", cell).strip() for cell in re.findall(r"<t[hd][^>]*>(.*?)</t[hd]>", tr, re.S)]
        for tr in re.findall(r"<tr>(.*?)</tr>", table.split("<tbody>", 1)[1], re.S)
    ]
    assert rows == [
        ["3", "B (country)", "XX", "Not a known country: XX"],
        ["4", "E (hs_codes)", "7701", "Not an HS code of 2, 4 or 6 digits: 7701"],
        ["5", "C (email)", "not-an-email", "Not a valid e-mail address."],
        ["6", "D (timezone)", "Europe/Atlantis", "Not an IANA time zone such as Europe/Berlin: Europe/Atlantis"],
        ["7", "A (company)", "", "This field is required."],
    ]
    assert "6 rows read: 5 have errors." in html
    assert "Nothing can be imported while a row has errors." in html
    assert 'name="digest"' not in html  # no confirm button
    # A confirmation forced anyway writes nothing.
    batch = db.session.scalar(select(BuyerImportBatch))
    preview = importing.preview_batch(batch)
    response = client.submit(preview_url + "/confirm", {"digest": preview.digest})
    assert response.status_code == 302
    assert _count() == 0
    assert _audit("buyer.import") == []
    assert "5 rows have errors; nothing was imported." in client.get(preview_url).get_data(as_text=True)


def test_apply_import_refuses_a_preview_with_errors(app):
    staff = make_user("staff")
    parsed = importing.parse_upload("b.csv", BAD_CSV.encode())
    preview = importing.preview_import(parsed.rows, columns=parsed.columns, filename=parsed.filename)
    assert [(e.row, e.column) for e in preview.errors] == [
        (3, "country"),
        (4, "interest_codes"),
        (5, "email"),
        (6, "timezone"),
        (7, "company_name"),
    ]
    with pytest.raises(Invalid):
        importing.apply_import(preview, actor=staff)
    assert _count() == 0


DUP_CSV = (
    "company,country,email,timezone\n"
    "Known By Mail,US,known@buyers.example.com,America/Chicago\n"
    "  KNOWN company ,US,other@buyers.example.com,America/Chicago\n"
    "Fresh One,US,fresh@buyers.example.com,America/Chicago\n"
    "Fresh One Again,US,FRESH@buyers.example.com,America/Chicago\n"
    "Fresh One,US,third@buyers.example.com,America/Chicago\n"
    "Fresh Two,CA,two@buyers.example.com,America/Toronto\n"
)


def test_import_duplicates_in_registry_and_file_are_reported_and_skipped(client, login_as):
    known_mail = make_buyer(company_name="Somebody", email="known@buyers.example.com")
    known_company = make_buyer(company_name="Known Company", country="US")
    login_as("staff")
    response = upload(client, DUP_CSV.encode())
    preview_url = response.headers["Location"]
    html = client.get(preview_url).get_data(as_text=True)
    assert "6 rows read: 2 will be created, 4 are skipped as duplicates." in html
    dup_table = html.split('id="import-duplicates"', 1)[1].split("</table>", 1)[0]
    assert f"registered buyer no. {known_mail.id}" in dup_table
    assert f"registered buyer no. {known_company.id}" in dup_table
    assert dup_table.count("row 4 of this file") == 2
    response = client.submit(preview_url + "/confirm", {"digest": preview_digest(html)})
    assert response.status_code == 302
    names = sorted(db.session.scalars(select(Buyer.company_name)))
    assert names == ["Fresh One", "Fresh Two", "Known Company", "Somebody"]
    [entry] = _audit("buyer.import")
    assert (entry.after["created"], entry.after["skipped_duplicates"]) == (2, 4)
    # The same file again creates nothing new.
    response, html = upload_and_preview(client, DUP_CSV.encode())
    assert "Every row is already registered; there is nothing new to import." in html
    assert _count() == 4


def upload_and_preview(client, raw: bytes):
    response = upload(client, raw)
    html = client.get(response.headers["Location"]).get_data(as_text=True)
    return response, html


@pytest.mark.parametrize(
    ("filename", "raw", "message"),
    [
        ("buyers.txt", b"company,country,email\n", "Upload a .csv or .xlsx file."),
        ("buyers.xls", b"\xd0\xcf\x11\xe0", "Old Excel files (.xls) cannot be read."),
        ("buyers.csv", b"company,nation,email\nA,US,a@a.example.com\n", 'Column B "nation" is not a known column.'),
    ],
)
def test_import_wrong_file_is_refused_beside_the_field(client, login_as, filename, raw, message):
    login_as("staff")
    response = upload(client, raw, filename)
    assert response.status_code == 200
    assert _field_error(response.get_data(as_text=True), "file").startswith(message)
    assert _count(BuyerImportBatch) == 0


def test_import_too_large_file_is_refused(client, login_as):
    login_as("staff")
    raw = b"company,country,email\n" + b"A,US,a@a.example.com\n" * (importing.MAX_BYTES // 20 + 10)
    assert len(raw) > importing.MAX_BYTES
    response = upload(client, raw)
    assert response.status_code == 200
    assert _field_error(response.get_data(as_text=True), "file") == "The file is larger than 5 MB."
    assert _count(BuyerImportBatch) == 0


def test_import_without_a_file_asks_for_one(client, login_as):
    login_as("staff")
    response = client.submit("/staff/buyers/import", {})
    assert _field_error(response.get_data(as_text=True), "file") == "Choose a file to upload."


def _pending_batch(client, raw: bytes = GOOD_CSV.encode()) -> tuple[str, str]:
    response = upload(client, raw)
    url = response.headers["Location"]
    return url, preview_digest(client.get(url).get_data(as_text=True))


def test_import_batch_of_another_staff_member_cannot_be_seen_or_confirmed(client, login_as, make_client):
    login_as("staff")
    url, digest = _pending_batch(client)
    intruder = make_client()
    login_as("staff", on=intruder)
    assert intruder.get(url).status_code == 404
    assert intruder.submit(url + "/confirm", {"digest": digest}).status_code == 404
    assert intruder.submit(url + "/discard", {}).status_code == 404
    admin = make_client()
    login_as("admin", on=admin)
    assert admin.submit(url + "/confirm", {"digest": digest}).status_code == 404
    assert _count() == 0
    assert db.session.scalar(select(BuyerImportBatch.status)) == "pending"


def test_import_stale_batch_cannot_be_confirmed(client, login_as):
    login_as("staff")
    url, digest = _pending_batch(client)
    batch = db.session.scalar(select(BuyerImportBatch))
    batch.created_at -= importing.BATCH_TTL + timedelta(minutes=1)
    db.session.commit()
    response = client.submit(url + "/confirm", {"digest": digest})
    assert response.status_code == 302
    assert _count() == 0
    assert "This preview has expired. Upload the file again." in client.get(url).get_data(as_text=True)


def test_import_altered_batch_cannot_be_confirmed(client, login_as):
    login_as("staff")
    url, digest = _pending_batch(client)
    batch = db.session.scalar(select(BuyerImportBatch))
    rows = [dict(r) for r in batch.rows]
    rows[0] = {**rows[0], "values": {**rows[0]["values"], "email": "attacker@evil.example.com"}}
    batch.rows = rows
    db.session.commit()
    client.submit(url + "/confirm", {"digest": digest})
    assert _count() == 0
    assert db.session.scalar(select(BuyerImportBatch.status)) == "pending"


def test_import_confirm_with_a_digest_not_from_the_preview_writes_nothing(client, login_as):
    login_as("staff")
    url, _digest = _pending_batch(client)
    client.submit(url + "/confirm", {"digest": "0" * 64})
    client.submit(url + "/confirm", {})
    assert _count() == 0


def test_import_registry_change_after_preview_needs_a_new_look(client, login_as):
    login_as("staff")
    url, digest = _pending_batch(client)
    make_buyer(email="jane@sunrise.example.com", company_name="Registered Meanwhile")
    db.session.commit()
    response = client.submit(url + "/confirm", {"digest": digest})
    assert response.status_code == 302 and response.headers["Location"] == url
    assert _count() == 1
    html = client.get(url).get_data(as_text=True)
    assert "The file or the registry changed since your preview." in html
    assert "1 will be created, 1 are skipped as duplicates" in html
    assert client.submit(url + "/confirm", {"digest": preview_digest(html)}).status_code == 302
    assert _count() == 2


def test_import_batch_confirmed_twice_imports_once(client, login_as):
    login_as("staff")
    url, digest = _pending_batch(client)
    assert client.submit(url + "/confirm", {"digest": digest}).status_code == 302
    assert client.submit(url + "/confirm", {"digest": digest}).status_code == 302
    assert _count() == 2
    assert len(_audit("buyer.import")) == 1
    assert "This file was imported: 2 buyers created, 0 duplicates skipped." in client.get(url).get_data(as_text=True)


def test_import_discard_clears_the_rows(client, login_as):
    login_as("staff")
    url, digest = _pending_batch(client)
    assert client.submit(url + "/discard", {}).headers["Location"] == "/staff/buyers/import"
    batch = db.session.scalar(select(BuyerImportBatch))
    assert (batch.status, batch.rows) == ("discarded", [])
    client.submit(url + "/confirm", {"digest": digest})
    assert _count() == 0


def test_save_batch_drops_expired_pending_batches(app):
    staff = make_user("staff")
    parsed = importing.parse_upload("b.csv", GOOD_CSV.encode())
    old = importing.save_batch(parsed=parsed, actor=staff)
    old.created_at = old.created_at - importing.BATCH_TTL - timedelta(minutes=1)
    db.session.flush()
    new = importing.save_batch(parsed=parsed, actor=staff)
    assert db.session.scalars(select(BuyerImportBatch.id)).all() == [new.id]


# --- access --------------------------------------------------------------------------------------


def test_non_staff_get_404_on_every_buyer_route(client, login_as, make_client):
    staff_client = make_client()
    login_as("staff", on=staff_client)
    buyer = make_buyer()
    db.session.commit()
    batch_url, digest = _pending_batch(staff_client)
    sme, _company = make_sme_with_company()
    login_as(sme)
    base = f"/staff/buyers/{buyer.id}"
    for url in ("/staff/buyers", "/staff/buyers/new", base, base + "/edit", "/staff/buyers/import", batch_url):
        assert client.get(url).status_code == 404, url
    for url, data in (
        ("/staff/buyers/new", FORM),
        (base + "/edit", FORM),
        (base + "/active", {"active": "0"}),
        ("/staff/buyers/import", {"file": (io.BytesIO(GOOD_CSV.encode()), "b.csv")}),
        (batch_url + "/confirm", {"digest": digest}),
        (batch_url + "/discard", {}),
    ):
        assert client.submit(url, data).status_code == 404, url
    db.session.refresh(buyer)
    assert buyer.active is True
    assert _count() == 1
    anonymous = make_client()
    assert anonymous.get("/staff/buyers").headers["Location"].startswith("/login")
