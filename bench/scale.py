"""Scale benchmark: every page and API list at national scale, timed against /healthz.

    python bench/scale.py                          # 2,000 consultations
    python bench/scale.py --sizes 2000,200000      # both sizes, with the targets of issue 16
    python bench/scale.py --only 'round|slot'      # only the pages whose label matches

For each size: a fresh PostgreSQL database (bench_scale_<size>) migrated with the real migrations,
then 10,000 SMEs (users and companies with HS codes, countries, languages), 20,000 buyers, 300
interpreters, 120 monthly rounds of 2,000 slots and <size> consultations (bookings with matches,
consultation logs, outcomes, contracts valued in KRW through dated exchange rates, survey
invitations and responses, and the consultation facts the year figures read), written by set-based
SQL. The layout makes every database rule hold by construction (see `generate`), so the constraints
check it rather than being switched off.

Then every GET page each role reaches (anonymous, SME owner, staff, admin, and the signed-link
pages of a buyer, an interpreter and a survey) and every GET endpoint of /api/v1 (bearer tokens
from POST /api/v1/tokens) is requested in-process with the Flask test client: median server time
over --repeat requests after one warm-up, SQL statements per request, and the ratio to /healthz
measured in the same run. Targets (issue 16): under 300 ms at 200,000; the same query count at
both sizes; lists and single-object pages at 200,000 at most twice their time at 2,000.
"""

from __future__ import annotations

import argparse
import pickle
import re
import secrets
import statistics
import sys
import time
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from urllib.parse import urlsplit

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

COMPANIES = 10_000
BUYERS = 20_000
INTERPRETERS = 300
ROUNDS = 120
BOOTHS = 250
TIMES = 8  # hourly slots from 09:00 Seoul: BOOTHS x TIMES = 2,000 slots per round
CAP = 3
PASSWORD = "bench-scale-password"  # noqa: S105 - a throwaway database's accounts
TARGET_MS = 300.0
SLOW_WARMUP_S = 3.0  # a page slower than this is timed by its first request alone, or the run takes hours
JOB_RUN_DAYS = 30  # the scheduler's runs a data set holds: what the daily clean-up keeps
REGULAR = COMPANIES + 1  # the company whose SME pages are measured (see regular_sme)
REGULAR_ROUNDS = 24  # its consultations: one in each of the last 24 past rounds, and a request in the open one
# Its bookings' ids, the same at every size: what follows a booking (log, outcome, contract, survey) is
# drawn from a hash of its id, so the same ids give the same history.
REGULAR_FIRST_ID = 1_000_000

HS = ["330499", "210390", "030617", "190590", "854140", "870899", "620462", "392690", "847989", "300490"]
COUNTRIES = ["US", "VN", "JP", "CN", "TH", "ID", "DE", "FR", "AE", "MY"]
LANGS = ["en", "vi", "ja", "zh", "th", "id", "de", "fr", "ar", "ms"]
ZONES = [
    "America/New_York", "Asia/Ho_Chi_Minh", "Asia/Tokyo", "Asia/Shanghai", "Asia/Bangkok",
    "Asia/Jakarta", "Europe/Berlin", "Europe/Paris", "Asia/Dubai", "Asia/Kuala_Lumpur",
]  # fmt: skip
# currency, ISO 4217 exponent, a base KRW rate
CURRENCIES = [("USD", 2, 1300), ("JPY", 0, 9), ("CNY", 2, 185), ("EUR", 2, 1450)]


def recreate_database(admin_url: str, name: str) -> str:
    import psycopg

    with psycopg.connect(admin_url, autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        conn.execute(f'CREATE DATABASE "{name}"')
    parts = urlsplit(admin_url)
    return f"{parts.scheme}://{parts.netloc}/{name}"


def make_app(db_url: str):
    from consultroom import create_app

    return create_app(
        "development", SQLALCHEMY_DATABASE_URI=db_url, SECRET_KEY=secrets.token_urlsafe(48),
        MAIL_DELIVERY_ENABLED=False, RATELIMIT_ENABLED=False,
    )  # fmt: skip


def round_months(today: date) -> list[tuple[int, int, date]]:
    """120 (year, month, day) in program months (March to December), oldest first: the last is
    four days ahead (the open round), the others on each month's second Wednesday."""
    out = []
    y, m = today.year, today.month
    first = True
    while len(out) < ROUNDS:
        if 3 <= m <= 12:
            if first:
                day = today + timedelta(days=4)
                y, m = day.year, day.month
                first = False
            else:
                d1 = date(y, m, 1)
                day = d1 + timedelta(days=(2 - d1.weekday()) % 7 + 7)
            out.append((y, m, day))
        m -= 1
        if m == 0:
            y, m = y - 1, 12
    return out[::-1]


def generate(conn, *, consultations: int, password_hash: str, now: datetime) -> dict[str, int]:
    """The data set, set-based. How each rule holds by construction, for booking k (0-based):
    round r = k % 120, place i = k / 120 in it; slot (booth i/8+1, hour i%8), so one booking per
    slot; company (r*997 + i/3) % 10000 with seq i%3+1: three consecutive places at three
    different hours, at most CAP per round and never overlapping; buyer (r*2000 + i) % 20000: all
    different within a round, so no overlap and one meeting per company; interpreter = booth: all
    different within an hour."""
    per_round = -(-consultations // ROUNDS)
    if per_round > (BOOTHS - 1) * TIMES:  # the last booth is the regular SME's (regular_sme)
        raise SystemExit(f"at most {ROUNDS * (BOOTHS - 1) * TIMES} consultations fit in {ROUNDS} rounds")

    def ex(query: str, params=None):
        # Always with parameters, so every statement writes the modulo operator as %% alike.
        return conn.execute(query, params if params is not None else {})

    today = now.date()
    ex("SET synchronous_commit = off")

    # people: users and companies first, ids 1..n (a fresh database)
    ex(
        "INSERT INTO users (email, password_hash, name, role, locale, timezone, active, email_confirmed_at, "
        "session_version, created_at, updated_at) VALUES "
        "('staff@bench.test', %(h)s, 'Bench Staff', 'staff', 'ko', 'Asia/Seoul', true, %(now)s, 1, %(now)s, %(now)s), "
        "('admin@bench.test', %(h)s, 'Bench Admin', 'admin', 'ko', 'Asia/Seoul', true, %(now)s, 1, %(now)s, %(now)s)",
        {"h": password_hash, "now": now},
    )
    ex(
        """
        INSERT INTO companies (id, name_ko, name_en, business_number, representative, address, industry, products,
                               website, contact_name, contact_email, contact_phone, created_at, updated_at)
        SELECT c, '벤치기업 ' || c, 'Bench Co ' || c, lpad((1000000000 + c * 7919)::text, 10, '0')::text,
               '홍길동', '부산광역시 해운대구 센텀중앙로 ' || c %% 300,
               (ARRAY['식품','화장품','기계','전자','섬유'])[c %% 5 + 1],
               '제품 ' || c, '', '담당자 ' || c, 'sme' || c || '@bench.test',
               '051-000-' || lpad((c %% 10000)::text, 4, '0'),
               %(now)s, %(now)s
        FROM generate_series(1, %(n)s) c
        """,
        {"n": COMPANIES, "now": now},
    )
    ex("SELECT setval('companies_id_seq', %(n)s)", {"n": COMPANIES})
    ex(
        """
        INSERT INTO users (email, password_hash, name, role, locale, timezone, active, email_confirmed_at,
                           session_version, company_id, created_at, updated_at)
        SELECT 'sme' || c || '@bench.test', %(h)s, '담당자 ' || c, 'sme', 'ko', 'Asia/Seoul', true, %(now)s, 1, c,
               %(now)s, %(now)s
        FROM generate_series(1, %(n)s) c
        """,
        {"n": COMPANIES, "h": password_hash, "now": now},
    )
    ex(
        "INSERT INTO company_hs_codes (company_id, code) SELECT c, (%(hs)s::text[])[(c + j) %% 10 + 1] "
        "FROM generate_series(1, %(n)s) c, generate_series(0, 1) j",
        {"n": COMPANIES, "hs": HS},
    )
    ex(
        "INSERT INTO company_countries (company_id, kind, code) "
        "SELECT c, k, (%(cc)s::text[])[(c + j + CASE k WHEN 'export' THEN 0 ELSE 5 END) %% 10 + 1] "
        "FROM generate_series(1, %(n)s) c, generate_series(0, 1) j, unnest(ARRAY['export', 'target']) k",
        {"n": COMPANIES, "cc": COUNTRIES},
    )
    ex(
        "INSERT INTO company_languages (company_id, code) SELECT c, (%(l)s::text[])[c %% 10 + 1] "
        "FROM generate_series(1, %(n)s) c",
        {"n": COMPANIES, "l": LANGS},
    )
    ex(
        """
        INSERT INTO buyers (id, company_name, company_key, country, contact_name, email, phone, timezone, size,
                            source, keywords, notes, meet_from, meet_to, meet_days, active, created_at, updated_at)
        SELECT b, 'Buyer Trading ' || b, 'buyer trading ' || b, (%(cc)s::text[])[b %% 10 + 1], 'Contact ' || b,
               'buyer' || b || '@bench.example.com', '', (%(tz)s::text[])[b %% 10 + 1],
               (ARRAY['small','medium','large','unknown'])[b %% 4 + 1], 'bench', 'import wholesale', '',
               time '08:00', time '20:00', '[0, 1, 2, 3, 4]', true, %(now)s, %(now)s
        FROM generate_series(1, %(n)s) b
        """,
        {"n": BUYERS, "cc": COUNTRIES, "tz": ZONES, "now": now},
    )
    ex("SELECT setval('buyers_id_seq', %(n)s)", {"n": BUYERS})
    ex(
        "INSERT INTO buyer_languages (buyer_id, code) SELECT b, l FROM generate_series(1, %(n)s) b, "
        "unnest(ARRAY['en', (%(l)s::text[])[b %% 10 + 1]]) l GROUP BY b, l",
        {"n": BUYERS, "l": LANGS},
    )
    ex(
        "INSERT INTO buyer_interests (buyer_id, code) SELECT b, c FROM generate_series(1, %(n)s) b, "
        "unnest(ARRAY[(%(hs)s::text[])[b %% 10 + 1], left((%(hs)s::text[])[(b + 3) %% 10 + 1], 4)]) c GROUP BY b, c",
        {"n": BUYERS, "hs": HS},
    )
    ex(
        """
        INSERT INTO interpreters (id, name, email, phone, specialties, max_sessions_per_day, locale, active,
                                  created_at, updated_at)
        SELECT p, 'Interpreter ' || p, 'interp' || p || '@bench.test', '', '무역', %(times)s, 'en', true,
               %(now)s, %(now)s
        FROM generate_series(1, %(n)s) p
        """,
        {"n": INTERPRETERS, "times": TIMES, "now": now},
    )
    ex("SELECT setval('interpreters_id_seq', %(n)s)", {"n": INTERPRETERS})
    ex(
        "INSERT INTO interpreter_languages (interpreter_id, code) SELECT p, l FROM generate_series(1, %(n)s) p, "
        "unnest(ARRAY['en', (%(l)s::text[])[p %% 10 + 1]]) l GROUP BY p, l",
        {"n": INTERPRETERS, "l": LANGS},
    )
    ex(
        'INSERT INTO interpreter_hours (interpreter_id, weekday, start, "end") '
        "SELECT p, w, time '09:00', time '18:00' FROM generate_series(1, %(n)s) p, generate_series(0, 4) w",
        {"n": INTERPRETERS},
    )

    # rounds: finalized, then the last past one held (logs still being written), then the open one
    months = round_months(today)
    for idx, (y, m, day) in enumerate(months):
        status = "open" if idx == ROUNDS - 1 else "held" if idx == ROUNDS - 2 else "finalized"
        opens = datetime.combine(day, datetime.min.time(), UTC) - timedelta(days=21)
        closes = datetime.combine(day, datetime.min.time(), UTC) - timedelta(days=2)
        ex(
            "INSERT INTO rounds (id, year, month, title, day, status, booking_opens_at, booking_closes_at, "
            "cancel_hours_before, company_cap, notes, opened_at, created_at, updated_at) "
            "VALUES (%s, %s, %s, %s, %s, %s, %s, %s, 48, %s, '', %s, %s, %s)",
            (idx + 1, y, m, f"{y}년 {m}월 수출상담회", day, status, opens, closes, CAP, opens, opens, opens),
        )
    ex("SELECT setval('rounds_id_seq', %(n)s)", {"n": ROUNDS})
    ex(
        """
        INSERT INTO slots (round_id, booth, starts_at, ends_at, closed)
        SELECT r.id, b, s, s + interval '50 minutes', false
        FROM rounds r, generate_series(1, %(booths)s) b, generate_series(0, %(times)s - 1) t,
             LATERAL (SELECT ((r.day + time '09:00') AT TIME ZONE 'Asia/Seoul') + t * interval '1 hour' AS s) x
        ORDER BY r.id, s, b
        """,
        {"booths": BOOTHS, "times": TIMES},
    )

    # bookings: past rounds held (5% cancelled, 5% no-show); the open round requested/matched/confirmed
    ex(
        """
        CREATE TEMP TABLE plan AS
        SELECT k, k %% %(rounds)s + 1 AS round_id, k / %(rounds)s AS i, abs(hashint4(k)) AS h
        FROM generate_series(0, %(n)s - 1) k
        """,
        {"n": consultations, "rounds": ROUNDS},
    )
    ex(
        """
        INSERT INTO bookings (id, round_id, slot_id, company_id, status, seq, cap, starts_at, ends_at, products,
            hs_codes, target_countries, languages, buyer_profile, notes, created_at, created_by_id, cancelled_at,
            from_waitlist, buyer_id, interpreter_id, buyer_response, interpreter_response, match_score,
            match_version, proposed_at, respond_by, confirmed_at, meeting_url)
        SELECT p.k + 1, p.round_id, s.id, (p.round_id * 997 + p.i / 3) %% %(companies)s + 1, st.status,
               p.i %% 3 + 1, %(cap)s, s.starts_at, s.ends_at, '제품 상담 ' || p.k,
               json_build_array((%(hs)s::text[])[p.h %% 10 + 1]), json_build_array((%(cc)s::text[])[p.h %% 10 + 1]),
               json_build_array('en'), '', '', s.starts_at - interval '14 days', NULL,
               CASE WHEN st.status = 'cancelled' THEN s.starts_at - interval '3 days' END, false,
               CASE WHEN st.status <> 'requested' THEN (p.round_id * 2000 + p.i) %% %(buyers)s + 1 END,
               CASE WHEN st.status <> 'requested' THEN p.i / %(times)s + 1 END,
               st.response, st.response,
               CASE WHEN st.status <> 'requested' THEN 40 + p.k %% 50 END,
               CASE WHEN st.status <> 'requested' THEN 1 ELSE 0 END,
               CASE WHEN st.status <> 'requested' THEN s.starts_at - interval '3 days' END,
               CASE WHEN st.status <> 'requested' THEN s.starts_at - interval '1 day' END,
               CASE WHEN st.status IN ('confirmed', 'held', 'no_show') THEN s.starts_at - interval '2 days' END,
               CASE WHEN st.status <> 'requested' THEN 'https://meet.jit.si/consultroom-bench-' || p.k ELSE '' END
        FROM plan p
        JOIN rounds r ON r.id = p.round_id
        JOIN slots s ON s.round_id = p.round_id AND s.booth = p.i / %(times)s + 1
             AND s.starts_at = ((r.day + time '09:00') AT TIME ZONE 'Asia/Seoul')
                               + (p.i %% %(times)s) * interval '1 hour'
        CROSS JOIN LATERAL (SELECT CASE
            WHEN r.status = 'open' THEN (ARRAY['requested', 'matched', 'confirmed', 'cancelled'])[p.i %% 4 + 1]
            WHEN p.h %% 20 = 0 THEN 'cancelled' WHEN p.h %% 20 = 1 THEN 'no_show' ELSE 'held' END AS status) st0
        CROSS JOIN LATERAL (SELECT st0.status, CASE st0.status WHEN 'requested' THEN NULL WHEN 'matched' THEN 'pending'
                                               ELSE 'accepted' END AS response) st
        """,
        {"companies": COMPANIES, "buyers": BUYERS, "cap": CAP, "times": TIMES, "hs": HS, "cc": COUNTRIES},
    )
    ex("SELECT setval('bookings_id_seq', (SELECT coalesce(max(id), 1) FROM bookings))")
    regular_sme(ex, password_hash=password_hash, now=now)

    # logs for held and no-show consultations; a third of the held round's are still missing
    ex(
        """
        INSERT INTO consultation_logs (booking_id, attendance, absent_party, buyer_interest, products_discussed,
            samples_requested, samples_text, next_action, next_action_on, notes, recorded_at, recorded_by_id,
            updated_at)
        SELECT b.id, CASE b.status WHEN 'held' THEN 'held' ELSE 'no_show' END,
               CASE b.status WHEN 'no_show' THEN 'buyer' END,
               (ARRAY['none','low','medium','high'])[abs(hashint4(b.id)) %% 4 + 1],
               b.products, b.id %% 3 = 0, '', '견적 송부', (b.starts_at + interval '7 days')::date, '',
               b.ends_at + interval '1 hour', 1, b.ends_at + interval '1 hour'
        FROM bookings b JOIN rounds r ON r.id = b.round_id
        WHERE b.status IN ('held', 'no_show') AND NOT (r.status = 'held' AND abs(hashint4(b.id)) %% 3 = 0)
        """
    )
    # outcomes of logged held consultations: about half contracted, the rest dropped or still open
    ex(
        """
        INSERT INTO outcomes (booking_id, stage, stage_on, created_at, last_update_at, followup_due_on)
        SELECT b.id, x.stage, least((b.starts_at + interval '30 days')::date, %(today)s::date),
               b.ends_at + interval '1 hour', x.updated,
               -- as the outcome services keep it: the first 1/3/6-month date after the last update
               CASE WHEN x.stage IN ('follow_up', 'sample_sent', 'negotiating') THEN
                 CASE WHEN (d.day + interval '1 month')::date > d.upd THEN (d.day + interval '1 month')::date
                      WHEN (d.day + interval '3 months')::date > d.upd THEN (d.day + interval '3 months')::date
                      WHEN (d.day + interval '6 months')::date > d.upd THEN (d.day + interval '6 months')::date
                 END END
        FROM bookings b JOIN consultation_logs l ON l.booking_id = b.id
        CROSS JOIN LATERAL (SELECT (ARRAY['contracted','contracted','contracted','contracted','contracted',
                                          'dropped','follow_up','sample_sent','negotiating','follow_up'])
                                   [abs(hashint4(b.id)) %% 10 + 1] AS stage,
                                   least(b.starts_at + interval '30 days', %(now)s) AS updated) x
        CROSS JOIN LATERAL (SELECT (b.starts_at AT TIME ZONE 'Asia/Seoul')::date AS day,
                                   (x.updated AT TIME ZONE 'Asia/Seoul')::date AS upd) d
        WHERE l.attendance = 'held'
        """,
        {"today": today, "now": now},
    )
    ex(
        "INSERT INTO outcome_changes (outcome_id, at, changed_on, actor_id, from_stage, to_stage, note) "
        "SELECT o.id, o.last_update_at, o.stage_on, c.id, NULL, o.stage, '' FROM outcomes o "
        "JOIN bookings b ON b.id = o.booking_id JOIN users c ON c.company_id = b.company_id"
    )
    first_day = date(months[0][0], 1, 1)
    ex(
        """
        INSERT INTO exchange_rates (currency, day, krw_per_unit, updated_at)
        SELECT c.code, d::date, round((c.base * (1 + 0.05 * sin(extract(epoch FROM d) / 8e6)))::numeric, 6), %(now)s
        FROM (VALUES ('USD', 1300), ('JPY', 9), ('CNY', 185), ('EUR', 1450)) c(code, base),
             generate_series(%(first)s::date, %(today)s::date, interval '1 day') d
        """,
        {"first": first_day, "today": today, "now": now},
    )
    ex(
        """
        INSERT INTO contracts (outcome_id, currency, amount_minor, signed_on, items, krw_value, rate_day, rate,
                               created_at, created_by_id)
        SELECT o.id, cur.code, cur.amount, o.stage_on, '수출 계약',
               round(cur.amount * x.krw_per_unit / (10 ^ cur.exp)::numeric)::bigint, x.day, x.krw_per_unit,
               o.last_update_at, 1
        FROM outcomes o
        CROSS JOIN LATERAL (SELECT (ARRAY['USD','JPY','CNY','EUR'])[o.id %% 4 + 1] AS code,
                                   (ARRAY[2, 0, 2, 2])[o.id %% 4 + 1] AS exp,
                                   (ARRAY[1500000, 2000000, 10000000, 1200000])[o.id %% 4 + 1]
                                     * (1 + o.id %% 17) AS amount) cur
        JOIN exchange_rates x ON x.currency = cur.code AND x.day = o.stage_on
        WHERE o.stage = 'contracted'
        """
    )

    # the SME survey: three 1-5 questions and a comment; invitations for held consultations, 90% answered
    ex(
        "INSERT INTO survey_versions (id, audience, number, active, created_at, created_by_id) "
        "VALUES (1, 'sme', 1, true, %(now)s, 2)",
        {"now": now},
    )
    ex("SELECT setval('survey_versions_id_seq', 1)")
    ex(
        "INSERT INTO survey_questions (version_id, position, kind, text_ko, text_en, required) VALUES "
        "(1, 1, 'scale5', '상담에 만족하셨습니까?', 'How satisfied were you?', true), "
        "(1, 2, 'scale5', '바이어가 적합했습니까?', 'Did the buyer fit?', true), "
        "(1, 3, 'scale5', '통역은 원활했습니까?', 'Was the interpretation good?', true), "
        "(1, 4, 'text', '개선할 점', 'What could we do better?', false)"
    )
    ex(
        """
        INSERT INTO survey_invitations (booking_id, respondent, buyer_id, locale, invited_at, expires_at,
                                        mails_sent)
        SELECT b.id, 'sme', NULL, 'ko', x.at, x.at + interval '21 days', 1
        FROM bookings b JOIN rounds r ON r.id = b.round_id JOIN consultation_logs l ON l.booking_id = b.id
        -- the held round's invitations went out late (its logs are still coming in), so they are still open
        CROSS JOIN LATERAL (SELECT CASE WHEN r.status = 'held' THEN %(now)s - interval '2 days'
                                        ELSE b.ends_at + interval '2 hours' END AS at) x
        WHERE l.attendance = 'held'
        """,
        {"now": now},
    )
    ex(
        """
        INSERT INTO survey_responses (invitation_id, version_id, submitted_at, locale, user_id)
        SELECT v.id, 1, v.invited_at + interval '1 day', 'ko', u.id
        FROM survey_invitations v JOIN bookings b ON b.id = v.booking_id JOIN users u ON u.company_id = b.company_id
        WHERE abs(hashint4(v.id)) %% 10 <> 3 AND v.invited_at + interval '1 day' < %(now)s
              -- half of the late invitations (the held round's) are still open, so a live answer page exists
              AND NOT (v.invited_at > %(now)s - interval '3 days' AND v.id %% 2 = 0)
        """,
        {"now": now},
    )
    ex(
        """
        INSERT INTO survey_answers (response_id, question_id, score, text)
        SELECT r.id, q.id, CASE WHEN q.kind = 'scale5' THEN 3 + (r.id + q.position) %% 3 END,
               CASE WHEN q.kind = 'text' THEN '좋았습니다' END
        FROM survey_responses r CROSS JOIN survey_questions q
        WHERE q.kind = 'scale5' OR r.id %% 3 = 0
        """
    )
    ex(
        """
        INSERT INTO report_targets (year, metric, value, published, published_at, updated_at, updated_by_id)
        SELECT y, m.metric, m.value, true, make_date(y, 1, 15), %(now)s, 2
        FROM generate_series(%(y0)s::int, %(y1)s::int) y,
             (VALUES ('consultations', %(per_year)s), ('contracts', %(per_year)s / 2),
                     ('contract_value_krw', 8500000000), ('smes', 100), ('satisfaction', 4.5)) m(metric, value)
        """,
        {"now": now, "y0": months[0][0], "y1": months[-1][0], "per_year": max(1, consultations // 12)},
    )
    trails(ex, now)
    # The year figures' summary, by the app's own statement (one INSERT ... SELECT over every booking).
    from sqlalchemy.dialects import postgresql

    from consultroom.reports.facts import fill_statement

    ex("SET jit = off")  # as refresh_all: compiling the plan took longer than running it
    conn.execute(str(fill_statement().compile(dialect=postgresql.dialect(), compile_kwargs={"literal_binds": True})))
    counts = {}
    for table in ("users", "companies", "buyers", "interpreters", "rounds", "slots", "bookings",
                  "consultation_logs", "outcomes", "contracts", "survey_invitations", "survey_responses",
                  "consultation_facts", "audit_entries", "outbox_mails", "personal_data_access",
                  "job_runs"):  # fmt: skip
        counts[table] = conn.execute(f"SELECT count(*) FROM {table}").fetchone()[0]
    return counts


def regular_sme(ex, *, password_hash: str, now: datetime) -> None:
    """The SME whose pages the benchmark reads: the same company with the same history at every size,
    one consultation in each of the last REGULAR_ROUNDS past rounds and a request in the open one, so
    its own pages (bookings, consultations, its data) hold the same rows at 2,000 and at 200,000 and
    the ratio between the sizes measures the national tables around it, not a longer history. Its
    bookings sit in the last booth's first hour, which the layout leaves free below 250 x 8 per round,
    with a buyer (place 1999) and an interpreter (the booth's) no other booking of the round has, and
    fixed ids (REGULAR_FIRST_ID + round), so their logs, outcomes and surveys are the same too."""
    c = REGULAR
    ex(
        """
        INSERT INTO companies (id, name_ko, name_en, business_number, representative, address, industry, products,
                               website, contact_name, contact_email, contact_phone, created_at, updated_at)
        VALUES (%(c)s, '벤치 정기기업', 'Bench Regular Co', '9999999999', '홍길동', '부산광역시 해운대구 센텀중앙로 1',
                '화장품', '기초화장품', '', '담당자', 'regular@bench.test', '051-000-9999', %(now)s, %(now)s)
        """,
        {"c": c, "now": now},
    )
    ex("SELECT setval('companies_id_seq', %(c)s)", {"c": c})
    ex(
        "INSERT INTO users (email, password_hash, name, role, locale, timezone, active, email_confirmed_at, "
        "session_version, company_id, created_at, updated_at) VALUES ('regular@bench.test', %(h)s, '담당자', 'sme', "
        "'ko', 'Asia/Seoul', true, %(now)s, 1, %(c)s, %(now)s, %(now)s)",
        {"c": c, "h": password_hash, "now": now},
    )
    ex("INSERT INTO company_hs_codes (company_id, code) VALUES (%(c)s, '330499'), (%(c)s, '330410')", {"c": c})
    ex(
        "INSERT INTO company_countries (company_id, kind, code) "
        "VALUES (%(c)s, 'export', 'US'), (%(c)s, 'target', 'VN')",
        {"c": c},
    )
    ex("INSERT INTO company_languages (company_id, code) VALUES (%(c)s, 'en')", {"c": c})
    ex(
        """
        INSERT INTO bookings (id, round_id, slot_id, company_id, status, seq, cap, starts_at, ends_at, products,
            hs_codes, target_countries, languages, buyer_profile, notes, created_at, created_by_id, cancelled_at,
            from_waitlist, buyer_id, interpreter_id, buyer_response, interpreter_response, match_score,
            match_version, proposed_at, respond_by, confirmed_at, meeting_url)
        SELECT %(first_id)s + r.id, r.id, s.id, %(c)s, st.status, 1, %(cap)s, s.starts_at, s.ends_at,
               '기초화장품 상담 ' || r.id,
               '["330499"]', '["US"]', '["en"]', '', '', s.starts_at - interval '14 days', NULL, NULL, false,
               CASE WHEN st.status <> 'requested' THEN (r.id * 2000 + 1999) %% %(buyers)s + 1 END,
               CASE WHEN st.status <> 'requested' THEN %(booths)s END,
               st.response, st.response, CASE WHEN st.status <> 'requested' THEN 70 END,
               CASE WHEN st.status <> 'requested' THEN 1 ELSE 0 END,
               CASE WHEN st.status <> 'requested' THEN s.starts_at - interval '3 days' END,
               CASE WHEN st.status <> 'requested' THEN s.starts_at - interval '1 day' END,
               CASE WHEN st.status <> 'requested' THEN s.starts_at - interval '2 days' END,
               CASE WHEN st.status <> 'requested' THEN 'https://meet.jit.si/consultroom-bench-regular-' || r.id
                    ELSE '' END
        FROM rounds r
        JOIN slots s ON s.round_id = r.id AND s.booth = %(booths)s
             AND s.starts_at = (r.day + time '09:00') AT TIME ZONE 'Asia/Seoul'
        CROSS JOIN LATERAL (SELECT CASE WHEN r.status = 'open' THEN 'requested' WHEN r.id %% 8 = 0 THEN 'no_show'
                                        ELSE 'held' END AS status) st0
        CROSS JOIN LATERAL (SELECT st0.status, CASE WHEN st0.status = 'requested' THEN NULL ELSE 'accepted' END
                                   AS response) st
        WHERE r.id > %(rounds)s - %(history)s - 1
        """,
        {
            "c": c,
            "cap": CAP,
            "buyers": BUYERS,
            "booths": BOOTHS,
            "rounds": ROUNDS,
            "history": REGULAR_ROUNDS,
            "first_id": REGULAR_FIRST_ID,
        },
    )
    ex("SELECT setval('bookings_id_seq', (SELECT max(id) FROM bookings))")


def trails(ex, now: datetime) -> None:
    """What running the program leaves behind, which the audit, outbox, access-log and jobs pages read:
    per booking the audit entries of the steps it has been through by now (request, proposal, answer,
    log) and four mails (received, proposed to the buyer, confirmed, survey; those of the last day
    still waiting), two access-log rows (staff reading the company), and the scheduler's runs of the
    last JOB_RUN_DAYS days, each job at its own period (what the daily clean-up keeps: about 6,200
    runs a day, four jobs running every minute)."""
    from consultroom.scheduler import jobs as _jobs  # noqa: F401 - registers the jobs
    from consultroom.scheduler.registry import JOBS

    specs = list(JOBS.values())
    ex(
        """
        INSERT INTO audit_entries (at, actor_id, action, object_type, object_id, before, after)
        SELECT b.created_at + a.shift, CASE WHEN a.by_sme THEN u.id ELSE 1 END, a.action, 'booking', b.id,
               NULL, json_build_object('status', b.status)
        FROM bookings b JOIN users u ON u.company_id = b.company_id
        CROSS JOIN (VALUES ('booking.create', true, interval '0', ARRAY['requested', 'matched', 'confirmed',
                                                                          'held', 'no_show', 'cancelled']),
                           ('booking.match.propose', false, interval '11 days',
                            ARRAY['matched', 'confirmed', 'held', 'no_show', 'cancelled']),
                           ('booking.match.accept', false, interval '12 days', ARRAY['confirmed', 'held', 'no_show']),
                           ('consultation_log.save', false, interval '15 days', ARRAY['held', 'no_show'])
                   ) a(action, by_sme, shift, statuses)
        -- what each booking's state has been through, and nothing yet to happen
        WHERE b.status = ANY (a.statuses) AND b.created_at + a.shift <= %(now)s
        ORDER BY 1
        """,
        {"now": now},
    )
    ex(
        """
        INSERT INTO outbox_mails (message_id, to_addr, user_id, template, locale, subject, body_text, status,
                                  attempts, created_at, next_attempt_at, sent_at)
        SELECT '<bench-' || b.id || '-' || m.n || '@consultroom.test>',
               CASE WHEN m.to_buyer THEN 'buyer' || coalesce(b.buyer_id, 1) || '@bench.example.com'
                    ELSE 'sme' || b.company_id || '@bench.test' END,
               CASE WHEN m.to_buyer THEN NULL ELSE u.id END, m.template, CASE WHEN m.to_buyer THEN 'en' ELSE 'ko' END,
               m.template || ' ' || b.id, 'Consultation ' || b.id || ' at ' || b.starts_at || '.',
               CASE WHEN b.created_at + m.shift > %(now)s - interval '1 day' THEN 'pending'
                    WHEN (b.id + m.n) %% 500 = 0 THEN 'failed' ELSE 'sent' END,
               1, b.created_at + m.shift, b.created_at + m.shift,
               CASE WHEN b.created_at + m.shift > %(now)s - interval '1 day' THEN NULL
                    WHEN (b.id + m.n) %% 500 = 0 THEN NULL ELSE b.created_at + m.shift END
        FROM bookings b JOIN users u ON u.company_id = b.company_id
        CROSS JOIN (VALUES (1, 'booking_received', false, interval '0'),
                           (2, 'match_proposed', true, interval '11 days'),
                           (3, 'match_confirmed_company', false, interval '12 days'),
                           (4, 'survey_invitation', false, interval '15 days')) m(n, template, to_buyer, shift)
        WHERE b.created_at + m.shift <= %(now)s
        ORDER BY b.created_at + m.shift
        """,
        {"now": now},
    )
    ex(
        """
        INSERT INTO personal_data_access (at, actor_id, subject_type, subject_id, action, what, via)
        SELECT b.created_at + v.shift, 1, 'company', b.company_id, 'view', v.what, 'web'
        FROM bookings b
        CROSS JOIN (VALUES ('bookings.detail', interval '1 day'),
                           ('matching.booking', interval '11 days')) v(what, shift)
        ORDER BY 1
        """
    )
    ex(
        """
        INSERT INTO job_runs (job, period, status, attempts, started_at, finished_at, runner, result)
        SELECT j.job, to_char(t AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI"Z"'),
               CASE WHEN extract(epoch FROM t)::bigint %% 86400 = 3600 THEN 'failed' ELSE 'succeeded' END,
               1, t, t + interval '1 second', 'bench:1', 'ok'
        FROM (SELECT * FROM unnest(%(jobs)s::text[], %(minutes)s::int[])) j(job, minutes),
             LATERAL (SELECT j.minutes * interval '1 minute' AS step) p,
             -- each job's periods as the scheduler floors them, the current one not yet run
             generate_series(date_bin(p.step, %(now)s::timestamptz - %(days)s * interval '1 day', 'epoch'),
                             date_bin(p.step, %(now)s::timestamptz, 'epoch') - p.step, p.step) t
        """,
        {
            "now": now,
            "days": JOB_RUN_DAYS,
            "jobs": [j.name for j in specs],
            "minutes": [j.every_minutes for j in specs],
        },
    )


@dataclass
class Page:
    label: str
    role: str  # anon, sme, staff, admin, link (signed link, no session), or api-<role>
    url: str
    kind: str  # list, object, form, year, export, download (a prepared file), static
    samples: list[float] = field(default_factory=list)
    queries: int = 0
    status: int = 0
    mimetype: str = ""


def fixtures(conn) -> dict:
    """Ids the pages need, chosen by what the data holds, not by fixed numbers."""
    one = lambda q: conn.execute(q).fetchone()  # noqa: E731 - tiny local helper
    open_round = one("SELECT id FROM rounds WHERE status = 'open'")[0]
    past_round = one("SELECT id FROM rounds WHERE status = 'finalized' ORDER BY day DESC LIMIT 1")[0]
    held = one(
        "SELECT b.id, b.company_id, min(c.id) FROM bookings b JOIN outcomes o ON o.booking_id = b.id "
        f"JOIN contracts c ON c.outcome_id = o.id WHERE o.stage = 'contracted' AND b.company_id = {REGULAR} "
        "GROUP BY b.id ORDER BY b.id LIMIT 1"
    )
    if held is None:
        raise SystemExit("the regular SME has no contracted consultation: change its history (regular_sme)")
    own_booking = one(
        f"SELECT id FROM bookings WHERE company_id = {held[1]} AND status <> 'cancelled' ORDER BY id LIMIT 1"
    )[0]
    requested = one(f"SELECT id FROM bookings WHERE round_id = {open_round} AND status = 'requested' LIMIT 1")
    matched = one(
        f"SELECT id, buyer_id, interpreter_id FROM bookings WHERE round_id = {open_round} "
        "AND status = 'matched' LIMIT 1"
    )
    free_slot, free_at = one(
        f"SELECT s.id, extract(epoch FROM s.starts_at)::bigint FROM slots s WHERE s.round_id = {open_round} "
        "AND NOT EXISTS (SELECT 1 FROM bookings b WHERE b.slot_id = s.id AND b.status <> 'cancelled') "
        "ORDER BY s.id LIMIT 1"
    )
    interpreted = one("SELECT id FROM bookings WHERE interpreter_id = 1 AND starts_at < now() ORDER BY id LIMIT 1")
    unanswered = one(
        "SELECT v.id FROM survey_invitations v WHERE v.expires_at > now() AND NOT EXISTS "
        "(SELECT 1 FROM survey_responses r WHERE r.invitation_id = v.id) ORDER BY v.invited_at DESC LIMIT 1"
    )
    return {
        "open_round": open_round,
        "past_round": past_round,
        "year": one(f"SELECT year FROM rounds WHERE id = {past_round}")[0],
        "held": held[0],
        "contract": held[2],
        "company": held[1],
        "sme_email": one(f"SELECT email FROM users WHERE company_id = {held[1]}")[0],
        "own_booking": own_booking,
        "requested": requested[0] if requested else None,
        "matched": matched,
        "free_slot": free_slot,
        "free_at": free_at,
        "unanswered": unanswered[0] if unanswered else None,
        # a past consultation of interpreter 1, for its log page by signed link
        "interpreted": interpreted[0] if interpreted else None,
        "buyer": 1,
        "interpreter": 1,
        "rate": one("SELECT id FROM exchange_rates ORDER BY day DESC LIMIT 1")[0],
        "question": one("SELECT id FROM survey_questions ORDER BY id LIMIT 1")[0],
    }


def pages(app, f: dict) -> list[Page]:
    from consultroom.extensions import db
    from consultroom.interpreters.models import Interpreter
    from consultroom.interpreters.services import portal_token
    from consultroom.matching.confirmation import make_response_token
    from consultroom.surveys.models import SurveyInvitation
    from consultroom.surveys.services import make_survey_token

    o, r, p, y, c = f["open_round"], f["past_round"], f["held"], f["year"], f["company"]
    out = [
        Page("home", "anon", "/", "form"),
        Page("home: SME to-do", "sme", "/", "object"),
        Page("home: staff to-do", "staff", "/", "object"),
        Page("home: admin to-do", "admin", "/", "object"),
        Page("bookings to match", "staff", "/staff/matching/work?need=match", "list"),
        Page("privacy notice", "anon", "/privacy/", "form"),
        Page("public program, current year", "anon", "/program", "year"),
        Page(f"public program {y}", "anon", f"/program/{y}", "year"),
        Page("login", "anon", "/login", "form"),
        Page("register", "anon", "/register", "form"),
        Page("forgot password", "anon", "/password/forgot", "form"),
        Page("account", "sme", "/account", "form"),
        Page("my company (redirect)", "sme", "/company", "object"),
        Page("own company", "sme", f"/companies/{c}", "object"),
        Page("own company edit", "sme", f"/companies/{c}/edit", "object"),
        Page("rounds (SME)", "sme", "/rounds", "list"),
        Page("open round (SME)", "sme", f"/rounds/{o}", "object"),
        Page("book a slot", "sme", f"/rounds/{o}/slots/{f['free_slot']}/book", "form"),
        Page("book a time", "sme", f"/rounds/{o}/times/{f['free_at']}/book", "form"),
        Page("join waitlist", "sme", f"/rounds/{o}/waitlist", "form"),
        Page("my bookings", "sme", "/bookings", "list"),
        Page("booking (SME)", "sme", f"/bookings/{f['own_booking']}", "object"),
        Page("cancel booking (SME)", "sme", f"/bookings/{f['own_booking']}/cancel", "form"),
        Page("calendar feed page", "sme", "/calendar", "form"),
        Page("booking .ics", "sme", f"/bookings/{f['own_booking']}.ics", "object"),
        Page("consultation (SME)", "sme", f"/consultations/{p}", "object"),
        Page("new contract", "sme", f"/consultations/{p}/contracts/new", "form"),
        Page("correct a contract", "staff", f"/consultations/{p}/contracts/{f['contract']}/edit", "object"),
        Page("my data", "sme", "/my-data/", "object"),
        Page("my data .json", "sme", "/my-data/export.json", "export"),
        Page("my data .xlsx", "sme", "/my-data/export.xlsx", "export"),
        Page("companies", "staff", "/companies", "list"),
        Page("company (staff)", "staff", f"/companies/{c}", "object"),
        Page("audit log", "staff", "/staff/audit", "list"),
        Page("audit log (old address)", "staff", "/admin/audit", "static"),
        Page("rounds (staff)", "staff", "/staff/rounds", "list"),
        Page("new round", "staff", "/staff/rounds/new", "form"),
        Page("edit round", "staff", f"/staff/rounds/{o}/edit", "object"),
        Page("round grid, open round", "staff", f"/staff/rounds/{o}", "object"),
        Page("round grid, past round", "staff", f"/staff/rounds/{r}", "object"),
        Page(
            "round grid, open round, free at one time",
            "staff",
            f"/staff/rounds/{o}?status=free&at={f['free_at']}",
            "object",
        ),
        Page("slot (staff)", "staff", f"/staff/slots/{f['free_slot']}", "object"),
        Page("closed dates", "staff", "/staff/closed-dates", "list"),
        Page("jobs", "staff", "/staff/jobs", "list"),
        Page("buyers", "staff", "/staff/buyers", "list"),
        Page("new buyer", "staff", "/staff/buyers/new", "form"),
        Page("buyer", "staff", f"/staff/buyers/{f['buyer']}", "object"),
        Page("buyer edit", "staff", f"/staff/buyers/{f['buyer']}/edit", "object"),
        Page("buyer import", "staff", "/staff/buyers/import", "form"),
        Page("interpreters", "staff", "/staff/interpreters", "list"),
        Page("new interpreter", "staff", "/staff/interpreters/new", "form"),
        Page("interpreter", "staff", f"/staff/interpreters/{f['interpreter']}", "object"),
        Page("interpreter edit", "staff", f"/staff/interpreters/{f['interpreter']}/edit", "object"),
        Page("interpreter hours", "staff", f"/staff/interpreters/{f['interpreter']}/hours", "object"),
        Page("interpreter exceptions", "staff", f"/staff/interpreters/{f['interpreter']}/exceptions", "object"),
        Page("interpreter import", "staff", "/staff/interpreters/import", "form"),
        Page("interpreter report", "staff", "/staff/interpreters/report", "list"),
        Page("interpreter report .csv", "staff", "/staff/interpreters/report.csv", "export"),
        Page("round proposals", "staff", f"/staff/matching/rounds/{o}", "list"),
        Page("consultation (staff)", "staff", f"/consultations/{p}", "object"),
        Page("consultation log", "staff", f"/consultations/{p}/log", "object"),
        Page("missing logs", "staff", "/staff/consultations/missing-logs", "list"),
        Page("overdue outcomes", "staff", "/staff/outcomes/overdue", "list"),
        Page(f"survey results {y}", "staff", f"/staff/surveys/results?start={y}-01-01&end={y}-12-31", "year"),
        Page(
            f"survey results {y} .csv", "staff", f"/staff/surveys/results.csv?start={y}-01-01&end={y}-12-31", "export"
        ),
        Page(
            f"survey results {y} .xlsx", "staff", f"/staff/surveys/results.xlsx?start={y}-01-01&end={y}-12-31", "export"
        ),
        Page(f"year report {y}", "staff", f"/staff/reports?year={y}", "year"),
        Page(f"year report {y} .csv", "staff", f"/staff/reports.csv?year={y}", "export"),
        Page(f"year report {y} .xlsx", "staff", f"/staff/reports.xlsx?year={y}", "export"),
        Page("erasure requests", "staff", "/staff/privacy/erasure-requests", "list"),
        Page("subject export .json", "staff", f"/staff/privacy/subjects/buyer/{f['buyer']}/export.json", "export"),
        Page("users", "admin", "/admin/users", "list"),
        Page("outbox", "admin", "/admin/outbox", "list"),
        Page("retry failed mails", "admin", "/admin/outbox/retry-failed", "form"),
        Page("round settings", "admin", "/staff/settings/rounds", "form"),
        Page("match weights", "admin", "/staff/matching/settings", "form"),
        Page("exchange rates", "admin", "/admin/rates", "list"),
        Page("new rate", "admin", "/admin/rates/new", "form"),
        Page("edit rate", "admin", f"/admin/rates/{f['rate']}/edit", "object"),
        Page("rate import", "admin", "/admin/rates/import", "form"),
        Page("survey questions", "admin", "/admin/surveys", "list"),
        Page("new question", "admin", "/admin/surveys/questions/new", "form"),
        Page("edit question", "admin", f"/admin/surveys/questions/{f['question']}/edit", "object"),
        Page("targets", "admin", "/admin/targets", "form"),
        Page("retention", "admin", "/staff/privacy/retention", "form"),
        Page("access log", "admin", "/admin/access-log/", "list"),
        Page("access log .csv", "admin", "/admin/access-log/export.csv", "export"),
        Page("access log .xlsx", "admin", "/admin/access-log/export.xlsx", "export"),
        Page("exports (staff)", "staff", "/staff/exports", "list"),
        Page(f"prepared survey answers {y} .csv", "staff", f"/staff/exports/{f['export_csv']}/download", "download"),
        Page(f"prepared survey results {y} .xlsx", "staff", f"/staff/exports/{f['export_xlsx']}/download", "download"),
    ]
    if f["requested"]:
        out.append(Page("recommendations", "staff", f"/staff/matching/bookings/{f['requested']}", "object"))
        out.append(Page("move a booking", "staff", f"/staff/bookings/{f['requested']}/move", "object"))
        out.append(
            Page("recommendations (API)", "api-staff", f"/api/v1/bookings/{f['requested']}/recommendations", "object")
        )
    with app.test_request_context():
        if f["matched"]:
            from consultroom.bookings.models import Booking

            booking = db.session.get(Booking, f["matched"][0])
            token = make_response_token(booking, "buyer")
            out.append(Page("buyer's answer page", "link", f"/respond/{token}", "object"))
            out.append(Page("buyer's .ics", "link", f"/respond/{token}/ics", "object"))
        interpreter = db.session.get(Interpreter, f["interpreter"])
        out.append(Page("interpreter portal", "link", f"/interpreter/{portal_token(interpreter)}", "list"))
        if f["interpreted"]:
            url = f"/interpreter/{portal_token(interpreter)}/log/{f['interpreted']}"
            out.append(Page("interpreter's log page", "link", url, "object"))
        if f["unanswered"]:
            invitation = db.session.get(SurveyInvitation, f["unanswered"])
            out.append(Page("survey answer page", "link", f"/survey/{make_survey_token(invitation)}", "form"))
        db.session.remove()
    api = [
        ("tokens", "sme", "/api/v1/tokens", "list"),
        ("me", "sme", "/api/v1/me", "object"),
        ("companies (SME)", "sme", "/api/v1/companies", "list"),
        ("companies", "staff", "/api/v1/companies", "list"),
        ("company", "staff", f"/api/v1/companies/{c}", "object"),
        ("rounds", "sme", "/api/v1/rounds", "list"),
        ("round", "sme", f"/api/v1/rounds/{o}", "object"),
        ("round slots", "sme", f"/api/v1/rounds/{o}/slots", "list"),
        ("bookings (SME)", "sme", "/api/v1/bookings", "list"),
        ("bookings (staff)", "staff", "/api/v1/bookings", "list"),
        ("booking", "sme", f"/api/v1/bookings/{f['own_booking']}", "object"),
        ("booking .ics", "sme", f"/api/v1/bookings/{f['own_booking']}/ics", "object"),
        ("consultation", "sme", f"/api/v1/consultations/{p}", "object"),
        ("buyers", "staff", "/api/v1/buyers", "list"),
        ("buyer", "staff", f"/api/v1/buyers/{f['buyer']}", "object"),
        ("interpreters", "staff", "/api/v1/interpreters", "list"),
        ("interpreter", "staff", f"/api/v1/interpreters/{f['interpreter']}", "object"),
        ("matching settings", "staff", "/api/v1/matching/settings", "object"),
        ("rates", "admin", "/api/v1/rates", "list"),
        ("survey responses (SME)", "sme", "/api/v1/survey-responses", "list"),
        ("survey responses (staff)", "staff", "/api/v1/survey-responses", "list"),
        (f"report {y}", "staff", f"/api/v1/reports/program?year={y}", "year"),
        ("my data", "sme", "/api/v1/me/data", "object"),
        ("my consents", "sme", "/api/v1/me/consents", "list"),
        ("access log", "admin", "/api/v1/access-log", "list"),
        ("openapi.json", "anon", "/api/v1/openapi.json", "static"),
    ]
    out += [Page(f"API {label}", f"api-{role}", url, kind) for label, role, url, kind in api]
    return out


# GET endpoints the benchmark does not request, and why; any other one missing from `pages` is reported.
NOT_MEASURED = {
    "static": "static file",
    "bootstrap.static": "static file",
    "favicon": "static file",
    "main.health": "the baseline",
    "accounts.confirm_email": "single-use account link",
    "accounts.reset_password": "single-use account link",
    "companies.new": "only for an SME without a company",
    "notifications.detail": "the data set queues no mail",
    "buyers.import_preview": "needs an uploaded file",
    "interpreters.import_preview": "needs an uploaded file",
    "matching.proposal": "needs a whole-round proposal (the matcher's run, not a page)",
    "api.get_proposal": "needs a whole-round proposal (the matcher's run, not a page)",
    "interpreters.me": "the data set's interpreters work by signed link",
    "privacy.erasure_request": "the data set has no erasure request",
    "bookings.calendar_feed": "the data set makes no private calendar feed",
}


def unmeasured(app, measured: list[Page]) -> list[str]:
    adapter = app.url_map.bind("localhost")
    seen = {adapter.match(p.url.split("?")[0], method="GET")[0] for p in measured}
    every = {r.endpoint for r in app.url_map.iter_rules() if "GET" in r.methods}
    return sorted(every - seen - set(NOT_MEASURED))


def sign_in(client, email: str) -> None:
    """The real login form: the CSRF token from the page, then the POST."""
    html = client.get("/login").get_data(as_text=True)
    token = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', html) or re.search(
        r'name="csrf_token" value="([^"]+)"', html
    )
    response = client.post("/login", data={"email": email, "password": PASSWORD, "csrf_token": token.group(1)})
    if response.status_code != 302:
        raise SystemExit(f"login as {email} answered {response.status_code}")


def api_token(client, email: str) -> str:
    response = client.post("/api/v1/tokens", json={"email": email, "password": PASSWORD, "name": "bench"})
    if response.status_code != 201:
        raise SystemExit(f"POST /api/v1/tokens as {email} answered {response.status_code}: {response.get_data()[:200]}")
    return response.get_json()["token"]


# Files too large to write while the user waits: asked for by the page's POST, written by the export
# job; the benchmark times each file's writing (the job's started_at to finished_at).
BACKGROUND = [
    ("survey answers {y} .csv", "staff", "/staff/surveys/results.csv?start={y}-01-01&end={y}-12-31", "export_csv"),
    ("survey results {y} .xlsx", "staff", "/staff/surveys/results.xlsx?start={y}-01-01&end={y}-12-31", "export_xlsx"),
    ("access log .csv", "admin", "/admin/access-log/export.csv", "export_log_csv"),
    ("access log .xlsx", "admin", "/admin/access-log/export.xlsx", "export_log_xlsx"),
]
JOBS_TIMED: list[tuple[str, float, int]] = []  # (label, ms, bytes) of the last data set


def prepare_exports(app, f: dict, clients: dict) -> dict:
    """POST each large export as its user would (CSRF token from a form page), run the export job once,
    and read each file's writing time back from its row. Returns the export ids the pages download."""
    from sqlalchemy import select

    from consultroom.db import utcnow
    from consultroom.exports.models import ExportFile
    from consultroom.extensions import db
    from consultroom.scheduler.runner import run_job

    ids: dict[str, int] = {}
    for _label, role, url, _key in BACKGROUND:
        client = clients[role]
        html = client.get("/account").get_data(as_text=True)
        token = re.search(r'name="csrf_token" (?:type="hidden" )?value="([^"]+)"', html).group(1)
        response = client.post(url.format(y=f["year"]), data={"csrf_token": token})
        if response.status_code != 303:
            raise SystemExit(f"POST {url} answered {response.status_code}")
    with app.app_context():
        started = time.perf_counter()
        outcome = run_job("prepare_exports", now=utcnow())
        total_ms = 1000 * (time.perf_counter() - started)
        rows = db.session.scalars(select(ExportFile).order_by(ExportFile.id)).all()
        JOBS_TIMED.clear()
        for (label, _role, _url, key), row in zip(BACKGROUND, rows[-len(BACKGROUND) :], strict=True):
            if row.status != "done":
                raise SystemExit(f"export {label} ended {row.status}: {row.error}")
            ms = 1000 * (row.finished_at - row.started_at).total_seconds()
            JOBS_TIMED.append((label.format(y=f["year"]), ms, row.size))
            ids[key] = row.id
        db.session.remove()
    print(f"  export job: {outcome.detail} in {total_ms:.0f} ms", file=sys.stderr, flush=True)
    return ids


def measure(app, f: dict, repeat: int, only: str | None = None) -> tuple[list[Page], float]:
    from sqlalchemy import event

    from consultroom.extensions import db

    emails = {"sme": f["sme_email"], "staff": "staff@bench.test", "admin": "admin@bench.test"}
    clients = {"anon": app.test_client(), "link": app.test_client()}
    headers: dict[str, dict[str, str]] = {"anon": {}, "link": {}}
    for role, email in emails.items():
        clients[role] = app.test_client()
        sign_in(clients[role], email)
        headers[role] = {}
        token = api_token(app.test_client(), email)
        clients[f"api-{role}"] = app.test_client()
        headers[f"api-{role}"] = {"Authorization": f"Bearer {token}"}
    clients["api-anon"], headers["api-anon"] = app.test_client(), {}

    counter = [0]
    with app.app_context():
        engine = db.engine

    def count(*_args, **_kwargs):
        counter[0] += 1

    event.listen(engine, "before_cursor_execute", count)

    def hit(page: Page) -> tuple[float, int, int]:
        counter[0] = 0
        t0 = time.perf_counter()
        response = clients[page.role].get(page.url, headers=headers[page.role])
        response.get_data()
        page.mimetype = response.mimetype
        return 1000 * (time.perf_counter() - t0), counter[0], response.status_code

    f = {**f, **prepare_exports(app, f, clients)}
    health = Page("/healthz", "anon", "/healthz", "static")
    todo = [health, *pages(app, f)]
    missing = unmeasured(app, todo)
    if only:
        todo = [health, *(p for p in todo[1:] if re.search(only, p.label))]
    elif missing:
        raise SystemExit(f"GET endpoints neither measured nor listed in NOT_MEASURED: {missing}")
    for page in todo:
        warm, page.queries, page.status = hit(page)
        if warm > 1000 * SLOW_WARMUP_S:
            page.samples.append(warm)  # seconds per request: warm-up effects are noise, and time is short
        else:
            page.samples += [hit(page)[0] for _ in range(repeat)]
        print(
            f"  {page.label:38} {statistics.median(page.samples):9.1f} ms {page.queries:4} q  [{page.status}]",
            file=sys.stderr,
            flush=True,
        )
    event.remove(engine, "before_cursor_execute", count)
    return todo[1:], statistics.median(health.samples)


def run_size(args, size: int) -> dict:
    import psycopg
    from flask_migrate import upgrade

    from consultroom.accounts.passwords import hash_password

    db_url = recreate_database(args.admin_url, f"{args.db_prefix}_{size}")
    app = make_app(db_url)
    with app.app_context():
        upgrade(directory=str(ROOT / "migrations"))
        password_hash = hash_password(PASSWORD)
    print(f"[{size}] generating ...", file=sys.stderr, flush=True)
    t0 = time.perf_counter()
    with psycopg.connect(db_url) as conn:
        counts = generate(conn, consultations=size, password_hash=password_hash, now=datetime.now(UTC))
        conn.commit()
    gen_s = time.perf_counter() - t0
    t1 = time.perf_counter()
    with psycopg.connect(db_url, autocommit=True) as conn:
        conn.execute("VACUUM ANALYZE")
        fx = fixtures(conn)
    vacuum_s = time.perf_counter() - t1
    print(f"[{size}] generated in {gen_s:.1f} s (VACUUM ANALYZE {vacuum_s:.1f} s): {counts}", file=sys.stderr)
    measured, health_ms = measure(app, fx, args.repeat, args.only)
    background = list(JOBS_TIMED)
    with app.app_context():
        from consultroom.extensions import db

        db.engine.dispose()
    return {"size": size, "gen_s": gen_s, "vacuum_s": vacuum_s, "counts": counts, "pages": measured,
            "health_ms": health_ms, "repeat": args.repeat, "background": background}  # fmt: skip


def key(page: Page) -> tuple[str, str]:
    # Ids and signed tokens in URLs differ between data sets; the label names the same page in both.
    return page.label, page.role


def print_table(runs: list[dict]) -> bool:
    def fmt(page: Page, health: float) -> list[str]:
        med = statistics.median(page.samples)
        once = "*" if len(page.samples) == 1 else ""
        return [f"{med:.1f}{once}", str(page.queries), f"{med / health:.1f}"]

    header = ["page", "role"]
    for run in runs:
        header += [f"ms @{run['size']}", f"q @{run['size']}", f"x healthz @{run['size']}"]
    both = len(runs) >= 2
    if both:
        header += [f"< {TARGET_MS:.0f} ms", "same q", "<= 2x"]
    rows = []
    missed = 0
    first, last = runs[0], runs[-1]
    by_key = [{key(p): p for p in run["pages"]} for run in runs]
    for page in first["pages"]:
        row = [page.label if page.status in (200, 302) else f"{page.label} [{page.status}]", page.role]
        matched = [m.get(key(page)) for m in by_key]
        for run, other in zip(runs, matched, strict=True):
            row += fmt(other, run["health_ms"]) if other else ["-", "-", "-"]
        if both and matched[-1] is not None:
            small, big = matched[0], matched[-1]
            big_ms, small_ms = statistics.median(big.samples), statistics.median(small.samples)
            if page.kind == "download":
                # a prepared file is read one 1 MiB piece per query, each in its own short transaction
                same_q = f"n/a (one per MiB: {small.queries}->{big.queries})"
            elif small.mimetype != big.mimetype:
                # an export sent at once at one size and prepared in the background at the other: two answers
                what = lambda p: "page" if p.mimetype == "text/html" else "file"  # noqa: E731
                same_q = f"n/a ({what(small)} -> {what(big)})"
            else:
                same_q = "met" if big.queries == small.queries else f"MISSED {small.queries}->{big.queries}"
            marks = ["met" if big_ms < TARGET_MS else f"MISSED {big_ms:.0f} ms", same_q]
            if page.kind in ("list", "object"):
                ratio = big_ms / small_ms
                marks.append("met" if ratio <= 2 else f"MISSED {ratio:.1f}x")
            else:
                marks.append("n/a")
            missed += sum(m.startswith("MISSED") for m in marks)
            row += marks
        elif both:
            row += ["not measured"] * 3
        rows.append(row)
    widths = [max(len(str(x)) for x in col) for col in zip(header, *rows, strict=True)]
    line = lambda cells: "| " + " | ".join(str(c).ljust(w) for c, w in zip(cells, widths, strict=True)) + " |"  # noqa: E731
    for run in runs:
        print(
            f"size {run['size']}: generated in {run['gen_s']:.1f} s (+ VACUUM ANALYZE {run['vacuum_s']:.1f} s); "
            f"/healthz {run['health_ms']:.2f} ms; " + ", ".join(f"{k} {v}" for k, v in run["counts"].items())
        )
    print(line(header))
    print("|" + "|".join("-" * (w + 2) for w in widths) + "|")
    for row in rows:
        print(line(row))
    print(
        f"\n* one request only (slower than {SLOW_WARMUP_S:.0f} s); "
        f"others: median of {runs[0]['repeat']} after a warm-up."
    )
    if any(run.get("background") for run in runs):
        print("\nPrepared in the background by the export job (not pages: each file's writing, one run):")
        for run in runs:
            for label, ms, size in run.get("background", []):
                print(f"  @{run['size']}: {label:32} {ms:8.0f} ms  {size:>12,} bytes")
    if both:
        print(f"{missed} target(s) missed (sizes {first['size']} -> {last['size']}).")
    return missed == 0


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--sizes", default="2000", help="consultations per data set, comma-separated (e.g. 2000,200000)")
    ap.add_argument("--repeat", type=int, default=5, help="timed requests per page after one warm-up")
    ap.add_argument("--admin-url", default="postgresql://postgres@127.0.0.1:5432/postgres")
    ap.add_argument("--db-prefix", default="bench_scale", help="databases are <prefix>_<size>, dropped and remade")
    ap.add_argument("--save", type=Path, help="also keep the measurements in this file (pickle)")
    ap.add_argument("--load", type=Path, help="print the table of measurements kept by --save, measuring nothing")
    ap.add_argument("--only", help="measure only the pages whose label matches this regular expression (and /healthz)")
    args = ap.parse_args()
    if args.load:
        runs = pickle.loads(args.load.read_bytes())  # noqa: S301 - a file this script wrote
    else:
        runs = [run_size(args, int(size)) for size in args.sizes.split(",") if size.strip()]
        if args.save:
            args.save.write_bytes(pickle.dumps(runs))
    ok = print_table(runs)
    raise SystemExit(0 if ok or len(runs) < 2 else 1)


if __name__ == "__main__":
    main()
