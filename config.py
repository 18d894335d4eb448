"""Configuration classes. Secrets and DATABASE_URL come from the environment."""

from __future__ import annotations

import os
from datetime import timedelta
from pathlib import Path

BASE_DIR = Path(__file__).resolve().parent
DEFAULT_SECRET = "dev-only-secret-change-me"  # noqa: S105 - production refuses to start with it


def _bool(name: str, default: bool = False) -> bool:
    value = os.environ.get(name)
    if value is None:
        return default
    return value.strip().lower() in {"1", "true", "yes", "on"}


def normalize_db_url(url: str) -> str:
    # Hosting platforms hand out postgres:// URLs; SQLAlchemy 2 wants an explicit driver.
    if url.startswith("postgres://"):
        url = "postgresql://" + url[len("postgres://") :]
    if url.startswith("postgresql://"):
        url = "postgresql+psycopg://" + url[len("postgresql://") :]
    return url


class Config:
    SECRET_KEY = os.environ.get("SECRET_KEY", DEFAULT_SECRET)
    SQLALCHEMY_DATABASE_URI = normalize_db_url(
        os.environ.get("DATABASE_URL", f"sqlite:///{BASE_DIR / 'instance' / 'consultroom.sqlite'}")
    )
    SQLALCHEMY_ENGINE_OPTIONS: dict = {"pool_pre_ping": True}

    # Sessions and cookies
    SESSION_COOKIE_HTTPONLY = True
    SESSION_COOKIE_SAMESITE = "Lax"
    SESSION_COOKIE_SECURE = False
    REMEMBER_COOKIE_HTTPONLY = True
    REMEMBER_COOKIE_SAMESITE = "Lax"
    REMEMBER_COOKIE_SECURE = False
    PERMANENT_SESSION_LIFETIME = timedelta(hours=12)
    # A login lasts at most this long (seconds) however busy it is; then the user logs in again.
    LOGIN_SESSION_MAX_AGE = int(os.environ.get("LOGIN_SESSION_MAX_AGE", str(7 * 24 * 3600)))

    WTF_CSRF_TIME_LIMIT = 8 * 3600
    # Requests larger than this (bytes) are refused with 413 before their body is read. Imports take
    # files up to 5 MB; the rest is room for the form around them.
    MAX_CONTENT_LENGTH = int(os.environ.get("MAX_CONTENT_LENGTH", str(8 * 1024 * 1024)))

    # i18n
    BABEL_DEFAULT_LOCALE = "ko"
    BABEL_DEFAULT_TIMEZONE = "Asia/Seoul"
    # The SME and staff interface; buyers and interpreters read consultroom.languages.PARTY_LOCALES.
    LANGUAGES = ("ko", "en")

    # Bootstrap from the installed package, never a CDN
    BOOTSTRAP_SERVE_LOCAL = True

    # Rate limits: memory in development, Redis in production so limits hold across processes
    RATELIMIT_STORAGE_URI = os.environ.get("RATELIMIT_STORAGE_URI", "memory://")
    RATELIMIT_HEADERS_ENABLED = True
    # A moving window counts the attempts of the last minute whenever they came: a fixed window lets
    # twice the limit through across a boundary (and made limit tests depend on the clock).
    RATELIMIT_STRATEGY = "moving-window"
    LOGIN_LIMIT_PER_IP = os.environ.get("LOGIN_LIMIT_PER_IP", "30 per minute;300 per hour")
    LOGIN_LIMIT_PER_ACCOUNT = os.environ.get("LOGIN_LIMIT_PER_ACCOUNT", "5 per minute;30 per hour")

    # Signed links (seconds)
    CONFIRM_EMAIL_MAX_AGE = 7 * 24 * 3600
    RESET_PASSWORD_MAX_AGE = 2 * 3600
    INTERPRETER_PORTAL_MAX_AGE = 30 * 24 * 3600  # the interpreter's assignments page, by mailed link
    # Match proposals (issue 4): buyers and interpreters answer by signed link
    MATCH_RESPONSE_HOURS = int(os.environ.get("MATCH_RESPONSE_HOURS", "48"))  # never later than the slot start
    MATCH_LINK_MAX_AGE = 14 * 24 * 3600
    MEETING_BASE_URL = os.environ.get("MEETING_BASE_URL", "https://meet.jit.si/consultroom-")
    # Surveys (issue 5): the link's lifetime from the invitation, and whether buyers are asked too
    SURVEY_LINK_DAYS = int(os.environ.get("SURVEY_LINK_DAYS", "21"))
    SURVEY_INVITE_BUYERS = _bool("SURVEY_INVITE_BUYERS", True)

    # Mail: SMTP delivery from the outbox
    MAIL_SERVER = os.environ.get("MAIL_SERVER", "localhost")
    MAIL_PORT = int(os.environ.get("MAIL_PORT", "25"))
    MAIL_USE_TLS = _bool("MAIL_USE_TLS")  # STARTTLS
    MAIL_USE_SSL = _bool("MAIL_USE_SSL")  # implicit TLS
    MAIL_USERNAME = os.environ.get("MAIL_USERNAME")
    MAIL_PASSWORD = os.environ.get("MAIL_PASSWORD")
    MAIL_DEFAULT_SENDER = os.environ.get("MAIL_DEFAULT_SENDER", "Consultroom <no-reply@consultroom.local>")
    MAIL_TIMEOUT = float(os.environ.get("MAIL_TIMEOUT", "10"))
    # A mail is retried until its deadline, whatever the number of attempts: the wait doubles from
    # MAIL_BACKOFF_SECONDS up to MAIL_MAX_BACKOFF_SECONDS, so it goes out minutes after an outage.
    MAIL_BACKOFF_SECONDS = int(os.environ.get("MAIL_BACKOFF_SECONDS", "60"))
    MAIL_MAX_BACKOFF_SECONDS = int(os.environ.get("MAIL_MAX_BACKOFF_SECONDS", "300"))
    # Deadline of a mail whose kind sets none (proposals: their answer deadline; reminders and other
    # booking mails: the meeting; account links: the link's lifetime).
    MAIL_DEADLINE_HOURS = int(os.environ.get("MAIL_DEADLINE_HOURS", "72"))
    # The admin home warns when a mail has been waiting this long since its first failed attempt.
    MAIL_ALERT_AFTER_MINUTES = int(os.environ.get("MAIL_ALERT_AFTER_MINUTES", "30"))
    # When False, mails stay in the outbox (the demo shows them on an admin page instead).
    MAIL_DELIVERY_ENABLED = _bool("MAIL_DELIVERY_ENABLED", True)

    # Absolute links in mails (no request context in jobs)
    BASE_URL = os.environ.get("BASE_URL", "http://localhost:5000")

    # argon2id parameters (time_cost, memory_cost in KiB, parallelism); empty means argon2-cffi's
    # defaults, RFC 9106's recommendation.
    PASSWORD_HASH_PARAMS: dict = {}

    # Seconds a client is told to wait (Retry-After) while the database is unreachable.
    DB_OUTAGE_RETRY_AFTER = int(os.environ.get("DB_OUTAGE_RETRY_AFTER", "30"))

    API_TOKEN_TTL_DAYS = int(os.environ.get("API_TOKEN_TTL_DAYS", "90"))
    # Contracts take the rate of their signing date, or the latest earlier one within this many days
    # (banks publish none on weekends and holidays); older than that is an error, never a guess.
    RATE_MAX_AGE_DAYS = int(os.environ.get("RATE_MAX_AGE_DAYS", "7"))
    COMPANIES_PER_PAGE = 25


class DevelopmentConfig(Config):
    DEBUG = False
    MAIL_DELIVERY_ENABLED = _bool("MAIL_DELIVERY_ENABLED", False)


class TestingConfig(Config):
    TESTING = True
    SECRET_KEY = "test-secret"  # noqa: S105 - tests only
    SQLALCHEMY_DATABASE_URI = normalize_db_url(
        os.environ.get("TEST_DATABASE_URL", "sqlite:///" + str(BASE_DIR / "instance" / "test.sqlite"))
    )
    RATELIMIT_STORAGE_URI = "memory://"
    MAIL_SERVER = "127.0.0.1"
    MAIL_PORT = 8025
    MAIL_DELIVERY_ENABLED = True
    MAIL_BACKOFF_SECONDS = 30
    BASE_URL = "http://localhost"
    SERVER_NAME = None
    # The cheapest argon2id that argon2-cffi accepts: hashing is tested for what it does, not for its
    # cost (test_password_hash_uses_rfc_9106_parameters_in_production keeps the production ones).
    PASSWORD_HASH_PARAMS = {"time_cost": 1, "memory_cost": 8, "parallelism": 1}
    # The clean-up after each test empties tables with PostgreSQL's triggers off, which would leave a
    # process's copy of the matching registry stale: tests build it on every use (the same code), and
    # the tests of the copy itself turn it on.
    MATCHING_REGISTRY_CACHE = False


class ProductionConfig(Config):
    SESSION_COOKIE_SECURE = True
    REMEMBER_COOKIE_SECURE = True
    PREFERRED_URL_SCHEME = "https"
    RATELIMIT_STORAGE_URI = os.environ.get("RATELIMIT_STORAGE_URI", "redis://127.0.0.1:6379/0")

    @classmethod
    def validate(cls) -> None:
        if not cls.SECRET_KEY or cls.SECRET_KEY == DEFAULT_SECRET or len(cls.SECRET_KEY) < 32:
            raise RuntimeError("Production needs SECRET_KEY set in the environment (at least 32 random characters).")
        if "DATABASE_URL" not in os.environ:
            raise RuntimeError("Production needs DATABASE_URL (PostgreSQL) set in the environment.")


CONFIGS = {
    "development": DevelopmentConfig,
    "testing": TestingConfig,
    "production": ProductionConfig,
}
