"""Django settings, from the environment (healthchecks style).

Safe defaults serve the demo on SQLite under ``var/``; ``BIHUAN_ENV=production``
refuses to start with an unsafe configuration (see ``_check_production``).
"""

from __future__ import annotations

import os
from pathlib import Path

import dj_database_url
from django.core.exceptions import ImproperlyConfigured
from django.utils.translation import gettext_lazy as _

BASE_DIR = Path(__file__).resolve().parent
PROJECT_DIR = BASE_DIR.parent.parent


def envbool(name: str, default: str = "False") -> bool:
    return os.environ.get(name, default).strip().lower() in {"1", "true", "yes", "on"}


def envint(name: str, default: int) -> int:
    return int(os.environ.get(name, str(default)))


def envsecret(name: str, default: str = "") -> str:
    """A secret from ``NAME`` or from the file named by ``NAME_FILE``."""
    file_name = os.environ.get(f"{name}_FILE")
    if file_name:
        return Path(file_name).read_text(encoding="utf-8").strip()
    return os.environ.get(name, default)


ENVIRONMENT = os.environ.get("BIHUAN_ENV", "development")
PRODUCTION = ENVIRONMENT == "production"
VAR_DIR = Path(os.environ.get("BIHUAN_VAR_DIR", str(PROJECT_DIR / "var")))

DEBUG = envbool("DEBUG", "False")
SECRET_KEY = envsecret("SECRET_KEY")
if not SECRET_KEY:
    if PRODUCTION:
        raise ImproperlyConfigured("SECRET_KEY (or SECRET_KEY_FILE) must be set in production.")
    # Development and demo: a per-checkout key generated on first use, never committed.
    _key_file = VAR_DIR / "secret_key"
    if _key_file.exists():
        SECRET_KEY = _key_file.read_text(encoding="utf-8").strip()
    else:
        from django.core.management.utils import get_random_secret_key

        SECRET_KEY = get_random_secret_key()
        try:
            VAR_DIR.mkdir(parents=True, exist_ok=True)
            _key_file.write_text(SECRET_KEY, encoding="utf-8")
            _key_file.chmod(0o600)
        except OSError:
            pass

ALLOWED_HOSTS = [h for h in os.environ.get("ALLOWED_HOSTS", "127.0.0.1,localhost").split(",") if h]
CSRF_TRUSTED_ORIGINS = [o for o in os.environ.get("CSRF_TRUSTED_ORIGINS", "").split(",") if o]

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "rest_framework",
    "django_filters",
    "drf_spectacular",
    "drf_spectacular_sidecar",
    "django_tasks",
    "django_tasks_db",
    "bihuan.core",
    "bihuan.areas",
    "bihuan.accounts",
    "bihuan.places",
    "bihuan.checklists",
    "bihuan.campaigns",
    "bihuan.inspections",
    "bihuan.hazards",
    "bihuan.audit",
    "bihuan.notifications",
    "bihuan.portal",
    "bihuan.reports",
    "bihuan.dashboard",
    "bihuan.tenants",
    "bihuan.backups",
    "bihuan.open311",
    "bihuan.imports",
    "bihuan.documents",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "bihuan.core.middleware.ContentSecurityPolicyMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.locale.LocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    # Django's, with the user read in the session's query (accounts/sessions.py).
    "bihuan.accounts.sessions.SessionUserAuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    # Idle/absolute session timeouts, the second factor, administrators' password age.
    "bihuan.core.middleware.SessionSecurityMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
]

ROOT_URLCONF = "bihuan.urls"
WSGI_APPLICATION = "bihuan.wsgi.application"
AUTH_USER_MODEL = "accounts.User"
# Django's model backend plus the lockout (every login path: site, admin, API).
AUTHENTICATION_BACKENDS = ["bihuan.accounts.backends.LockoutModelBackend"]
LOGIN_URL = "accounts:login"
LOGIN_REDIRECT_URL = "home"
LOGOUT_REDIRECT_URL = "accounts:login"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "django.template.context_processors.i18n",
                "bihuan.core.context_processors.user_scope",
                "bihuan.notifications.context_processors.bell",
            ],
        },
    },
]

DATABASE_URL = os.environ.get("DATABASE_URL", f"sqlite:///{VAR_DIR / 'bihuan.sqlite3'}")
DATABASES = {
    "default": dj_database_url.parse(DATABASE_URL, conn_max_age=envint("DB_CONN_MAX_AGE", 0))
}
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    # WAL lets readers and the task worker run beside a writer; IMMEDIATE takes the write
    # lock at BEGIN so concurrent transitions queue instead of failing on upgrade.
    DATABASES["default"]["OPTIONS"] = {
        "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL; "
        "PRAGMA foreign_keys=ON; PRAGMA busy_timeout=10000;",
        "transaction_mode": "IMMEDIATE",
    }
    DATABASES["default"]["TEST"] = {"NAME": os.environ.get("SQLITE_TEST_NAME") or None}
else:
    DATABASES["default"]["CONN_HEALTH_CHECKS"] = True
    # The hazard transition's few fixed statements are prepared once per connection
    # (bihuan.hazards.statements asks for it); the ORM's queries never are (Django binds
    # them on the client). DB_PREPARE=False behind a transaction-pooling PgBouncer < 1.21.
    if envbool("DB_PREPARE", "True"):
        DATABASES["default"].setdefault("OPTIONS", {})["prepare_threshold"] = 2**31 - 1
    if os.environ.get("BIHUAN_TEST_DB_SUFFIX"):
        # Separate test databases for test runs sharing one server (developers, CI jobs).
        DATABASES["default"]["TEST"] = {
            "NAME": f"test_{DATABASES['default']['NAME']}_{os.environ['BIHUAN_TEST_DB_SUFFIX']}"
        }
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

# Password policy (graded protection level 3 defaults; docs/security.md).
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {
        "NAME": "django.contrib.auth.password_validation.MinimumLengthValidator",
        "OPTIONS": {"min_length": envint("BIHUAN_PASSWORD_MIN_LENGTH", 10)},
    },
    {
        "NAME": "bihuan.accounts.validators.CharacterClassesValidator",
        "OPTIONS": {"min_classes": envint("BIHUAN_PASSWORD_MIN_CLASSES", 3)},
    },
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
# Administrators (the three, and Django staff) change their password this often (0: never).
BIHUAN_ADMIN_PASSWORD_MAX_AGE_DAYS = envint("BIHUAN_ADMIN_PASSWORD_MAX_AGE_DAYS", 90)
# Lockout: this many failures for one user name (existing or not), or per client address,
# within the window lock logins for the window.
BIHUAN_LOCKOUT_FAILURES = envint("BIHUAN_LOCKOUT_FAILURES", 5)
BIHUAN_LOCKOUT_FAILURES_PER_IP = envint("BIHUAN_LOCKOUT_FAILURES_PER_IP", 20)
BIHUAN_LOCKOUT_MINUTES = envint("BIHUAN_LOCKOUT_MINUTES", 15)
# Sessions end after this long without a request, and this long after the login.
BIHUAN_SESSION_IDLE_MINUTES = envint("BIHUAN_SESSION_IDLE_MINUTES", 30)
BIHUAN_SESSION_ABSOLUTE_HOURS = envint("BIHUAN_SESSION_ABSOLUTE_HOURS", 12)
SESSION_COOKIE_AGE = BIHUAN_SESSION_ABSOLUTE_HOURS * 3600
# TOTP second factor for administrators and command HQ staff. On in production; off by
# default in development and the demo so its printed logins work without a phone.
BIHUAN_2FA_REQUIRED = envbool("BIHUAN_2FA_REQUIRED", "True" if PRODUCTION else "False")
BIHUAN_2FA_ISSUER = os.environ.get("BIHUAN_2FA_ISSUER", "Bihuan")

LANGUAGE_CODE = "zh-hans"
LANGUAGES = [("zh-hans", _("Simplified Chinese")), ("en", _("English"))]
LOCALE_PATHS = [BASE_DIR / "locale"]
TIME_ZONE = "Asia/Shanghai"
USE_I18N = True
USE_TZ = True

STATIC_URL = "static/"
STATIC_ROOT = VAR_DIR / "static"
WHITENOISE_USE_FINDERS = not PRODUCTION
MEDIA_URL = "media/"
MEDIA_ROOT = Path(os.environ.get("MEDIA_ROOT", str(VAR_DIR / "media")))
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {
        "BACKEND": "whitenoise.storage.CompressedManifestStaticFilesStorage"
        if PRODUCTION
        else "django.contrib.staticfiles.storage.StaticFilesStorage"
    },
}

TASKS = {
    "default": {
        "BACKEND": os.environ.get("TASKS_BACKEND", "django_tasks_db.DatabaseBackend"),
        "QUEUES": ["default"],
    }
}

REST_FRAMEWORK = {
    # Systems send a token (no CSRF: no cookie); the browser its session (with CSRF).
    "DEFAULT_AUTHENTICATION_CLASSES": [
        "bihuan.core.authentication.ApiTokenAuthentication",
        "rest_framework.authentication.SessionAuthentication",
    ],
    "DEFAULT_SCHEMA_CLASS": "bihuan.core.api.BihuanAutoSchema",
    "DEFAULT_PERMISSION_CLASSES": ["rest_framework.permissions.IsAuthenticated"],
    "DEFAULT_FILTER_BACKENDS": ["django_filters.rest_framework.DjangoFilterBackend"],
    "DEFAULT_PAGINATION_CLASS": "bihuan.core.pagination.OrderedCursorPagination",
    "PAGE_SIZE": 50,
    "EXCEPTION_HANDLER": "bihuan.core.api.exception_handler",
}
# OpenAPI 3 at /api/schema/, Swagger UI at /api/docs/ from local static files (no CDN).
SPECTACULAR_SETTINGS = {
    "TITLE": "Bihuan API",
    "DESCRIPTION": "Closed-loop fire-safety hazard management. See docs/api.md.",
    "VERSION": "1",
    "SERVE_INCLUDE_SCHEMA": False,
    "COMPONENT_SPLIT_REQUEST": True,
    "SCHEMA_PATH_PREFIX": "/api/",
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
    "ENUM_NAME_OVERRIDES": {
        "PlaceKindEnum": "bihuan.places.choices.PlaceKind",
        "PartyKindEnum": "bihuan.places.choices.PartyKind",
        "InspectionKindEnum": "bihuan.inspections.choices.InspectionKind",
        "EvidenceKindEnum": "bihuan.hazards.choices.EvidenceKind",
    },
}
# A retried POST with the same Idempotency-Key gets the first answer for this long.
BIHUAN_IDEMPOTENCY_HOURS = envint("BIHUAN_IDEMPOTENCY_HOURS", 24)
# Open311 GeoReport v2 (/open311/v2/): our jurisdiction id, and whether POSTs need an
# api_key (an API token); without one they are rate-limited like the public report form.
BIHUAN_OPEN311_JURISDICTION = os.environ.get("BIHUAN_OPEN311_JURISDICTION", "yongkang")
BIHUAN_OPEN311_REQUIRE_API_KEY = envbool("BIHUAN_OPEN311_REQUIRE_API_KEY", "False")

EMAIL_BACKEND = os.environ.get("EMAIL_BACKEND", "django.core.mail.backends.smtp.EmailBackend")
EMAIL_HOST = os.environ.get("EMAIL_HOST", "127.0.0.1")
EMAIL_PORT = envint("EMAIL_PORT", 25)
DEFAULT_FROM_EMAIL = os.environ.get("DEFAULT_FROM_EMAIL", "bihuan@localhost")

# Notifications and webhooks (docs/notifications.md): the only hosts chat robots and
# webhooks may call (empty: none; "*.example.gov.cn" covers subdomains), retries, the
# worker's sweep, reminders (working days before a deadline) and escalation rules (JSON).
BIHUAN_OUTBOUND_ALLOWED_HOSTS = [
    h.strip().lower() for h in os.environ.get("BIHUAN_OUTBOUND_ALLOWED_HOSTS", "").split(",")
    if h.strip()
]
BIHUAN_OUTBOUND_TIMEOUT_SECONDS = envint("BIHUAN_OUTBOUND_TIMEOUT_SECONDS", 10)
# Makes the links in e-mails and chat-robot messages absolute: https://bihuan.example.gov.cn
BIHUAN_BASE_URL = os.environ.get("BIHUAN_BASE_URL", "")
BIHUAN_DELIVERY_MAX_ATTEMPTS = envint("BIHUAN_DELIVERY_MAX_ATTEMPTS", 8)
BIHUAN_DELIVERY_BACKOFF_SECONDS = envint("BIHUAN_DELIVERY_BACKOFF_SECONDS", 30)
BIHUAN_DELIVERY_BACKOFF_MAX_SECONDS = envint("BIHUAN_DELIVERY_BACKOFF_MAX_SECONDS", 3600)
BIHUAN_SWEEP_INTERVAL_SECONDS = envint("BIHUAN_SWEEP_INTERVAL_SECONDS", 60)
BIHUAN_DELIVERY_POLL_SECONDS = envint("BIHUAN_DELIVERY_POLL_SECONDS", 5)
BIHUAN_NOTICE_HOUR = envint("BIHUAN_NOTICE_HOUR", 8)
BIHUAN_REMINDER_WORKING_DAYS = [
    int(n) for n in os.environ.get("BIHUAN_REMINDER_WORKING_DAYS", "3,1").split(",") if n.strip()
]
if os.environ.get("BIHUAN_ESCALATION_RULES"):
    import json as _json

    BIHUAN_ESCALATION_RULES = _json.loads(os.environ["BIHUAN_ESCALATION_RULES"])

# The city this installation serves (root area code) and its hazard number prefix.
BIHUAN_CITY_CODE = os.environ.get("BIHUAN_CITY_CODE", "330784")
BIHUAN_HAZARD_PREFIX = os.environ.get("BIHUAN_HAZARD_PREFIX", "YK")
# Citizen reports accepted from one client address (the load test lifts these).
BIHUAN_REPORTS_PER_HOUR = envint("BIHUAN_REPORTS_PER_HOUR", 3)
BIHUAN_REPORTS_PER_DAY = envint("BIHUAN_REPORTS_PER_DAY", 10)

# Personal data keys (bihuan.core.crypto): "kid:base64key" entries, the first the current
# encryption key, "hash:base64key" the look-up key; inline or in a file. Development and
# the demo generate var/pii_keys on first use; production refuses to start without keys.
BIHUAN_PII_KEYS = os.environ.get("BIHUAN_PII_KEYS", "")
BIHUAN_PII_KEY_FILE = os.environ.get("BIHUAN_PII_KEY_FILE", "")
if not BIHUAN_PII_KEYS and not BIHUAN_PII_KEY_FILE and not PRODUCTION:
    BIHUAN_PII_KEY_FILE = str(VAR_DIR / "pii_keys")
    try:
        from bihuan.core.crypto import ensure_key_file

        ensure_key_file(Path(BIHUAN_PII_KEY_FILE))
    except OSError:
        pass
# Tenants: at most this many people per room (浙江 rental-housing rule: ≤ 2, RH-06), and
# how long after moving out a tenant's record is kept before it is purged.
BIHUAN_TENANTS_MAX_PER_ROOM = envint("BIHUAN_TENANTS_MAX_PER_ROOM", 2)
BIHUAN_TENANTS_RETENTION_DAYS = envint("BIHUAN_TENANTS_RETENTION_DAYS", 180)
# Roles that see personal data (phones, ID numbers) unmasked; empty: everyone sees it masked.
BIHUAN_PERSONAL_DATA_ROLES = frozenset(
    role.strip() for role in os.environ.get("BIHUAN_PERSONAL_DATA_ROLES", "").split(",")
    if role.strip()
)

# Database sessions that carry their user's id: one query reads both per request.
SESSION_ENGINE = "bihuan.accounts.sessions"
SESSION_COOKIE_HTTPONLY = True
CSRF_COOKIE_HTTPONLY = True
SECURE_CONTENT_TYPE_NOSNIFF = True
X_FRAME_OPTIONS = "DENY"
SESSION_COOKIE_SAMESITE = "Lax"
SECURE_REFERRER_POLICY = "same-origin"
SECURE_CROSS_ORIGIN_OPENER_POLICY = "same-origin"
# A strict Content Security Policy (django-csp 4): nothing inline, nothing from elsewhere.
# Django's admin gets a relaxed policy of its own (core/middleware.py says why).
CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": ["'self'"],
        "script-src": ["'self'"],
        "style-src": ["'self'"],
        "img-src": ["'self'", "data:", "blob:"],
        "font-src": ["'self'"],
        "connect-src": ["'self'"],
        "object-src": ["'none'"],
        "base-uri": ["'self'"],
        "form-action": ["'self'"],
        "frame-ancestors": ["'none'"],
    },
}
if PRODUCTION:
    SECURE_SSL_REDIRECT = envbool("SECURE_SSL_REDIRECT", "True")
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
    SECURE_HSTS_SECONDS = envint("SECURE_HSTS_SECONDS", 31536000)
    SECURE_HSTS_INCLUDE_SUBDOMAINS = True
    SECURE_HSTS_PRELOAD = True
    SESSION_COOKIE_SECURE = True
    CSRF_COOKIE_SECURE = True


def _check_production() -> None:
    """Refuse an unsafe production configuration instead of running with it."""
    if DEBUG:
        raise ImproperlyConfigured("DEBUG must be off in production.")
    if len(SECRET_KEY) < 50 or SECRET_KEY.startswith("django-insecure"):
        raise ImproperlyConfigured("SECRET_KEY is too short or insecure for production.")
    if DATABASES["default"]["ENGINE"] != "django.db.backends.postgresql":
        raise ImproperlyConfigured("Production runs on PostgreSQL: set DATABASE_URL.")
    if "*" in ALLOWED_HOSTS:
        raise ImproperlyConfigured("ALLOWED_HOSTS must name the hosts, not '*'.")
    if not BIHUAN_PII_KEYS and not BIHUAN_PII_KEY_FILE:
        raise ImproperlyConfigured(
            "Personal data needs its keys: set BIHUAN_PII_KEYS or BIHUAN_PII_KEY_FILE."
        )
    from bihuan.core.crypto import KeyringError, read_keyring

    try:
        read_keyring(BIHUAN_PII_KEYS, BIHUAN_PII_KEY_FILE)
    except KeyringError as error:
        raise ImproperlyConfigured(f"BIHUAN_PII_KEYS / BIHUAN_PII_KEY_FILE: {error}") from None


if PRODUCTION:
    _check_production()

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    # No personal data in logs: ID numbers and phone numbers are masked in every record.
    "filters": {"mask_personal_data": {"()": "bihuan.core.logfilters.MaskPersonalData"}},
    "handlers": {"console": {"class": "logging.StreamHandler",
                             "filters": ["mask_personal_data"]}},
    "root": {"handlers": ["console"], "level": os.environ.get("LOG_LEVEL", "INFO")},
    "loggers": {
        "django.db.backends": {"level": "INFO"},
        # WeasyPrint logs every layout step of every PDF at INFO.
        "weasyprint.progress": {"level": "WARNING"},
    },
}
