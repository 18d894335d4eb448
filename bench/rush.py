"""Rush benchmark: N concurrent clients book slots of one open round through the JSON API.

    python bench/rush.py                    # 200 clients, one gunicorn (4 workers x 4 threads)
    python bench/rush.py --instances 2      # two gunicorn servers on two ports, one database

Starts gunicorn on PostgreSQL on loopback with a fresh database, opens a round, fires the
clients at POST /api/v1/bookings (each client retries another slot after a 409 until it has
one booking or the round is full), then, in the same run and at the same concurrency, fires
the same number of requests at a trivial endpoint (GET /healthz) and prints both, their
ratio, and what SQL finds: double bookings per slot, overlapping bookings per company,
companies over the cap (all must be 0).
"""

from __future__ import annotations

import argparse
import http.client
import json
import os
import random
import secrets
import socket
import statistics
import subprocess
import sys
import threading
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from urllib.parse import urlsplit

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

REQUEST = {"products": "기초화장품, 마스크팩", "hs_codes": ["330499"], "target_countries": ["US", "VN"]}


def recreate_database(admin_url: str, name: str) -> str:
    import psycopg

    with psycopg.connect(admin_url, autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        conn.execute(f'CREATE DATABASE "{name}"')
    parts = urlsplit(admin_url)
    return f"{parts.scheme}://{parts.netloc}/{name}"


def seed(db_url: str, *, clients: int, booths: int, times: int) -> tuple[int, list[str], int]:
    """Migrate, then one open round (booths x times slots) and one SME company + API token per client."""
    from flask_migrate import upgrade

    from consultroom import create_app
    from consultroom.accounts.models import User
    from consultroom.accounts.passwords import hash_password
    from consultroom.api.tokens import issue_token
    from consultroom.companies.models import Company, CompanyHsCode
    from consultroom.companies.validation import business_number_with_check_digit
    from consultroom.extensions import db
    from consultroom.rounds.models import Round, Slot
    from consultroom.timeutil import seoul_to_utc

    app = create_app("development", SQLALCHEMY_DATABASE_URI=db_url, MAIL_DELIVERY_ENABLED=False)
    with app.app_context():
        upgrade(directory=str(ROOT / "migrations"))
        now = datetime.now(UTC)
        day = (now + timedelta(days=30)).date()
        rnd = Round(
            year=day.year, month=day.month, title="벤치마크 상담회", day=day, status="open",
            booking_opens_at=now - timedelta(hours=1), booking_closes_at=now + timedelta(days=7),
            cancel_hours_before=48, company_cap=3,
        )  # fmt: skip
        for t in range(times):
            start = seoul_to_utc(day, datetime.min.time().replace(hour=9)) + timedelta(minutes=60 * t)
            for booth in range(1, booths + 1):
                rnd.slots.append(Slot(booth=booth, starts_at=start, ends_at=start + timedelta(minutes=50)))
        db.session.add(rnd)
        pw = hash_password(secrets.token_urlsafe(12))
        tokens = []
        for i in range(clients):
            company = Company(
                name_ko=f"벤치기업{i}", name_en=f"Bench {i}", representative="홍길동",
                business_number=business_number_with_check_digit(f"{100 + i % 800:03d}81{i:04d}"),
            )  # fmt: skip
            company.hs_code_rows = [CompanyHsCode(code="330499")]
            db.session.add(company)
            db.session.flush()
            user = User(
                email=f"bench{i}@bench.test", name=f"Bench {i}", password_hash=pw, role="sme",
                email_confirmed_at=now, company_id=company.id,
            )  # fmt: skip
            db.session.add(user)
            db.session.flush()
            _token, raw = issue_token(user=user, name="bench")
            tokens.append(raw)
        db.session.commit()
        return rnd.id, tokens, len(rnd.slots)


GRACEFUL_TIMEOUT = 10  # seconds gunicorn gives its workers to finish at shutdown


def listening_socket() -> socket.socket:
    """A listening socket on a port the kernel picks (port 0), handed to gunicorn as a file
    descriptor: no other process can take the port between choosing and binding it."""
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind(("127.0.0.1", 0))
    sock.listen(1024)
    sock.set_inheritable(True)
    return sock


def start_gunicorn(db_url: str, sock: socket.socket, workers: int, threads: int) -> subprocess.Popen:
    env = {
        **os.environ,
        "CONSULTROOM_CONFIG": "production",
        "DATABASE_URL": db_url,
        "SECRET_KEY": secrets.token_urlsafe(48),
        "RATELIMIT_STORAGE_URI": os.environ.get("RATELIMIT_STORAGE_URI", "redis://127.0.0.1:6379/0"),
        "MAIL_DELIVERY_ENABLED": "0",
        "PYTHONPATH": str(ROOT),
    }
    cmd = [
        sys.executable, "-m", "gunicorn", "-w", str(workers), "-k", "gthread", "--threads", str(threads),
        "-b", f"fd://{sock.fileno()}", "--graceful-timeout", str(GRACEFUL_TIMEOUT),
        "--log-level", "warning", "wsgi:app",
    ]  # fmt: skip
    return subprocess.Popen(cmd, cwd=ROOT, env=env, pass_fds=(sock.fileno(),))


def startup_deadline(workers: int, instances: int) -> float:
    """Seconds to wait for the servers: each worker imports the app (seconds on a loaded 2-core
    machine), and all of them start at once, so the wait grows with their number."""
    return 30.0 + 8.0 * workers * instances


def wait_up(server: subprocess.Popen, port: int, timeout: float) -> None:
    """Wait until /healthz answers 200 (the warm-up that follows reaches every worker), or say why not."""
    deadline = time.monotonic() + timeout
    last_error = "no answer yet"
    while time.monotonic() < deadline:
        if server.poll() is not None:
            raise SystemExit(f"gunicorn on port {port} exited with code {server.returncode} before it answered")
        try:
            conn = http.client.HTTPConnection("127.0.0.1", port, timeout=5)
            conn.request("GET", "/healthz")
            status = conn.getresponse().status
            if status == 200:
                return
            last_error = f"/healthz answered {status}"
        except OSError as exc:
            last_error = f"{type(exc).__name__}: {exc}"
        time.sleep(0.2)
    raise SystemExit(f"gunicorn on port {port} did not answer /healthz within {timeout:.0f} s ({last_error})")


def stop_gunicorn(servers: list[subprocess.Popen]) -> None:
    """SIGTERM (graceful), then wait longer than gunicorn's own graceful timeout before killing."""
    for s in servers:
        if s.poll() is None:
            s.terminate()
    for s in servers:
        try:
            s.wait(timeout=GRACEFUL_TIMEOUT + 15)
        except subprocess.TimeoutExpired:
            s.kill()
            s.wait()


class Stats:
    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.latencies: list[float] = []
        self.codes: dict[int, int] = {}
        self.failures = 0

    def add(self, code: int, seconds: float) -> None:
        with self.lock:
            self.latencies.append(seconds)
            self.codes[code] = self.codes.get(code, 0) + 1

    def summary(self, wall: float) -> dict:
        lat = sorted(self.latencies)

        def pct(p: float) -> float:
            return round(1000 * lat[min(len(lat) - 1, int(p * len(lat)))], 1) if lat else 0.0

        return {
            "requests": len(lat),
            "wall_s": round(wall, 3),
            "throughput_rps": round(len(lat) / wall, 1) if wall else 0.0,
            "p50_ms": pct(0.50),
            "p95_ms": pct(0.95),
            "p99_ms": pct(0.99),
            "mean_ms": round(1000 * statistics.fmean(lat), 1) if lat else 0.0,
            "status_codes": dict(sorted(self.codes.items())),
            "server_errors": sum(n for c, n in self.codes.items() if c >= 500) + self.failures,
        }


def run_clients(ports: list[int], n: int, work) -> tuple[Stats, float]:
    stats = Stats()
    barrier = threading.Barrier(n + 1)

    def client(i: int) -> None:
        port = ports[i % len(ports)]
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
        barrier.wait()
        try:
            work(i, conn, stats)
        except OSError:
            with stats.lock:
                stats.failures += 1
        finally:
            conn.close()

    threads = [threading.Thread(target=client, args=(i,)) for i in range(n)]
    for t in threads:
        t.start()
    barrier.wait()
    start = time.perf_counter()
    for t in threads:
        t.join()
    return stats, time.perf_counter() - start


def timed(
    conn: http.client.HTTPConnection, method: str, path: str, body=None, headers=None
) -> tuple[int, bytes, float]:
    t0 = time.perf_counter()
    conn.request(method, path, body=body, headers=headers or {})
    resp = conn.getresponse()
    data = resp.read()
    return resp.status, data, time.perf_counter() - t0


def sql_checks(db_url: str) -> dict:
    import psycopg

    with psycopg.connect(db_url) as conn:
        one = lambda q: conn.execute(q).fetchone()[0]  # noqa: E731 - tiny local helper
        return {
            "bookings": one("SELECT count(*) FROM bookings WHERE status <> 'cancelled'"),
            "double_bookings": one(
                "SELECT count(*) FROM (SELECT slot_id FROM bookings WHERE status <> 'cancelled' "
                "GROUP BY slot_id HAVING count(*) > 1) d"
            ),
            "company_overlaps": one(
                "SELECT count(*) FROM bookings a JOIN bookings b ON a.company_id = b.company_id AND a.id < b.id "
                "AND a.status <> 'cancelled' AND b.status <> 'cancelled' "
                "AND a.starts_at < b.ends_at AND b.starts_at < a.ends_at"
            ),
            "over_cap": one(
                "SELECT count(*) FROM (SELECT b.company_id FROM bookings b JOIN rounds r ON r.id = b.round_id "
                "WHERE b.status <> 'cancelled' GROUP BY b.company_id, b.round_id, r.company_cap "
                "HAVING count(*) > r.company_cap) c"
            ),
        }


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--clients", type=int, default=200)
    ap.add_argument("--instances", type=int, default=1, choices=(1, 2))
    ap.add_argument("--workers", type=int, default=4)
    ap.add_argument("--threads", type=int, default=4)
    ap.add_argument("--booths", type=int, default=10)
    ap.add_argument("--times", type=int, default=7)
    ap.add_argument("--admin-url", default="postgresql://postgres@127.0.0.1:5432/postgres")
    ap.add_argument("--db-name", default="consultroom_bench")
    ap.add_argument("--json", type=Path, default=None, help="also write the figures to this file")
    args = ap.parse_args()

    db_url = recreate_database(args.admin_url, args.db_name)
    round_id, tokens, slot_count = seed(db_url, clients=args.clients, booths=args.booths, times=args.times)
    socks = [listening_socket() for _ in range(args.instances)]
    ports = [sock.getsockname()[1] for sock in socks]
    servers = [start_gunicorn(db_url, sock, args.workers, args.threads) for sock in socks]
    for sock in socks:
        sock.close()  # gunicorn holds its own copy
    try:
        timeout = startup_deadline(args.workers, args.instances)
        for server, port in zip(servers, ports, strict=True):
            wait_up(server, port, timeout)
        # Warm every worker's connection pool and imports, outside the measurement.
        run_clients(ports, min(args.clients, 32), lambda i, c, s: [timed(c, "GET", "/healthz") for _ in range(5)])

        slot_ids = list(range(1, slot_count + 1))  # fresh database: slots are numbered 1..n

        def book(i: int, conn, stats: Stats) -> None:
            rng = random.Random(i)
            order = slot_ids[:]
            rng.shuffle(order)
            headers = {"Authorization": f"Bearer {tokens[i]}", "Content-Type": "application/json"}
            for slot_id in order[:8]:  # a client gives up after 8 taken slots
                body = json.dumps({"slot_id": slot_id, "request": REQUEST})
                code, _data, seconds = timed(conn, "POST", "/api/v1/bookings", body, headers)
                stats.add(code, seconds)
                if code == 201:
                    return

        booking_stats, booking_wall = run_clients(ports, args.clients, book)
        per_client = max(1, booking_stats.summary(booking_wall)["requests"] // args.clients)

        def trivial(i: int, conn, stats: Stats) -> None:
            for _ in range(per_client):
                code, _data, seconds = timed(conn, "GET", "/healthz")
                stats.add(code, seconds)

        trivial_stats, trivial_wall = run_clients(ports, args.clients, trivial)
    finally:
        stop_gunicorn(servers)

    booking = booking_stats.summary(booking_wall)
    plain = trivial_stats.summary(trivial_wall)
    checks = sql_checks(db_url)
    result = {
        "when": datetime.now(UTC).isoformat(timespec="seconds"),
        "clients": args.clients,
        "instances": args.instances,
        "gunicorn": f"{args.workers} workers x {args.threads} threads per instance",
        "round_id": round_id,
        "slots": slot_count,
        "booking": booking,
        "trivial_healthz": plain,
        "ratio_booking_to_trivial_throughput": round(booking["throughput_rps"] / plain["throughput_rps"], 3)
        if plain["throughput_rps"]
        else None,
        "sql": checks,
    }
    print(json.dumps(result, indent=2, ensure_ascii=False))
    ok = (
        checks["double_bookings"] == 0
        and checks["company_overlaps"] == 0
        and checks["over_cap"] == 0
        and booking["server_errors"] == 0
        and checks["bookings"] == min(slot_count, args.clients)
    )
    print(
        f"\nbookings made {checks['bookings']} of {slot_count} slots; double bookings {checks['double_bookings']}; "
        f"p99 {booking['p99_ms']} ms; ratio {result['ratio_booking_to_trivial_throughput']}  ->  "
        f"{'OK' if ok else 'CHECK FAILED'}"
    )
    if args.json:
        args.json.write_text(json.dumps(result, indent=2, ensure_ascii=False))
    raise SystemExit(0 if ok else 1)


if __name__ == "__main__":
    main()
