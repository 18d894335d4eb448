"""Lighthouse (mobile) over the demo's pages: performance, accessibility, best practices and SEO.

Starts the app on a fresh SQLite demo (as `consultroom demo` does) on a port it binds itself, logs in
as each demo role for the pages behind a login (the session cookie goes to Lighthouse as a header),
and runs Lighthouse 12 (pinned in bench/lighthouse/package-lock.json, installed with `npm ci` on
first use) in Debian's chromium. Prints one table with each score against issue 16's targets:
public pages 100 for performance, best practices and SEO; every other page at least 95; and
accessibility 100 everywhere.

    .venv/bin/python bench/lighthouse.py                 # the default pages
    .venv/bin/python bench/lighthouse.py --pages /,/login --runs 3
    .venv/bin/python bench/lighthouse.py --pages staff:/staff/rounds --keep /tmp/lh   # keep the JSON reports

A page below its target is followed by its metrics and the audits that cost it most.

Scores from simulated mobile throttling depend on the machine's load: run it on a quiet machine, and
take the median of several runs (--runs) when a figure sits near a target.
"""

from __future__ import annotations

import argparse
import http.cookiejar
import json
import os
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import urllib.parse
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
LH_DIR = ROOT / "bench" / "lighthouse"
CHROMIUM = "/usr/bin/chromium"
CATEGORIES = ("performance", "accessibility", "best-practices", "seo")
PASSWORD = "consultroom-demo"  # noqa: S105 - the demo's published password (consultroom.demo.DEMO_PASSWORD)

# (role, path); {year} is last year, the demo's whole program.
PAGES = [
    ("anon", "/"),
    ("anon", "/program/{year}"),
    ("anon", "/privacy/"),
    ("anon", "/login"),
    ("anon", "/register"),
    ("sme", "/"),
    ("sme", "/rounds"),
    ("sme", "/bookings"),
    ("sme", "/company"),
    ("staff", "/staff/rounds"),
    ("staff", "/companies"),
    ("staff", "/staff/buyers"),
    ("staff", "/staff/reports?year={year}"),
    ("staff", "/staff/audit"),
    ("staff", "/staff/jobs"),
    ("staff", "/staff/exports"),
    ("admin", "/admin/users"),
    ("admin", "/admin/outbox"),
    ("admin", "/admin/access-log/"),
]
EMAILS = {
    "sme": "sme@demo.consultroom.kr",
    "staff": "staff@demo.consultroom.kr",
    "admin": "admin@demo.consultroom.kr",
}

SERVER = """
import sys
from werkzeug.serving import make_server
from consultroom import create_app
from consultroom.extensions import db
from consultroom.demo import load_demo
from consultroom.i18n import compile_catalogs
from flask_migrate import upgrade

compile_catalogs()
app = create_app("development", SQLALCHEMY_DATABASE_URI=sys.argv[1], MAIL_DELIVERY_ENABLED=False)
with app.app_context():
    upgrade()
    for _line in load_demo():
        pass
    db.session.commit()
server = make_server("127.0.0.1", 0, app, threaded=True)
print(server.port, flush=True)
server.serve_forever()
"""


def ensure_lighthouse() -> Path:
    binary = LH_DIR / "node_modules" / ".bin" / "lighthouse"
    if not binary.exists():
        npm = shutil.which("npm")
        if npm is None:
            raise SystemExit("npm is needed to install Lighthouse (apt-get install npm)")
        subprocess.run([npm, "ci", "--no-audit", "--no-fund"], cwd=LH_DIR, check=True)
    return binary


def start_app(directory: Path) -> tuple[subprocess.Popen, str]:
    url = f"sqlite:///{directory / 'demo.sqlite'}"
    env = {**os.environ, "PYTHONPATH": str(ROOT), "CONSULTROOM_CONFIG": "development"}
    # The server's request log would bury the table.
    proc = subprocess.Popen(
        [sys.executable, "-c", SERVER, url],
        cwd=ROOT,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        text=True,
    )
    line = proc.stdout.readline().strip()
    if not line.isdigit():
        proc.kill()
        raise SystemExit(f"the demo server did not start (exit code {proc.wait()})")
    return proc, f"http://127.0.0.1:{line}"


def session_cookie(base: str, email: str) -> str:
    """Log in through the real form (CSRF token from the page) and return the Cookie header."""
    jar = http.cookiejar.CookieJar()
    opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(jar))
    html = opener.open(f"{base}/login").read().decode()
    token = re.search(r'name="csrf_token"[^>]*value="([^"]+)"', html).group(1)
    data = urllib.parse.urlencode({"csrf_token": token, "email": email, "password": PASSWORD}).encode()
    opener.open(urllib.request.Request(f"{base}/login", data=data))  # noqa: S310 - our own http:// server
    cookies = "; ".join(f"{c.name}={c.value}" for c in jar)
    if "session=" not in cookies:
        raise SystemExit(f"could not log in as {email}")
    return cookies


def lighthouse(binary: Path, url: str, cookie: str | None, out: Path) -> dict[str, int]:
    cmd = [
        str(binary), url, "--quiet", "--form-factor=mobile", f"--only-categories={','.join(CATEGORIES)}",
        "--output=json", f"--output-path={out}",
        "--chrome-flags=--headless=new --no-sandbox --disable-gpu --disable-background-networking "
        "--disable-component-update --disable-sync --no-first-run",
    ]  # fmt: skip
    if cookie:
        cmd.append("--extra-headers=" + json.dumps({"Cookie": cookie}))
    subprocess.run(cmd, env={**os.environ, "CHROME_PATH": CHROMIUM}, check=False, timeout=300)
    report = json.loads(out.read_text())
    if report.get("runtimeError"):
        raise RuntimeError(report["runtimeError"].get("message", "Lighthouse failed"))
    return {c: round(100 * report["categories"][c]["score"]) for c in CATEGORIES}


def _page_arg(arg: str) -> tuple[str, str]:
    role, _sep, path = arg.rpartition(":")
    if role and role not in ("anon", *EMAILS):
        raise SystemExit(f"unknown role {role!r} in --pages (anon, {', '.join(EMAILS)})")
    return role or "anon", path


def costs(report: dict) -> str:
    """Why a page scored what it did: the timing metrics, and every audit short of a full score that
    weighs in a category, the heaviest first."""
    audits = report["audits"]
    metrics = ("first-contentful-paint", "largest-contentful-paint", "total-blocking-time", "cumulative-layout-shift")
    lines = ["    " + ", ".join(f"{m}: {audits[m].get('displayValue', '-')}" for m in metrics if m in audits)]
    weighed = []
    for category in report["categories"].values():
        for ref in category["auditRefs"]:
            audit = audits.get(ref["id"], {})
            if ref.get("weight") and audit.get("score") is not None and audit["score"] < 1:
                weighed.append((ref["weight"] * (1 - audit["score"]), category["id"], audit))
    for _cost, category, audit in sorted(weighed, key=lambda w: -w[0])[:6]:
        lines.append(f"    {category}: {audit['id']} {audit.get('displayValue', '')} (score {audit['score']})")
    return "\n".join(lines)


def verdict(role: str, scores: dict[str, int]) -> str:
    floor = 100 if role == "anon" else 95
    missed = [c for c in ("performance", "best-practices", "seo") if scores[c] < floor]
    missed += ["accessibility"] if scores["accessibility"] < 100 else []
    return "met" if not missed else "MISSED: " + ", ".join(missed)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--runs", type=int, default=1, help="Lighthouse runs per page; the median is shown")
    ap.add_argument(
        "--pages", default="", help="comma-separated paths instead of the default list, each [role:]path (anon)"
    )
    ap.add_argument("--keep", type=Path, help="keep each Lighthouse JSON report in this directory")
    args = ap.parse_args()

    from datetime import date

    year = date.today().year - 1
    pages = [_page_arg(p) for p in args.pages.split(",")] if args.pages else PAGES
    binary = ensure_lighthouse()
    with tempfile.TemporaryDirectory() as tmp:
        server, base = start_app(Path(tmp))
        try:
            cookies = {role: session_cookie(base, email) for role, email in EMAILS.items()}
            rows = []
            for role, path in pages:
                path = path.format(year=year)
                runs = []
                try:
                    for i in range(args.runs):
                        out = Path(tmp) / f"lh-{len(rows)}-{i}.json"
                        runs.append(lighthouse(binary, base + path, cookies.get(role), out))
                except (RuntimeError, subprocess.TimeoutExpired, FileNotFoundError) as exc:
                    rows.append((role, path, None))
                    print(f"  {role:5} {path}: Lighthouse failed: {exc}", file=sys.stderr, flush=True)
                    continue
                scores = {c: int(statistics.median(r[c] for r in runs)) for c in CATEGORIES}
                rows.append((role, path, scores))
                print(f"  {role:5} {path}: {scores}", file=sys.stderr, flush=True)
                if verdict(role, scores) != "met":
                    print(costs(json.loads(out.read_text())), file=sys.stderr, flush=True)
                if args.keep:
                    args.keep.mkdir(parents=True, exist_ok=True)
                    name = re.sub(r"[^A-Za-z0-9]+", "_", f"{role}{path}").strip("_")
                    shutil.copy(out, args.keep / f"{name}.json")
        finally:
            server.terminate()
            server.wait(timeout=30)
    print(f"\n{'role':5} | {'page':32} | perf | a11y | best | seo | target")
    print("-" * 80)
    for role, path, s in rows:
        if s is None:
            print(f"{role:5} | {path:32} | Lighthouse could not measure this page | MISSED")
            continue
        print(
            f"{role:5} | {path:32} | {s['performance']:4} | {s['accessibility']:4} | "
            f"{s['best-practices']:4} | {s['seo']:3} | {verdict(role, s)}"
        )
    met = sum(s is not None and verdict(role, s) == "met" for role, _p, s in rows)
    version = lighthouse_version()
    print(f"\n{met} of {len(rows)} pages meet their targets (Lighthouse {version}, mobile, {args.runs} run(s)).")


def lighthouse_version() -> str:
    return json.loads((LH_DIR / "node_modules" / "lighthouse" / "package.json").read_text())["version"]


if __name__ == "__main__":
    main()
