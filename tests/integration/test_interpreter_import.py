"""Staff import interpreters from a CSV or XLSX file (issue 14 item 6), as they import buyers:
every row checked by the interpreter schema and the hours page's rules, a preview naming each bad
row and column, then all or nothing on confirmation with the preview's digest."""

from __future__ import annotations

import io
import re
from datetime import time

from openpyxl import Workbook
from sqlalchemy import func, select

from consultroom.audit.models import AuditEntry
from consultroom.extensions import db
from consultroom.interpreters import importing
from consultroom.interpreters.models import Interpreter, InterpreterImportBatch
from tests.factories import make_interpreter, make_user
from tests.integration.test_buyers import _field_error, preview_digest

GOOD_CSV = (
    "name,email,languages,specialties,sessions per day,mail language,hours\n"
    'Kim Ji-won,Jiwon.Kim@interp.example,"en, es","cosmetics, food",5,ko,Mon-Fri 09:00-18:00\n'
    'Wang Fang,fang@interp.example,Chinese,,,,"월~수 09:00-12:00, 13:00-17:00; Sat 10:00-13:00"\n'
)


def upload(client, raw: bytes, filename: str = "interpreters.csv"):
    return client.submit("/staff/interpreters/import", {"file": (io.BytesIO(raw), filename)})


def upload_and_preview(client, raw: bytes, filename: str = "interpreters.csv") -> tuple[str, str]:
    response = upload(client, raw, filename)
    assert response.status_code == 302, response.get_data(as_text=True)[:2000]
    url = response.headers["Location"]
    return url, client.get(url).get_data(as_text=True)


def _count(model=Interpreter) -> int:
    return db.session.scalar(select(func.count()).select_from(model))


def _imports() -> list[AuditEntry]:
    return list(db.session.scalars(select(AuditEntry).where(AuditEntry.action == "interpreter.import")))


def _hours(interpreter: Interpreter) -> list[tuple[int, time, time]]:
    return [(h.weekday, h.start, h.end) for h in interpreter.hours]


def test_import_creates_interpreters_with_hours_and_one_audit_entry(client, login_as):
    staff = login_as("staff")
    assert "/staff/interpreters/import" in client.get("/staff/interpreters").get_data(as_text=True)
    url, html = upload_and_preview(client, GOOD_CSV.encode())
    assert "2 rows read: 2 will be created, 0 are skipped as duplicates." in html
    response = client.submit(url + "/confirm", {"digest": preview_digest(html)})
    assert response.status_code == 302 and response.headers["Location"] == "/staff/interpreters"
    assert "2 interpreters imported; 0 duplicates skipped." in client.get("/staff/interpreters").get_data(as_text=True)
    kim, wang = db.session.scalars(select(Interpreter).order_by(Interpreter.id)).all()
    assert (kim.name, kim.email, kim.languages, kim.max_sessions_per_day, kim.locale, kim.specialties) == (
        "Kim Ji-won",
        "jiwon.kim@interp.example",
        ["en", "es"],
        5,
        "ko",
        "cosmetics, food",
    )
    assert _hours(kim) == [(day, time(9), time(18)) for day in range(5)]
    # Blank cells take the form's first values: 4 a day, mails in English.
    assert (wang.languages, wang.max_sessions_per_day, wang.locale) == (["zh"], 4, "en")
    assert _hours(wang) == [
        *[(day, a, b) for day in range(3) for a, b in ((time(9), time(12)), (time(13), time(17)))],
        (5, time(10), time(13)),
    ]
    [entry] = _imports()
    assert entry.actor_id == staff.id and entry.object_type == "interpreter_import_batches"
    assert (entry.after["created"], entry.after["skipped_duplicates"]) == (2, 0)
    assert sorted(entry.after["interpreter_ids"]) == [kim.id, wang.id]
    batch = db.session.scalar(select(InterpreterImportBatch))
    assert (batch.status, batch.created_count, batch.rows) == ("applied", 2, [])
    assert "This file was imported: 2 interpreters created, 0 duplicates skipped." in client.get(url).get_data(
        as_text=True
    )


def test_import_reads_korean_headings_in_excels_korean_csv(client, login_as):
    login_as("staff")
    text = "이름,이메일,통역 언어,하루 최대,근무 시간\r\n박민준,minjun@interp.example,영어,3,월-금 10:00-16:00\r\n"
    url, html = upload_and_preview(client, text.encode("cp949"))
    client.submit(url + "/confirm", {"digest": preview_digest(html)})
    interpreter = db.session.scalar(select(Interpreter))
    assert (interpreter.name, interpreter.languages, interpreter.max_sessions_per_day) == ("박민준", ["en"], 3)
    assert _hours(interpreter) == [(day, time(10), time(16)) for day in range(5)]


def test_import_xlsx_with_a_number_of_sessions(client, login_as):
    login_as("staff")
    book = Workbook()
    book.active.append(["Name", "E-mail", "Languages", "Daily cap", "Phone"])
    book.active.append(["Suzuki Yuki", "yuki@interp.example", "ja", 2, 821012345678])
    out = io.BytesIO()
    book.save(out)
    url, html = upload_and_preview(client, out.getvalue(), "interpreters.xlsx")
    client.submit(url + "/confirm", {"digest": preview_digest(html)})
    interpreter = db.session.scalar(select(Interpreter))
    assert (interpreter.max_sessions_per_day, interpreter.phone, interpreter.hours) == (2, "821012345678", [])


BAD_CSV = (
    "name,email,languages,sessions per day,hours\n"
    "Good One,good@interp.example,en,4,Mon-Fri 09:00-18:00\n"
    ",nameless@interp.example,en,4,\n"
    "Bad Mail,not-an-email,en,4,\n"
    "Korean Only,ko@interp.example,ko,4,\n"
    "Too Many,many@interp.example,en,40,\n"
    "Bad Hours,hours@interp.example,en,4,Mon 10:00-09:00\n"
    "No Days,days@interp.example,en,4,09:00-18:00\n"
)


def _error_rows(html: str) -> list[list[str]]:
    table = html.split('id="import-errors"', 1)[1].split("</table>", 1)[0]
    return [
        [re.sub(r"<[^>]+>", "", cell).strip() for cell in re.findall(r"<t[hd][^>]*>(.*?)</t[hd]>", tr, re.S)]
        for tr in re.findall(r"<tr>(.*?)</tr>", table.split("<tbody>", 1)[1], re.S)
    ]


def test_import_with_bad_rows_names_each_row_and_column_and_writes_nothing(client, login_as):
    login_as("staff")
    url, html = upload_and_preview(client, BAD_CSV.encode())
    assert _error_rows(html) == [
        ["3", "A (name)", "", "This field is required."],
        ["4", "B (email)", "not-an-email", "Not a valid e-mail address."],
        ["5", "C (languages)", "ko", "Leave Korean out: every language listed is interpreted to and from Korean."],
        ["6", "D (sessions per day)", "40", "Give a whole number from 1 to 12."],
        ["7", "E (hours)", "Mon 10:00-09:00", "Mon: The start must be before the end: 10:00-09:00"],
        ["8", "E (hours)", "09:00-18:00", "Write days and hours such as Mon-Fri 09:00-18:00: 09:00-18:00"],
    ]
    assert "7 rows read: 6 have errors." in html and 'name="digest"' not in html
    # A confirmation forced anyway writes nothing.
    batch = db.session.scalar(select(InterpreterImportBatch))
    client.submit(url + "/confirm", {"digest": importing.preview_batch(batch).digest})
    assert _count() == 0 and _imports() == []
    assert "6 rows have errors; nothing was imported." in client.get(url).get_data(as_text=True)


DUP_CSV = (
    "name,email,languages\n"
    "Known,KNOWN@interp.example,en\n"
    "Fresh,fresh@interp.example,en\n"
    "Fresh Again,Fresh@Interp.example,es\n"
)


def test_import_duplicates_in_registry_and_file_are_reported_and_skipped(client, login_as):
    known = make_interpreter(email="known@interp.example", name="Known Before")
    login_as("staff")
    url, html = upload_and_preview(client, DUP_CSV.encode())
    assert "3 rows read: 1 will be created, 2 are skipped as duplicates." in html
    duplicates = html.split('id="import-duplicates"', 1)[1].split("</table>", 1)[0]
    assert f"registered interpreter no. {known.id}" in duplicates and "row 3 of this file" in duplicates
    client.submit(url + "/confirm", {"digest": preview_digest(html)})
    assert sorted(db.session.scalars(select(Interpreter.name))) == ["Fresh", "Known Before"]
    [entry] = _imports()
    assert (entry.after["created"], entry.after["skipped_duplicates"]) == (1, 2)
    _url, html = upload_and_preview(client, DUP_CSV.encode())
    assert "Every row is already registered; there is nothing new to import." in html


def test_import_registry_change_after_preview_needs_a_new_look(client, login_as):
    login_as("staff")
    url, html = upload_and_preview(client, GOOD_CSV.encode())
    make_interpreter(email="fang@interp.example")
    db.session.commit()
    response = client.submit(url + "/confirm", {"digest": preview_digest(html)})
    assert response.headers["Location"] == url and _count() == 1
    html = client.get(url).get_data(as_text=True)
    assert "The file or the registry changed since your preview." in html
    assert "1 will be created, 1 are skipped as duplicates" in html


def test_import_wrong_headings_are_refused_beside_the_field(client, login_as):
    login_as("staff")
    response = upload(client, b"name,email,speaks\nA,a@interp.example,en\n")
    message = _field_error(response.get_data(as_text=True), "file")
    assert message.startswith('Column C "speaks" is not a known column.')
    assert 'The column "languages" is missing.' in message
    assert _count(InterpreterImportBatch) == 0


def test_import_batch_is_its_uploaders_alone_and_confirmed_once(client, login_as, make_client):
    login_as("staff")
    url, html = upload_and_preview(client, GOOD_CSV.encode())
    digest = preview_digest(html)
    other = make_client()
    login_as("staff", on=other)
    assert other.get(url).status_code == 404
    assert other.submit(url + "/confirm", {"digest": digest}).status_code == 404
    assert other.submit(url + "/discard", {}).status_code == 404
    assert _count() == 0
    client.submit(url + "/confirm", {"digest": digest})
    client.submit(url + "/confirm", {"digest": digest})
    assert _count() == 2 and len(_imports()) == 1


def test_import_discard_clears_the_rows(client, login_as):
    login_as("staff")
    url, html = upload_and_preview(client, GOOD_CSV.encode())
    assert client.submit(url + "/discard", {}).headers["Location"] == "/staff/interpreters/import"
    batch = db.session.scalar(select(InterpreterImportBatch))
    assert (batch.status, batch.rows) == ("discarded", [])
    client.submit(url + "/confirm", {"digest": preview_digest(html)})
    assert _count() == 0


def test_erasing_an_interpreter_drops_a_pending_upload_that_names_them(app):
    from consultroom.privacy.anonymise import anonymise_subject

    staff = make_user("staff")
    interpreter = make_interpreter(email="erin@interp.example", name="Erin Example")
    raw = b"name,email,languages\nErin Example,erin@interp.example,en\n"
    importing.save_batch(parsed=importing.parse_upload("i.csv", raw), actor=staff)
    db.session.commit()
    anonymise_subject(subject_type="interpreter", subject_id=interpreter.id, reason="erasure", actor=staff)
    db.session.commit()
    assert _count(InterpreterImportBatch) == 0
