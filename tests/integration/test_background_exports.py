"""Survey exports of a large scope are prepared in the background (issue 16): the GET says so and
offers a POST, the prepare_exports job writes the file with the inline download's code, and the
requester alone downloads it from /staff/exports for 24 hours. On SQLite and PostgreSQL alike."""

from __future__ import annotations

import dataclasses
import io
import zipfile
from datetime import timedelta

import pytest
from sqlalchemy import func, select, text

from consultroom.db import utcnow
from consultroom.exports import services as export_services
from consultroom.exports.kinds import KINDS
from consultroom.exports.models import ExportFile, ExportFileChunk
from consultroom.extensions import db
from consultroom.privacy import erasure
from consultroom.privacy.anonymise import anonymise_subject
from consultroom.scheduler.runner import run_job
from consultroom.surveys import views as survey_views
from tests.conftest import is_postgres, login, recent
from tests.factories import make_buyer, make_user
from tests.integration.test_surveys import _constructed_set

# The constructed set's round holds 7 company answers (3 + 1 + 3).
ROUND_ANSWERS = 7
CSV = "survey_answers_csv"
XLSX = "survey_results_xlsx"


def _exports() -> list[ExportFile]:
    db.session.expire_all()
    return list(db.session.scalars(select(ExportFile).order_by(ExportFile.id)))


def _run(minutes: int = 0):
    outcome = run_job("prepare_exports", now=utcnow() + timedelta(minutes=minutes))
    assert outcome.status == "succeeded", outcome.detail
    return outcome


def _queue(client, url: str) -> None:
    response = client.submit(url)
    assert response.status_code == 303
    assert response.headers["Location"] == "/staff/exports"


def _done_export(user, *, content: bytes | None = b"a,b\r\n", expires_in=timedelta(hours=1), **fields) -> ExportFile:
    """An export as the job leaves it: its file in one piece (no file when `content` is None)."""
    now = utcnow()
    export = ExportFile(
        kind=CSV, params={"scope": {}, "locale": "ko"}, requested_by_id=user.id, status="done", attempts=1,
        filename="survey-sme.csv", size=None if content is None else len(content),
        created_at=now - timedelta(minutes=5), started_at=now - timedelta(minutes=4),
        finished_at=now - timedelta(minutes=4), expires_at=now + expires_in, **fields,
    )  # fmt: skip
    db.session.add(export)
    db.session.flush()
    if content:
        db.session.add(ExportFileChunk(export_id=export.id, seq=0, data=content))
        db.session.flush()
    return export


def _chunks() -> list[tuple[int, int]]:
    """Every stored piece, as (export id, seq)."""
    return [tuple(r) for r in db.session.execute(select(ExportFileChunk.export_id, ExportFileChunk.seq).order_by(
        ExportFileChunk.export_id, ExportFileChunk.seq))]  # fmt: skip


def _file(export_id: int) -> bytes:
    pieces = db.session.scalars(
        select(ExportFileChunk.data).where(ExportFileChunk.export_id == export_id).order_by(ExportFileChunk.seq)
    )
    return b"".join(bytes(p) for p in pieces)


def test_export_of_at_most_the_limit_is_sent_inline(client, login_as, monkeypatch):
    _qs, rnd, _later = _constructed_set()
    monkeypatch.setattr(survey_views, "INLINE_ANSWERS", ROUND_ANSWERS)
    login_as("staff")

    csv_response = client.get(f"/staff/surveys/results.csv?round_id={rnd.id}")
    xlsx_response = client.get(f"/staff/surveys/results.xlsx?round_id={rnd.id}")

    assert csv_response.status_code == 200 and csv_response.mimetype == "text/csv"
    assert csv_response.data.decode("utf-8-sig").count("\r\n") == ROUND_ANSWERS + 1
    assert xlsx_response.status_code == 200 and xlsx_response.data.startswith(b"PK")
    assert _exports() == []


@pytest.mark.parametrize("ext", ["csv", "xlsx"])
def test_export_above_the_limit_answers_a_page_and_queues_nothing(client, login_as, monkeypatch, ext):
    _qs, rnd, _later = _constructed_set()
    monkeypatch.setattr(survey_views, "INLINE_ANSWERS", ROUND_ANSWERS - 1)
    login_as("staff")

    response = client.get(f"/staff/surveys/results.{ext}?round_id={rnd.id}")

    html = response.get_data(as_text=True)
    assert response.status_code == 200 and response.mimetype == "text/html"
    assert f"more than {ROUND_ANSWERS - 1} answers" in html
    assert f'<form method="post" action="/staff/surveys/results.{ext}?round_id={rnd.id}">' in html
    assert 'name="csrf_token"' in html and 'href="/staff/exports"' in html
    assert _exports() == []  # a GET changes nothing


def test_the_capped_count_stops_at_the_limit_plus_one():
    from consultroom.surveys.queries import Scope, answer_count_capped

    _qs, rnd, _later = _constructed_set()
    scope = Scope(round_id=rnd.id)
    assert [answer_count_capped(scope, cap) for cap in (3, 6, 7, 100)] == [4, 7, 7, 7]


def test_queued_csv_is_prepared_by_the_job_with_the_inline_bytes(client, login_as, monkeypatch):
    _qs, rnd, _later = _constructed_set()
    staff = login_as("staff")
    url = f"/staff/surveys/results.csv?round_id={rnd.id}&start={rnd.day.isoformat()}"
    inline = client.get(url)
    monkeypatch.setattr(survey_views, "INLINE_ANSWERS", ROUND_ANSWERS - 1)

    _queue(client, url)
    (queued,) = _exports()
    assert (queued.kind, queued.status, queued.requested_by_id, queued.attempts) == (CSV, "queued", staff.id, 0)
    assert queued.params == {
        "scope": {"audience": "sme", "round_id": rnd.id, "start": rnd.day.isoformat(), "end": None},
        "locale": "en",  # the requester's language, as the inline file is written in
    }
    page = client.get("/staff/exports").get_data(as_text=True)
    assert 'data-status="queued"' in page and "/download" not in page

    assert _run().detail == "done 1, retry 0, failed 0, expired 0"

    (done,) = _exports()
    assert done.status == "done" and done.size == len(inline.data) and done.error is None
    assert recent(done.finished_at) and done.expires_at == done.finished_at + timedelta(hours=24)
    page = client.get("/staff/exports").get_data(as_text=True)
    assert f'href="/staff/exports/{done.id}/download"' in page and 'data-status="done"' in page
    download = client.get(f"/staff/exports/{done.id}/download")
    assert download.status_code == 200 and download.mimetype == "text/csv"
    assert download.headers["Content-Disposition"] == f"attachment; filename={done.filename}"
    assert done.filename == f"survey-sme-round{rnd.id}-{rnd.day.isoformat()}.csv"
    assert download.data == inline.data


def test_queued_xlsx_is_prepared_by_the_job_with_the_inline_workbook(client, login_as, monkeypatch):
    _qs, rnd, _later = _constructed_set()
    login_as("staff")
    url = f"/staff/surveys/results.xlsx?round_id={rnd.id}"
    inline = client.get(url)
    monkeypatch.setattr(survey_views, "INLINE_ANSWERS", ROUND_ANSWERS - 1)
    _queue(client, url)

    _run()

    (done,) = _exports()
    download = client.get(f"/staff/exports/{done.id}/download")
    assert download.status_code == 200
    assert download.mimetype == "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
    assert done.filename == f"survey-sme-round{rnd.id}.xlsx"

    # The same parts, byte for byte; only the zip's entry times (the second it was written) differ.
    def parts(data: bytes) -> dict[str, bytes]:
        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            return {name: archive.read(name) for name in archive.namelist()}

    assert parts(download.data) == parts(inline.data)


def test_the_same_request_twice_queues_one_export(client, login_as, monkeypatch):
    _qs, rnd, _later = _constructed_set()
    login_as("staff")
    monkeypatch.setattr(survey_views, "INLINE_ANSWERS", 1)

    for url in [f"/staff/surveys/results.csv?round_id={rnd.id}"] * 2 + [
        f"/staff/surveys/results.xlsx?round_id={rnd.id}"
    ]:
        _queue(client, url)

    assert [e.kind for e in _exports()] == [CSV, XLSX]


def test_prepare_needs_the_csrf_token(client, login_as):
    _constructed_set()
    login_as("staff")

    response = client.post("/staff/surveys/results.csv", data={})

    assert response.status_code == 400
    assert _exports() == []


def test_smes_cannot_prepare_list_or_download_exports(client, login_as):
    staff = make_user("staff")
    export = _done_export(staff)
    db.session.commit()
    login_as("sme")

    for url in ("/staff/surveys/results.csv", "/staff/surveys/results.xlsx"):
        assert client.submit(url).status_code == 404
    assert client.get("/staff/exports").status_code == 404
    assert client.get(f"/staff/exports/{export.id}/download").status_code == 404
    assert [e.id for e in _exports()] == [export.id]


def test_another_staff_users_file_is_not_found_and_not_listed(client, login_as, make_client):
    owner = make_user("staff")
    export = _done_export(owner, content=b"secret,answers\r\n")
    db.session.commit()
    login_as("staff")
    admin = make_user("admin")
    db.session.commit()
    as_admin = make_client()
    assert login(as_admin, admin.email).status_code == 302

    assert client.get(f"/staff/exports/{export.id}/download").status_code == 404
    assert as_admin.get(f"/staff/exports/{export.id}/download").status_code == 404
    assert client.get(f"/staff/exports/{export.id + 1}/download").status_code == 404
    assert "survey-sme.csv" not in client.get("/staff/exports").get_data(as_text=True)


@pytest.mark.parametrize("status", ["queued", "running", "failed"])
def test_a_file_not_done_is_not_downloadable(client, login_as, status):
    staff = login_as("staff")
    export = _done_export(staff)
    export.status = status
    db.session.commit()

    assert client.get(f"/staff/exports/{export.id}/download").status_code == 404


def test_an_expired_file_is_not_downloadable_and_the_job_deletes_it(client, login_as):
    staff = login_as("staff")
    expired = _done_export(staff, expires_in=-timedelta(minutes=1))
    kept = _done_export(staff)
    db.session.commit()

    assert client.get(f"/staff/exports/{expired.id}/download").status_code == 404
    assert client.get(f"/staff/exports/{kept.id}/download").data == b"a,b\r\n"

    assert _run().detail == "done 0, retry 0, failed 0, expired 1"
    assert [e.id for e in _exports()] == [kept.id]
    assert _chunks() == [(kept.id, 0)]  # the expired file's piece went with it


def test_a_failing_export_is_tried_three_times_then_failed(client, login_as, monkeypatch):
    _qs, rnd, _later = _constructed_set()
    login_as("staff")
    monkeypatch.setattr(survey_views, "INLINE_ANSWERS", 1)
    _queue(client, f"/staff/surveys/results.csv?round_id={rnd.id}")

    def broken(params, now, out):
        raise RuntimeError("disk full")

    monkeypatch.setitem(KINDS, CSV, dataclasses.replace(KINDS[CSV], write=broken))

    seen = []
    for minute in range(4):
        detail = _run(minute).detail
        (export,) = _exports()
        seen.append((detail, export.status, export.attempts))

    assert seen == [
        ("done 0, retry 1, failed 0, expired 0", "queued", 1),
        ("done 0, retry 1, failed 0, expired 0", "queued", 2),
        ("done 0, retry 0, failed 1, expired 0", "failed", 3),
        ("done 0, retry 0, failed 0, expired 0", "failed", 3),
    ]
    assert export.error == "RuntimeError: disk full" and export.size is None and _chunks() == []
    assert recent(export.finished_at) and export.expires_at == export.finished_at + timedelta(hours=24)
    page = client.get("/staff/exports").get_data(as_text=True)
    assert 'data-status="failed"' in page and "RuntimeError: disk full" in page


def test_a_running_export_left_by_a_dead_process_is_taken_again():
    staff = make_user("staff")
    export = _done_export(staff, content=None)
    export.status, export.started_at = "running", utcnow() - timedelta(hours=1)
    fresh = _done_export(staff, content=None)
    fresh.status, fresh.started_at = "running", utcnow()
    db.session.commit()

    claimed = export_services.claim_next(now=utcnow())

    assert claimed.id == export.id and claimed.attempts == 2 and recent(claimed.started_at)
    assert export_services.claim_next(now=utcnow(), skip={export.id}) is None


def test_the_job_runs_by_hand_from_the_command_line(app):
    staff = make_user("staff")
    db.session.add(
        ExportFile(kind=CSV, params={"scope": {"audience": "sme", "round_id": None, "start": None, "end": None},
                                     "locale": "en"}, requested_by_id=staff.id)
    )  # fmt: skip
    db.session.commit()

    result = app.test_cli_runner().invoke(args=["consultroom", "run-job", "prepare_exports"])

    assert result.exit_code == 0, result.output
    assert "succeeded done 1, retry 0, failed 0, expired 0" in result.output
    (export,) = _exports()
    assert export.status == "done" and export.filename == "survey-sme.csv"
    assert _file(export.id).decode("utf-8-sig").startswith("Round,")


def _stored_and_queued():
    staff = make_user("staff")
    _done_export(staff)  # written
    running = _done_export(staff, content=None)
    running.status = "running"
    queued = _done_export(staff, content=None)
    queued.status, queued.expires_at = "queued", None
    db.session.commit()
    return queued.id


def test_carrying_out_an_erasure_deletes_the_stored_files():
    queued_id = _stored_and_queued()
    staff = make_user("staff")
    buyer = make_buyer(contact_name="Erin Example", email="erin@acme.example")
    request = erasure.request_erasure(subject_type="buyer", subject_id=buyer.id, note="", actor=staff)
    db.session.commit()

    assert len(_chunks()) == 1  # the written one's file
    erasure.carry_out(request=request, actor=staff, response="Done.")
    db.session.commit()

    assert [e.id for e in _exports()] == [queued_id]
    assert _chunks() == []  # deleted with their export (ON DELETE CASCADE)


def test_retention_deletes_the_stored_files():
    queued_id = _stored_and_queued()
    buyer = make_buyer(contact_name="Erin Example", email="erin@acme.example")
    db.session.commit()

    assert len(_chunks()) == 1
    anonymise_subject(subject_type="buyer", subject_id=buyer.id, reason="retention", actor=None)
    db.session.commit()

    assert [e.id for e in _exports()] == [queued_id]
    assert _chunks() == []


def test_a_file_deleted_by_an_erasure_while_written_is_not_stored():
    staff = make_user("staff")
    export = _done_export(staff, content=None)
    export.status = "running"
    db.session.commit()
    export_id = export.id
    db.session.execute(ExportFile.__table__.delete())

    stored = export_services.store(export_id=export_id, filename="x.csv", content=io.BytesIO(b"x"), now=utcnow())
    assert stored is False
    assert db.session.scalar(select(func.count()).select_from(ExportFile)) == 0 and _chunks() == []


def test_exports_page_query_count_is_the_same_with_one_and_many_files(client, login_as, count_queries):
    staff = login_as("staff")
    other = make_user("staff")
    _done_export(staff)
    _done_export(other)
    db.session.commit()
    client.get("/staff/exports")
    with count_queries() as one:
        assert client.get("/staff/exports").status_code == 200

    for _n in range(30):
        _done_export(staff)
    db.session.commit()
    with count_queries() as many:
        page = client.get("/staff/exports")

    assert page.status_code == 200 and page.get_data(as_text=True).count("data-export=") == 25
    assert many.count == one.count
    assert not any("content" in s for s in many.statements), "the list read the files"


# --- the access log: the same machinery for the admins' file of a long log ---------------------------


def _logged_views(n: int):
    from consultroom.privacy.access_log import log_access
    from tests.factories import make_company

    staff = make_user("staff")
    for _ in range(n):
        log_access(actor=staff, subjects=[("company", make_company().id)], action="view", what="companies.detail")
    db.session.commit()
    return staff


@pytest.mark.parametrize("ext", ["csv", "xlsx"])
def test_a_long_access_log_is_prepared_for_its_admin_with_the_inline_rows(client, login_as, monkeypatch, ext):
    """Up to INLINE_ROWS the file is sent at once; past it the GET offers the POST, the job writes the
    file from the same rows, and only its admin downloads it (an admin who became staff no longer)."""
    import csv
    from io import StringIO

    from openpyxl import load_workbook

    from consultroom.privacy import access_export

    _logged_views(3)
    admin = login_as("admin")
    url = f"/admin/access-log/export.{ext}?subject_type=company"
    inline = client.get(url)
    assert inline.status_code == 200 and inline.mimetype != "text/html"
    monkeypatch.setattr(access_export, "INLINE_ROWS", 2)

    page = client.get(url)
    assert page.mimetype == "text/html" and "more than 2 entries" in page.get_data(as_text=True)
    assert f'<form method="post" action="/admin/access-log/export.{ext}?subject_type=company">' in page.get_data(
        as_text=True
    )
    assert _exports() == []
    _queue(client, url)
    _run()

    (done,) = _exports()
    assert (done.kind, done.status, done.requested_by_id) == (f"access_log_{ext}", "done", admin.id)
    download = client.get(f"/staff/exports/{done.id}/download")
    assert download.status_code == 200
    if ext == "csv":
        assert download.data == inline.data
        assert len(list(csv.reader(StringIO(download.data.decode("utf-8-sig"))))) == 1 + 3
    else:
        rows = lambda body: list(load_workbook(io.BytesIO(body), read_only=True).active.values)  # noqa: E731
        assert rows(download.data) == rows(inline.data) and len(rows(download.data)) == 1 + 3

    admin.role = "staff"
    db.session.commit()
    assert client.get(f"/staff/exports/{done.id}/download").status_code == 404


def test_one_person_has_at_most_five_exports_waiting(client, login_as):
    """A sixth different file while five wait is refused with the reason (flashed on the exports page);
    the same file asked again is still the one already waiting, and others' exports do not count."""
    _qs, rnd, _later = _constructed_set()
    staff = login_as("staff")
    other = make_user("staff")
    export_services.request_export(kind=CSV, params={"scope": {"n": 0}, "locale": "ko"}, actor=other, now=utcnow())
    for n in range(export_services.MAX_WAITING):
        export_services.request_export(kind=CSV, params={"scope": {"n": n}, "locale": "ko"}, actor=staff, now=utcnow())
    db.session.commit()

    again = export_services.request_export(
        kind=CSV, params={"scope": {"n": 0}, "locale": "ko"}, actor=staff, now=utcnow()
    )
    response = client.submit(f"/staff/surveys/results.csv?round_id={rnd.id}")

    assert again.requested_by_id == staff.id and len(_exports()) == 1 + export_services.MAX_WAITING
    assert response.status_code == 303
    page = client.get("/staff/exports").get_data(as_text=True)
    assert "You have 5 exports still being prepared" in page


# --- files kept in pieces: the job stores and the download sends one piece at a time ------------------


def _export_of_pieces(user, pieces: list[bytes]) -> ExportFile:
    export = _done_export(user, content=None)
    export.size = sum(map(len, pieces))
    db.session.add_all(ExportFileChunk(export_id=export.id, seq=n, data=p) for n, p in enumerate(pieces))
    db.session.flush()
    return export


def test_a_file_of_several_pieces_round_trips_through_the_job_and_the_download(client, login_as, monkeypatch):
    _qs, rnd, _later = _constructed_set()
    login_as("staff")
    url = f"/staff/surveys/results.csv?round_id={rnd.id}"
    inline = client.get(url).data
    monkeypatch.setattr(survey_views, "INLINE_ANSWERS", ROUND_ANSWERS - 1)
    monkeypatch.setattr(export_services, "CHUNK_SIZE", 100)
    _queue(client, url)

    _run()

    (done,) = _exports()
    pieces = -(-len(inline) // 100)
    assert done.size == len(inline) and pieces > 2
    assert _chunks() == [(done.id, n) for n in range(pieces)]
    assert max(len(bytes(d)) for d in db.session.scalars(select(ExportFileChunk.data))) == 100
    download = client.get(f"/staff/exports/{done.id}/download")
    assert download.status_code == 200 and download.headers["Content-Length"] == str(len(inline))
    assert download.headers["Content-Disposition"] == f"attachment; filename={done.filename}"
    assert download.headers["Cache-Control"] == "no-cache, max-age=0"
    assert download.data == inline


def test_deleting_an_export_deletes_its_pieces(app):
    if not is_postgres(app):  # SQLite enforces foreign keys (and so the cascade) only when told to
        assert db.session.execute(text("PRAGMA foreign_keys")).scalar() == 1
    staff = make_user("staff")
    gone = _export_of_pieces(staff, [b"a" * 10, b"b" * 10, b"c"])
    kept = _export_of_pieces(staff, [b"d"])
    db.session.commit()

    db.session.delete(gone)
    db.session.commit()

    assert _chunks() == [(kept.id, 0)]


def test_the_download_reads_one_piece_per_query(client, login_as, count_queries):
    """One SELECT per piece, nothing else grows with the file: a file of 6 pieces takes 5 statements
    more than a file of one, each reading one piece."""
    staff = login_as("staff")
    one = _export_of_pieces(staff, [b"x" * 10])
    six = _export_of_pieces(staff, [b"y" * 10] * 6)
    db.session.commit()
    client.get(f"/staff/exports/{one.id}/download")

    counts = {}
    for export, size in ((one, 10), (six, 60)):
        with count_queries() as counted:
            response = client.get(f"/staff/exports/{export.id}/download")
            assert len(response.data) == size  # read within the count: the body is sent after the view
        counts[export.id] = [s for s in counted.statements if "export_file_chunks" in s], counted.count

    assert len(counts[one.id][0]) == 1 and len(counts[six.id][0]) == 6
    assert counts[six.id][1] == counts[one.id][1] + 5


def test_a_file_deleted_while_it_is_sent_stops_the_download(app):
    from consultroom.exports.streaming import FileGone, read_chunks

    staff = make_user("staff")
    export = _export_of_pieces(staff, [b"first", b"second", b"third"])
    db.session.commit()
    export_id = export.id

    body = read_chunks(export_id, 16)
    assert next(body) == b"first"
    db.session.execute(ExportFile.__table__.delete().where(ExportFile.id == export_id))  # an erasure, meanwhile
    db.session.commit()

    with pytest.raises(FileGone):
        next(body)
