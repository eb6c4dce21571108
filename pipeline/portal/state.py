"""The portal's state folder, `{outputs}/portal/`, and what lives in it.

    secret_key          made on first start (0600), the key that signs sessions and CSRF tokens
    portal.sqlite3      accounts, uploads, the audit log (unless DATABASE_URL names PostgreSQL)
    uploads/            every uploaded workbook under a generated name (`{id}-{token}.xlsx`)
    reports/{id}/       issues.csv and annotated.xlsx of each upload
    templates/          blank templates, made once per entity, year, language and version
    runs/               the console output of each `gtb run` started from the portal

Nothing here is ever named after what a user typed: every file name is generated.
"""

from __future__ import annotations

import os
import secrets
from pathlib import Path
from urllib.parse import unquote, urlsplit

from pipeline.errors import GtbError

SECRET_FILE = "secret_key"
SQLITE_FILE = "portal.sqlite3"
UPLOADS = "uploads"
REPORTS = "reports"
TEMPLATES = "templates"
RUNS = "runs"


def secret_key(state: Path) -> str:
    """The key in `{state}/secret_key`, made (50 random URL-safe characters, mode 0600) if absent."""
    path = Path(state) / SECRET_FILE
    try:
        key = path.read_text(encoding="ascii").strip()
    except FileNotFoundError:
        key = ""
    if len(key) >= 40:
        return key
    Path(state).mkdir(parents=True, exist_ok=True, mode=0o700)
    key = secrets.token_urlsafe(48)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w", encoding="ascii") as fh:
        fh.write(key + "\n")
    return key


def database_settings(url: str | None, state: Path) -> dict:
    """Django's DATABASES entry: PostgreSQL from a `postgres://` URL, else SQLite in `state`."""
    if not url:
        return {
            "ENGINE": "django.db.backends.sqlite3",
            "NAME": str(Path(state) / SQLITE_FILE),
            "OPTIONS": {"timeout": 20, "transaction_mode": "IMMEDIATE"},
            "TEST": {"NAME": str(Path(state) / "test.sqlite3")},
        }
    parts = urlsplit(url)
    if parts.scheme not in ("postgres", "postgresql", "pgsql"):
        raise GtbError(f"DATABASE_URL must be a postgres:// URL, not {parts.scheme or 'that'}://")
    name = unquote(parts.path.lstrip("/"))
    if not name:
        raise GtbError("DATABASE_URL names no database (postgres://user:password@host:5432/NAME)")
    return {
        "ENGINE": "django.db.backends.postgresql",
        "NAME": name,
        "USER": unquote(parts.username or ""),
        "PASSWORD": unquote(parts.password or ""),
        "HOST": parts.hostname or "",
        "PORT": str(parts.port or ""),
        "CONN_MAX_AGE": 60,
    }


def folder(state: Path, name: str) -> Path:
    path = Path(state) / name
    path.mkdir(parents=True, exist_ok=True)
    return path
