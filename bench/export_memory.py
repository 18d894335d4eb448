"""Peak memory of preparing and downloading the 2025 survey answers CSV (issue 16), for the code on
sys.path: run it from this tree, or with PYTHONPATH=<an older tree> (`git archive <rev> | tar -x -C
dir`, then `pybabel compile -d dir/consultroom/translations`) to measure that code. Each phase runs in
its own process, so each peak is its own:

  setup            DROP the target's public schema, migrate it, add a staff user and a running export
  job [trace]      write the file from the source database (only read) and store it into the target
  download [trace] send it through the WSGI app, reading the body as a server does, keeping nothing

MEASURE_TARGET_URL (required: a scratch database, emptied by setup), MEASURE_SOURCE_URL (default
bench_scale_200000 as bench/scale.py builds it), MEASURE_SCOPE=all for every year instead of 2025.
[trace]: tracemalloc's peak of Python allocations; otherwise ru_maxrss, the process's peak RSS.

    for t in "" trace; do for p in setup job download; do python bench/export_memory.py $p $t; done; done
"""

from __future__ import annotations

import json
import os
import resource
import sys
import time
import tracemalloc
from pathlib import Path

# Appended, not inserted: an older tree on PYTHONPATH comes first (its consultroom and its tests).
sys.path.append(str(Path(__file__).resolve().parent.parent))

BENCH = os.environ.get("MEASURE_SOURCE_URL", "postgresql://postgres@127.0.0.1:5432/bench_scale_200000")
TEST = os.environ.get("MEASURE_TARGET_URL", "")
# MEASURE_SCOPE=all: every year (the "ten-year" file) instead of 2025.
_ALL = os.environ.get("MEASURE_SCOPE") == "all"
PARAMS = {
    "scope": {"audience": "sme", "round_id": None, "start": None if _ALL else "2025-01-01",
              "end": None if _ALL else "2025-12-31"},
    "locale": "ko",
}  # fmt: skip
EMAIL = "measure@chunks.test"
TRACE = "trace" in sys.argv


def rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def mark() -> float:
    if TRACE:
        return tracemalloc.get_traced_memory()[1] / 2**20
    return rss_mb()


def app_for(url: str):
    from consultroom import create_app

    return create_app("testing", SQLALCHEMY_DATABASE_URI=url)


def chunked() -> bool:
    import consultroom.exports.models as m

    return hasattr(m, "ExportFileChunk")


def setup() -> None:
    from flask_migrate import upgrade
    from sqlalchemy import text

    from consultroom import ROOT
    from consultroom.exports.models import ExportFile
    from consultroom.extensions import db
    from tests.factories import make_user

    app = app_for(TEST)
    with app.app_context():
        with db.engine.begin() as conn:
            conn.execute(text("DROP SCHEMA public CASCADE"))
            conn.execute(text("CREATE SCHEMA public"))
        upgrade(directory=str(ROOT / "migrations"))
        user = make_user("staff", email=EMAIL)
        db.session.flush()
        export = ExportFile(kind="survey_answers_csv", params=PARAMS, requested_by_id=user.id, status="running")
        db.session.add(export)
        db.session.commit()
        print(json.dumps({"export_id": export.id}))


def job() -> None:
    import tempfile

    from sqlalchemy import select

    from consultroom.db import utcnow
    from consultroom.exports import services
    from consultroom.exports.catalog import KINDS
    from consultroom.exports.models import ExportFile
    from consultroom.extensions import db

    src, dst = app_for(BENCH), app_for(TEST)
    kind = KINDS["survey_answers_csv"]
    with dst.app_context():
        export_id = db.session.scalar(select(ExportFile.id).where(ExportFile.status == "running"))
        db.session.rollback()
    with src.app_context():  # warm up: the connection, the first compiled statements
        db.session.execute(select(1))
        db.session.rollback()
    if TRACE:
        tracemalloc.start()
    base = mark()
    t0 = time.perf_counter()
    out = None
    with src.app_context():
        if chunked():
            out = tempfile.TemporaryFile()  # noqa: SIM115 - kept until stored, closed at exit
            kind.write(PARAMS, utcnow(), out)
            size = out.tell()
        else:
            content = kind.write(PARAMS, utcnow())
            size = len(content)
        db.session.rollback()
    t_write = time.perf_counter() - t0
    after_write = mark()
    with dst.app_context():
        services.store(
            export_id=export_id, filename=kind.filename(PARAMS), content=out if out else content, now=utcnow()
        )
        db.session.commit()
    t_all = time.perf_counter() - t0
    after_store = mark()
    print(json.dumps({
        "phase": "job", "chunked": chunked(), "trace": TRACE, "size": size, "base_mb": round(base, 1),
        "peak_after_write_mb": round(after_write, 1), "peak_after_store_mb": round(after_store, 1),
        "write_delta_mb": round(after_write - base, 1), "job_delta_mb": round(after_store - base, 1),
        "write_s": round(t_write, 2), "job_s": round(t_all, 2),
    }))  # fmt: skip


def download() -> None:
    from sqlalchemy import select
    from werkzeug.test import EnvironBuilder

    from consultroom.exports.models import ExportFile
    from consultroom.extensions import db
    from tests.conftest import CSRFClient, login

    app = app_for(TEST)
    app.test_client_class = CSRFClient
    with app.app_context():
        export_id, size = db.session.execute(select(ExportFile.id, ExportFile.size)).one()
        db.session.rollback()
    client = app.test_client()
    assert login(client, EMAIL).status_code == 302
    cookie = client.get_cookie("session").value
    client.get("/staff/exports")  # warm up the app's first request
    if TRACE:
        tracemalloc.start()
    base = mark()
    environ = EnvironBuilder(
        path=f"/staff/exports/{export_id}/download", headers={"Cookie": f"session={cookie}"}
    ).get_environ()
    status = []
    t0 = time.perf_counter()
    body = app.wsgi_app(environ, lambda s, h, exc_info=None: status.append((s, dict(h))))
    received = pieces = 0
    try:
        for piece in body:  # as a WSGI server sends it: one piece at a time, nothing kept
            received += len(piece)
            pieces += 1
    finally:
        if hasattr(body, "close"):
            body.close()
    elapsed = time.perf_counter() - t0
    peak = mark()
    s, headers = status[0]
    assert s.startswith("200") and received == size, (s, received, size)
    print(json.dumps({
        "phase": "download", "chunked": chunked(), "trace": TRACE, "size": size, "received": received,
        "pieces": pieces, "content_length": headers.get("Content-Length"), "base_mb": round(base, 1),
        "peak_mb": round(peak, 1), "delta_mb": round(peak - base, 1), "s": round(elapsed, 2),
    }))  # fmt: skip


if __name__ == "__main__":
    if not TEST:
        raise SystemExit("Set MEASURE_TARGET_URL to a scratch database (setup empties it).")
    {"setup": setup, "job": job, "download": download}[sys.argv[1]]()
