"""`flask consultroom ...` commands, and the `consultroom` console script (demo)."""

from __future__ import annotations

from pathlib import Path

import click
from flask import Flask, current_app
from flask.cli import AppGroup

from consultroom.extensions import db

group = AppGroup("consultroom", help="Consultroom administration.")


@group.command("create-user")
@click.option("--email", prompt=True)
@click.option("--name", prompt=True)
@click.option("--role", type=click.Choice(["admin", "staff", "sme"]), default="staff", show_default=True)
@click.option("--locale", type=click.Choice(["ko", "en"]), default="ko", show_default=True)
@click.password_option()
def create_user_cmd(email: str, name: str, role: str, locale: str, password: str) -> None:
    """Create a confirmed account (the first admin is made this way)."""
    from consultroom.accounts.services import create_user
    from consultroom.errors import DomainError

    try:
        user = create_user(email=email, password=password, name=name, role=role, locale=locale, actor=None)
    except DomainError as exc:
        db.session.rollback()
        details = "; ".join(f"{k}: {' '.join(v)}" for k, v in exc.fields.items())
        raise click.ClickException(f"{exc.message} {details}".strip()) from exc
    db.session.commit()
    click.echo(f"Created {user.role} {user.email} (id {user.id}).")


@group.command("send-mail")
@click.option("--limit", default=200, show_default=True, help="Most mails to send in this run.")
def send_mail_cmd(limit: int) -> None:
    """Deliver the due mails of the outbox now."""
    from consultroom.notifications.delivery import deliver_due

    result = deliver_due(limit=limit)
    doubt = f", in doubt {result.in_doubt}" if result.in_doubt else ""
    click.echo(f"sent {result.sent}, retrying later {result.retry}, failed {result.failed}{doubt}")


@group.command("backup")
@click.argument("target", type=click.Path(dir_okay=False, path_type=Path))
def backup_cmd(target: Path) -> None:
    """Write a consistent backup of the database to TARGET (pg_dump custom format on PostgreSQL,
    a SQLite database file on SQLite). Safe while the app runs."""
    from consultroom.backup import BackupError, backup

    try:
        backup(db.engine, target)
    except BackupError as exc:
        raise click.ClickException(str(exc)) from exc
    click.echo(f"Backup written to {target}.")


@group.command("restore")
@click.argument("source", type=click.Path(dir_okay=False, exists=True, path_type=Path))
@click.option("--yes", is_flag=True, help="Do not ask for confirmation.")
def restore_cmd(source: Path, yes: bool) -> None:
    """Replace the database's contents with the backup in SOURCE. Stop the app and the scheduler first.
    Mail that was waiting in the backup is held 'in doubt' for an admin; every login session ends."""
    from consultroom.backup import BackupError, restore

    if not yes:
        click.confirm(f"Replace everything in the database with {source}?", abort=True)
    try:
        result = restore(db.engine, source)
    except BackupError as exc:
        raise click.ClickException(str(exc)) from exc
    click.echo(
        f"Restored from {source}: {result.mails_held} waiting mails held in doubt for an admin, "
        f"{result.sessions_ended} login sessions ended."
    )


@group.command("facts-rebuild")
def facts_rebuild_cmd() -> None:
    """Rebuild the consultation facts (the year figures' summary) from bookings, contracts and survey
    answers, in one transaction: after a restore of an older dump or a hand edit of those tables."""
    from consultroom.reports.facts import refresh_all

    rows = refresh_all()
    db.session.commit()
    click.echo(f"Rebuilt the consultation facts: {rows} rows.")


@group.command("scheduler")
def scheduler_cmd() -> None:
    """Run the periodic jobs (one process per deployment; a second one waits as a standby)."""
    import logging

    from consultroom.scheduler.process import run_forever

    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    run_forever(current_app._get_current_object())


@group.command("run-job")
@click.argument("name")
@click.option("--period", default=None, help="Period key, e.g. 2026-03-01T09:00Z (default: the current one).")
def run_job_cmd(name: str, period: str | None) -> None:
    """Run one job by hand, once per period like the scheduler does."""
    from consultroom.scheduler.registry import JOBS
    from consultroom.scheduler.runner import run_job

    if name not in JOBS:
        raise click.BadParameter(f"unknown job; known: {', '.join(sorted(JOBS))}", param_hint="NAME")
    outcome = run_job(name, period=period)
    click.echo(f"{name} [{outcome.period}]: {outcome.status} {outcome.detail}")
    if outcome.status == "failed":
        raise SystemExit(1)


@group.command("jobs")
def jobs_cmd() -> None:
    """List the periodic jobs."""
    from consultroom.scheduler import jobs as _jobs  # noqa: F401 - registers the jobs
    from consultroom.scheduler.registry import JOBS

    for spec in JOBS.values():
        click.echo(f"{spec.name:16} every {spec.every_minutes:>3} min  {spec.description}")


@group.command("compile-translations")
def compile_translations_cmd() -> None:
    """Compile the message catalogs (.po -> .mo), failing on any catalog error."""
    from consultroom.i18n import compile_catalogs

    for path in compile_catalogs(strict=True):
        click.echo(f"compiled {path}")


@group.command("demo-data")
def demo_data_cmd() -> None:
    """Fill the current database with demo data (idempotent)."""
    from consultroom.demo import load_demo

    for line in load_demo():
        click.echo(line)


def register_cli(app: Flask) -> None:
    app.cli.add_command(group)


@click.group()
def main() -> None:
    """Consultroom."""


@main.command()
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option("--port", default=5000, show_default=True)
@click.option("--reset", is_flag=True, help="Start from an empty demo database.")
def demo(host: str, port: int, reset: bool) -> None:
    """Create a SQLite demo database in the instance folder, migrate it, fill it, and serve the app."""
    import os
    from pathlib import Path

    from consultroom import ROOT

    db_path = ROOT / "instance" / "demo.sqlite"
    db_path.parent.mkdir(parents=True, exist_ok=True)
    if reset:
        for suffix in ("", "-wal", "-shm"):
            Path(f"{db_path}{suffix}").unlink(missing_ok=True)
    os.environ["DATABASE_URL"] = f"sqlite:///{db_path}"
    os.environ.setdefault("BASE_URL", f"http://{host}:{port}")

    from consultroom import create_app
    from consultroom.demo import load_demo
    from consultroom.i18n import compile_catalogs

    compile_catalogs()
    app = create_app(
        "development",
        SQLALCHEMY_DATABASE_URI=f"sqlite:///{db_path}",
        BASE_URL=os.environ["BASE_URL"],
        MAIL_DELIVERY_ENABLED=False,
    )
    with app.app_context():
        from flask_migrate import upgrade

        upgrade()
        for line in load_demo():
            click.echo(line)
    click.echo(f"\nConsultroom demo on http://{host}:{port}/  (Ctrl+C stops it)")
    app.run(host=host, port=port, debug=False, use_reloader=False)
