"""Django settings of the submission portal, from the environment `gtb serve` sets up.

- `GTB_PORTAL_INPUTS`, `GTB_PORTAL_OUTPUTS`, `GTB_PORTAL_DB`: the folders and warehouse of the
  pipeline (`gtb serve --inputs --outputs --db`); the portal's state is `{outputs}/portal/`.
- `DATABASE_URL`: `postgres://user:password@host:port/name` puts the portal's own tables in
  PostgreSQL (install the `postgres` extra); otherwise SQLite in the state folder.
- `GTB_PORTAL_ALLOWED_HOSTS`: host names the portal answers to, comma-separated (default: the
  loopback names and the host `gtb serve` binds to).
- `GTB_PORTAL_MAX_UPLOAD_MB`: the upload size cap (default 25).

The secret key is made on first start and kept in `{state}/secret_key` (never in git).
"""

from __future__ import annotations

import os
from pathlib import Path

from pipeline.paths import DEFAULT_DB, DEFAULT_INPUTS, DEFAULT_OUTPUTS
from pipeline.portal.state import database_settings, secret_key

GTB_INPUTS = Path(os.environ.get("GTB_PORTAL_INPUTS", str(DEFAULT_INPUTS))).absolute()
GTB_OUTPUTS = Path(os.environ.get("GTB_PORTAL_OUTPUTS", str(DEFAULT_OUTPUTS))).absolute()
GTB_DB = Path(os.environ.get("GTB_PORTAL_DB", str(DEFAULT_DB))).absolute()
GTB_STATE = GTB_OUTPUTS / "portal"
GTB_MAX_UPLOAD_BYTES = int(float(os.environ.get("GTB_PORTAL_MAX_UPLOAD_MB", "25")) * 2**20)
GTB_LOCKOUT_FAILURES = 5  # failed sign-ins of one user name ...
GTB_LOCKOUT_MINUTES = 15  # ... within this many minutes lock it for as long
GTB_RUN_IN_PROCESS = False  # tests: run `gtb run` in the request's thread instead of a child process

SECRET_KEY = secret_key(GTB_STATE)
DEBUG = False
ALLOWED_HOSTS = [h.strip() for h in os.environ.get("GTB_PORTAL_ALLOWED_HOSTS", "").split(",") if h.strip()] or [
    "localhost",
    "127.0.0.1",
    "[::1]",
]

INSTALLED_APPS = [
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "pipeline.portal.apps.PortalConfig",
]

MIDDLEWARE = [
    "pipeline.portal.middleware.SecurityHeaders",  # the outermost: on every answer, the 413 below too
    "pipeline.portal.middleware.UploadSizeLimit",  # before anything reads the body (CSRF does)
    "pipeline.portal.middleware.ShowUnseenCharacters",  # on the page as every other middleware left it
    "django.middleware.security.SecurityMiddleware",
    "pipeline.portal.middleware.SecureCookiesBehindHttps",  # outside the middleware that set cookies
    "pipeline.portal.middleware.NoNulInCookies",  # before anything reads a cookie
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "pipeline.portal.middleware.SessionEndsAfterAWorkingDay",  # needs the user; before anything reads it
    "pipeline.portal.middleware.PageLanguage",  # reads the session and the user: after both
    # reads the form before the CSRF check (a process_view), once the user is known: a body it
    # cannot read gets the 400 page with the user still signed in
    "pipeline.portal.middleware.NoNulInText",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "pipeline.portal.middleware.MethodNotAllowedPage",  # the 405 page needs the user and the language
]

ROOT_URLCONF = "pipeline.portal.urls"
TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "pipeline.portal.views.portal_context",
            ]
        },
    }
]

DATABASES = {"default": database_settings(os.environ.get("DATABASE_URL"), GTB_STATE)}
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

PASSWORD_HASHERS = [
    "django.contrib.auth.hashers.Argon2PasswordHasher",
    "django.contrib.auth.hashers.PBKDF2PasswordHasher",
]
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "pipeline.portal.accounts.NotBlankPasswordValidator"},  # ten spaces pass the length
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator", "OPTIONS": {"min_length": 10}},
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},  # not the user's name
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
LOGIN_URL = "/login/"
CSRF_FAILURE_VIEW = "pipeline.portal.views.csrf_failure"
MESSAGE_STORAGE = "django.contrib.messages.storage.session.SessionStorage"

SESSION_COOKIE_HTTPONLY = True
SESSION_COOKIE_SAMESITE = "Lax"
SESSION_COOKIE_AGE = 8 * 3600  # a working day
SESSION_EXPIRE_AT_BROWSER_CLOSE = True
SESSION_COOKIE_NAME = "gtb_session"
CSRF_COOKIE_HTTPONLY = True  # the page's script takes the token from the form, never the cookie
CSRF_COOKIE_SAMESITE = "Lax"
CSRF_COOKIE_NAME = "gtb_csrf"
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
SECURE_CROSS_ORIGIN_OPENER_POLICY = "same-origin"
X_FRAME_OPTIONS = "DENY"

FILE_UPLOAD_MAX_MEMORY_SIZE = 0  # every upload goes to a temporary file, never held in memory
DATA_UPLOAD_MAX_MEMORY_SIZE = 1 * 2**20  # the form fields besides the file
DATA_UPLOAD_MAX_NUMBER_FIELDS = 500
FILE_UPLOAD_PERMISSIONS = 0o600

USE_TZ = True
TIME_ZONE = "UTC"
LANGUAGE_CODE = "en"
USE_I18N = False  # the portal's texts, dates and numbers in English, French and Spanish: pipeline/portal/texts.py

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "filters": {"refusals": {"()": "pipeline.portal.middleware.RefusalsOnOneLine"}},
    "handlers": {"console": {"class": "logging.StreamHandler", "filters": ["refusals"]}},
    "loggers": {
        "django": {"handlers": ["console"], "level": "WARNING"},
        "gtb.portal": {"handlers": ["console"], "level": "INFO"},
    },
}
