"""Settings for Yiwang, read from the environment.

One module for every profile. With nothing set, the portal runs on a local SQLite file with
Celery tasks executed in-process (eager), so a newcomer needs nothing but Python. Setting
DATABASE_URL / CELERY_BROKER_URL / SECRET_KEY / DEBUG=0 / ALLOWED_HOSTS turns it into the
production profile. Helpers below refuse malformed values instead of guessing.
"""

import os
from datetime import timedelta
from pathlib import Path

import dj_database_url
from celery.schedules import crontab
from django.core.exceptions import ImproperlyConfigured
from django.utils.translation import gettext_lazy as _

BASE_DIR = Path(__file__).resolve().parent.parent


def env_str(name: str, default: str = "") -> str:
    return os.environ.get(name, default)


def env_bool(name: str, default: bool) -> bool:
    raw = os.environ.get(name)
    if raw is None or raw == "":
        return default
    value = raw.strip().lower()
    if value in {"1", "true", "yes", "on"}:
        return True
    if value in {"0", "false", "no", "off"}:
        return False
    raise ImproperlyConfigured(f"{name} must be a boolean (1/0, true/false), got {raw!r}")


def env_int(name: str, default: int) -> int:
    raw = os.environ.get(name)
    if raw is None or raw == "":
        return default
    try:
        return int(raw)
    except ValueError:
        raise ImproperlyConfigured(f"{name} must be an integer, got {raw!r}") from None


def env_list(name: str, default: list[str]) -> list[str]:
    raw = os.environ.get(name)
    if raw is None or raw == "":
        return default
    return [item.strip() for item in raw.split(",") if item.strip()]


DEBUG = env_bool("DEBUG", False)
# The demo (`make run`): its users keep the printed password (no forced change at first login) and no
# role must set up a second factor. Never on in production.
DEMO_MODE = env_bool("DEMO_MODE", False)

_INSECURE_KEY = "django-insecure-yiwang-local-development-only"
SECRET_KEY = env_str("SECRET_KEY", _INSECURE_KEY)
if not DEBUG and SECRET_KEY == _INSECURE_KEY and env_bool("REQUIRE_SECRET_KEY", False):
    raise ImproperlyConfigured("SECRET_KEY must be set in production (DEBUG=0).")

# Personal data (ID numbers, phones) is encrypted at rest with AES-GCM (governance/crypto.py).
# PII_ENCRYPTION_KEYS = "id:base64key[,id:base64key...]": the first key encrypts, every key
# decrypts (a rotation keeps the old one listed until `manage.py rotate_pii_key` has run);
# PII_HASH_KEY = base64 key of the HMAC-SHA256 lookup hashes. Production (DEBUG=0) refuses to
# start without both; REQUIRE_PII_KEYS=0 lets a non-DEBUG run (tests, benchmarks) use the fixed
# development keys below, which protect nothing.
_INSECURE_PII_KEYS = "dev:aW5zZWN1cmUtZGV2ZWxvcG1lbnQtcGlpLWtleSEhISE="  # "insecure-development-pii-key!!!!"
_INSECURE_PII_HASH_KEY = "aW5zZWN1cmUtZGV2ZWxvcG1lbnQtcGlpLWhhc2gta2V5"  # "insecure-development-pii-hash-key"
PII_ENCRYPTION_KEYS = env_str("PII_ENCRYPTION_KEYS", "")
PII_HASH_KEY = env_str("PII_HASH_KEY", "")
if not (PII_ENCRYPTION_KEYS and PII_HASH_KEY):
    if not DEBUG and env_bool("REQUIRE_PII_KEYS", True):
        raise ImproperlyConfigured(
            "PII_ENCRYPTION_KEYS and PII_HASH_KEY must be set in production (DEBUG=0): personal data is "
            "encrypted with them (see README, \"Personal data encrypted at rest\"). REQUIRE_PII_KEYS=0 allows "
            "the insecure development keys.")
    PII_ENCRYPTION_KEYS = PII_ENCRYPTION_KEYS or _INSECURE_PII_KEYS
    PII_HASH_KEY = PII_HASH_KEY or _INSECURE_PII_HASH_KEY

ALLOWED_HOSTS = env_list("ALLOWED_HOSTS", ["127.0.0.1", "localhost", "[::1]", "testserver"])
CSRF_TRUSTED_ORIGINS = env_list("CSRF_TRUSTED_ORIGINS", [])

INSTALLED_APPS = [
    # Django's admin with the portal's site: only the roles that keep rosters enter it (governance.portal.admin).
    "governance.apps.PortalAdminConfig",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "mptt",
    "rest_framework",
    "rest_framework.authtoken",
    "django_filters",
    "drf_spectacular",
    "drf_spectacular_sidecar",
    "axes",
    "django_otp",
    "django_otp.plugins.otp_totp",
    "csp",  # its system checks catch settings of django-csp 3 that 4 no longer reads
    "governance",
    "partybuild",
    "grid",
    "collective_economy",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    # A database down or restarting answers 503 in Chinese, not a 500 (with handler500 in urls.py).
    "governance.portal.outage.DatabaseOutageMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.locale.LocaleMiddleware",
    # Right after the language is known (its 413 speaks it), before anything reads the body.
    "governance.portal.limits.BodySizeLimitMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    # A NUL in the path, a query parameter or a form field is a 400 naming it, before any view reads it
    # (PostgreSQL refuses NUL in text: it answered 500 in filters, exports and Open311).
    "governance.portal.guard.RefuseNulMiddleware",
    # Idle sessions end (a refresh at most once a minute), then the gates a logged-in user passes first:
    # a second factor, an expired or first password (governance.portal.auth).
    "governance.portal.auth.SessionRefreshMiddleware",
    "governance.portal.auth.AccountGateMiddleware",
    # The security headers: the Content-Security-Policy (django-csp), then Permissions-Policy and
    # no-store for personal data (governance/portal/security.py; it reads request.user).
    "csp.middleware.CSPMiddleware",
    "governance.portal.security.SecurityHeadersMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    # Names the actor of each request for the audit trail (after the user is known).
    "governance.audit.context.AuditContextMiddleware",
    # Last, as django-axes asks: it watches the login attempts the views above handle.
    "axes.middleware.AxesMiddleware",
]

ROOT_URLCONF = "governance.urls"
WSGI_APPLICATION = "governance.wsgi.application"

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
                "governance.portal.context_processors.portal",
            ],
        },
    },
]

# --- Database -----------------------------------------------------------------------------
DATABASE_URL = env_str("DATABASE_URL", f"sqlite:///{BASE_DIR / 'db.sqlite3'}")
if DATABASE_URL.split(":", 1)[0] not in {"sqlite", "postgres", "postgresql", "pgsql"}:
    raise ImproperlyConfigured(f"DATABASE_URL must be sqlite:// or postgres://, got {DATABASE_URL!r}")
DATABASES = {"default": dj_database_url.parse(DATABASE_URL, conn_max_age=env_int("DB_CONN_MAX_AGE", 60))}
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    # SQLite serialises writers anyway; a busy timeout turns "database is locked" into a wait.
    DATABASES["default"].setdefault("OPTIONS", {})["timeout"] = 20
    DATABASES["default"]["CONN_MAX_AGE"] = 0
else:
    # PostgreSQL's JIT compiles any statement it estimates as costly: the indicator rollup's
    # statements then spent 0.3 s each compiling to save a few milliseconds. The portal's
    # queries are short; JIT is off for its connections. And the stock random_page_cost (4)
    # prices a random read as a spinning disk's: on SSD and a cached database it made the
    # planner scan all 2,000,000 cases (0.44 s) rather than read a month's 60,000 by index
    # (0.11 s). 1.1 is the usual setting for SSD; a server's own configuration may say more.
    DATABASES["default"].setdefault("OPTIONS", {})["options"] = env_str(
        "PG_SESSION_OPTIONS", "-c jit=off -c random_page_cost=1.1")
    # A persistent connection (DB_CONN_MAX_AGE) is checked before its first use in each request, so
    # the portal reconnects by itself after PostgreSQL restarts instead of failing on a dead socket.
    DATABASES["default"]["CONN_HEALTH_CHECKS"] = env_bool("DB_CONN_HEALTH_CHECKS", True)
    # Connecting to a PostgreSQL that is down or restarting fails in seconds, not the OS's minutes.
    DATABASES["default"]["OPTIONS"].setdefault("connect_timeout", env_int("DB_CONNECT_TIMEOUT", 5))
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

AUTH_USER_MODEL = "governance.User"
AUTHENTICATION_BACKENDS = [
    "axes.backends.AxesStandaloneBackend",
    "django.contrib.auth.backends.ModelBackend",
]
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
LOGIN_URL = "login"
LOGIN_REDIRECT_URL = "home"
LOGOUT_REDIRECT_URL = "login"

# Brute force on an intranet portal: an account is locked after AXES_FAILURE_LIMIT failures from any
# addresses, and an address after as many failures over any accounts, each on its own (one lock per
# account+address pair let many addresses each guess a few times). Both end after AXES_COOLOFF_MINUTES.
AXES_FAILURE_LIMIT = env_int("AXES_FAILURE_LIMIT", 5)
AXES_COOLOFF_TIME = timedelta(minutes=env_int("AXES_COOLOFF_MINUTES", 30))
AXES_LOCKOUT_PARAMETERS = ["username", "ip_address"]
AXES_ENABLED = env_bool("AXES_ENABLED", True)
AXES_VERBOSE = False
# The login page shows registration/locked_out.html; the API a JSON message (governance.portal.auth).
AXES_LOCKOUT_CALLABLE = "governance.portal.auth.lockout_response"
# How many reverse proxies (nginx, deploy/) stand in front of the portal: the client's address is then the
# one the outermost proxy saw (X-Forwarded-For, counted from the right), not the proxy's own. 0: REMOTE_ADDR.
# Behind one nginx, 1; left at 0 there, every login would count against the proxy's single address.
TRUSTED_PROXY_COUNT = env_int("TRUSTED_PROXY_COUNT", 0)
AXES_CLIENT_IP_CALLABLE = "governance.portal.auth.client_address"

# --- Sessions, tokens, passwords, second factor (governance.portal.auth) ---------------------
# A session ends after this many idle minutes (refreshed at most once a minute, so a page costs no
# extra write) and when the browser closes. A password change or a deactivation ends every session of
# the user: Django checks the session's password hash and the backend refuses inactive users.
SESSION_IDLE_MINUTES = env_int("SESSION_IDLE_MINUTES", 30)
SESSION_COOKIE_AGE = SESSION_IDLE_MINUTES * 60
SESSION_EXPIRE_AT_BROWSER_CLOSE = env_bool("SESSION_EXPIRE_AT_BROWSER_CLOSE", True)
# An API token (DRF authtoken) is refused this many days after it was issued; a new one is issued on
# the account page or by POST /api/v1/auth/token/.
API_TOKEN_DAYS = env_int("API_TOKEN_DAYS", 30)
# A password older than this many days must be changed before the portal opens again (0: never expires).
PASSWORD_MAX_AGE_DAYS = env_int("PASSWORD_MAX_AGE_DAYS", 90)
# The roles that must set up a second factor (TOTP) before they use the portal; anyone may set one up.
OTP_REQUIRED_ROLES = env_list("OTP_REQUIRED_ROLES", [] if DEMO_MODE or DEBUG else ["admin", "county"])
# The issuer an authenticator app shows next to the account.
OTP_TOTP_ISSUER = env_str("OTP_TOTP_ISSUER", "Yiwang")
# Besides administrators, the roles that enter Django's admin, each in his scope: township staff keep their
# rosters there, county officials the county's rules (decision thresholds and quorums, project categories).
ADMIN_ROLES = env_list("ADMIN_ROLES", ["township", "county"])

# --- Language and time --------------------------------------------------------------------
LANGUAGE_CODE = "zh-hans"
LANGUAGES = [("zh-hans", "简体中文"), ("en", "English")]
LOCALE_PATHS = [BASE_DIR / "locale"]
TIME_ZONE = "Asia/Shanghai"
USE_I18N = True
USE_TZ = True

# --- Static files -------------------------------------------------------------------------
STATIC_URL = "static/"
STATICFILES_DIRS = [BASE_DIR / "static"]
STATIC_ROOT = Path(env_str("STATIC_ROOT", str(BASE_DIR / "staticfiles")))
# Case attachments and other files that only users in scope may see: outside the web root,
# never under MEDIA_URL; a view checks the scope and streams them.
PRIVATE_MEDIA_ROOT = Path(env_str("PRIVATE_MEDIA_ROOT", str(BASE_DIR / "var" / "private")))
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "private": {
        "BACKEND": "django.core.files.storage.FileSystemStorage",
        "OPTIONS": {"location": str(PRIVATE_MEDIA_ROOT), "base_url": None},
    },
    "staticfiles": {
        "BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"
        if DEBUG
        else "whitenoise.storage.CompressedStaticFilesStorage"
    },
}
MEDIA_ROOT = Path(env_str("MEDIA_ROOT", str(BASE_DIR / "var" / "media")))
CASE_ATTACHMENT_MAX_BYTES = env_int("CASE_ATTACHMENT_MAX_BYTES", 10 * 2**20)

# --- Hostile input ------------------------------------------------------------------------
# An uploaded workbook (.xlsx, a ZIP archive) is checked before any reader opens it
# (governance/rosters/archive.py): at most this many parts, this many bytes once inflated
# (all parts together, measured while inflating, whatever the headers declare), and this
# compression ratio. A 100,000-resident roster has 7 parts, inflates to 31 MB, ratio 7.6.
XLSX_MAX_MEMBERS = env_int("XLSX_MAX_MEMBERS", 1000)
XLSX_MAX_EXPANDED_BYTES = env_int("XLSX_MAX_EXPANDED_BYTES", 256 * 2**20)
XLSX_MAX_RATIO = env_int("XLSX_MAX_RATIO", 100)
# The largest request body that is not a multipart upload (JSON, a form, anything else),
# refused with 413 before it is read (governance/portal/limits.py): Django's
# DATA_UPLOAD_MAX_MEMORY_SIZE does not guard DRF's parsers. The longest text field
# (20,000 characters of minutes) is 120 kB of JSON even with every character escaped.
# Multipart uploads keep their own limits (the roster import's 64 MB, CASE_ATTACHMENT_MAX_BYTES).
API_MAX_BODY_BYTES = env_int("API_MAX_BODY_BYTES", 2 * 2**20)

# --- REST API -----------------------------------------------------------------------------
REST_FRAMEWORK = {
    # Both refuse a user whom the portal's gates stop (second factor, password to change); the token
    # one also refuses an expired token (governance.portal.auth). The token one first: a refused token
    # is then a 401 with its WWW-Authenticate header, which clients know to answer with a new token.
    "DEFAULT_AUTHENTICATION_CLASSES": [
        "governance.portal.auth.ExpiringTokenAuthentication",
        "governance.portal.auth.PortalSessionAuthentication",
    ],
    "DEFAULT_PERMISSION_CLASSES": ["rest_framework.permissions.IsAuthenticated"],
    "DEFAULT_PAGINATION_CLASS": "governance.portal.api.Pagination",
    "PAGE_SIZE": 50,
    "DEFAULT_FILTER_BACKENDS": [
        "django_filters.rest_framework.DjangoFilterBackend",
        "rest_framework.filters.SearchFilter",
        "rest_framework.filters.OrderingFilter",
    ],
    # drf-spectacular's, documenting the error answers too (400, 401, 403, 404, 405).
    "DEFAULT_SCHEMA_CLASS": "governance.portal.schema.AutoSchema",
}
SPECTACULAR_SETTINGS = {
    "TITLE": "Yiwang API",
    "DESCRIPTION": "County grassroots governance portal (一网). Every list is limited to the caller's org subtree.",
    "VERSION": "1.0.0",
    "SERVE_INCLUDE_SCHEMA": False,
    "SERVE_PERMISSIONS": ["rest_framework.permissions.IsAuthenticated"],
    # Swagger UI from the installed sidecar package, never from a CDN (intranets have no internet).
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
    # Apps' choice enums that share a field name get distinct schema names.
    "ENUM_NAME_OVERRIDES": {
        "GridPostEnum": "grid.models.Post",
        "ServicePostEnum": "partybuild.models.ServicePost",
        "RegistrationStatusEnum": "partybuild.models.RegistrationStatus",
        "CaseStateEnum": "grid.models.CaseState",
        "DecisionStateEnum": "collective_economy.models.DecisionState",
    },
}

# --- Celery -------------------------------------------------------------------------------
# Without a broker, tasks run in-process: the embedded default needs no Redis.
CELERY_BROKER_URL = env_str("CELERY_BROKER_URL", "")
CELERY_TASK_ALWAYS_EAGER = not CELERY_BROKER_URL
CELERY_TASK_EAGER_PROPAGATES = True
CELERY_RESULT_BACKEND = env_str("CELERY_RESULT_BACKEND", CELERY_BROKER_URL or "")
CELERY_TIMEZONE = TIME_ZONE
CELERY_TASK_ACKS_LATE = True
CELERY_TASK_REJECT_ON_WORKER_LOST = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
# Publishing must never hold up a request when the broker is down: short socket timeouts,
# and governance.outbox publishes without retries (it keeps what could not be sent and
# sends it later).
CELERY_BROKER_TRANSPORT_OPTIONS = {
    "visibility_timeout": 3600,
    "socket_connect_timeout": 1,
    "socket_timeout": 5,
    # kombu retries a connection for a new channel on its own (three tries, two seconds);
    # a publisher gets one quick retry instead.
    "max_retries": 1,
    "interval_start": 0,
    "interval_step": 0.2,
    "interval_max": 0.2,
}
CELERY_BROKER_CONNECTION_TIMEOUT = 1
CELERY_BROKER_CONNECTION_RETRY_ON_STARTUP = True
CELERY_REDIS_SOCKET_CONNECT_TIMEOUT = 1
# The result store too: a chord (the indicator rollup) subscribes to it when it is sent, and by
# default retries a lost Redis twenty times a second apart; one quick retry, then the error.
CELERY_RESULT_BACKEND_TRANSPORT_OPTIONS = {
    "retry_policy": {"max_retries": 1, "interval_start": 0, "interval_step": 0.2, "interval_max": 0.2},
}
CELERY_REDIS_SOCKET_TIMEOUT = 5
# Crontab times are CELERY_TIMEZONE's (Asia/Shanghai). Each rollup skips locked (approved) months.
CELERY_BEAT_SCHEDULE = {
    "flush-outbox": {"task": "governance.tasks.flush_outbox", "schedule": 60.0},
    "mark-overdue-cases": {"task": "grid.tasks.cases_mark_overdue", "schedule": 300.0},
    "rollup-previous-month": {"task": "governance.indicators.tasks.rollup_scheduled", "kwargs": {"which": "previous"},
                              "schedule": crontab(minute=0, hour=1, day_of_month=1)},
    "rollup-current-month": {"task": "governance.indicators.tasks.rollup_scheduled", "kwargs": {"which": "current"},
                             "schedule": crontab(minute=0, hour=2)},
    # The figures "as of today" (of the cases raised in a month, those closed by now) follow late closures.
    "refresh-to-date": {"task": "governance.indicators.tasks.refresh_to_date", "schedule": 600.0},
    "check-approved-months": {"task": "governance.indicators.tasks.check_approved_months",
                              "schedule": crontab(minute=30, hour=3)},
    # A rollup run whose worker died (no heartbeat for ROLLUP_STALE_SECONDS) is marked partial and resumed.
    "watch-rollups": {"task": "governance.indicators.tasks.rollup_watch", "schedule": 60.0},
    # Beat's tick and a worker's run of it, for /healthz (governance.health).
    "heartbeat": {"task": "governance.tasks.heartbeat", "schedule": float(env_int("HEARTBEAT_SECONDS", 60))},
}
# A rollup run is split into this many parts, shards of townships of about the same work (fewer
# when there are fewer townships). Each part pays every family's fixed statements and index reads,
# so every part more costs more in all: about as many parts as worker processes, or twice as many.
ROLLUP_PARTS = env_int("ROLLUP_PARTS", 4)
if ROLLUP_PARTS < 1:
    raise ImproperlyConfigured("ROLLUP_PARTS must be at least 1.")
# A rollup part writes its run's heartbeat this often while it works...
ROLLUP_HEARTBEAT_SECONDS = env_int("ROLLUP_HEARTBEAT_SECONDS", 30)
# ...and a running run silent this long lost its worker: it is marked partial and its unfinished
# parts are computed by a new run. Longer than any wait of a part in a busy queue.
ROLLUP_STALE_SECONDS = env_int("ROLLUP_STALE_SECONDS", 180)
# How many times in a row the watcher resumes a run whose worker keeps dying; then a person decides.
ROLLUP_RESUME_MAX = env_int("ROLLUP_RESUME_MAX", 2)
if ROLLUP_HEARTBEAT_SECONDS < 1 or ROLLUP_STALE_SECONDS < 2 * ROLLUP_HEARTBEAT_SECONDS:
    raise ImproperlyConfigured("ROLLUP_STALE_SECONDS must be at least twice ROLLUP_HEARTBEAT_SECONDS (both > 0).")

# /healthz: beat or a worker silent this long is down (beat sends the heartbeat every minute), and an
# outbox message unsent this long means follow-up work is stuck.
HEALTH_HEARTBEAT_MAX_AGE = env_int("HEALTH_HEARTBEAT_MAX_AGE", 180)
HEALTH_OUTBOX_MAX_AGE = env_int("HEALTH_OUTBOX_MAX_AGE", 600)

REDIS_URL = env_str("REDIS_URL", CELERY_BROKER_URL if CELERY_BROKER_URL.startswith("redis") else "")
# A Redis that is down or hangs costs a cache call a second at most, never holds a request: the
# callers that matter (rate limits, public pages) let the call through when the cache fails.
CACHE_REDIS_OPTIONS = {"socket_connect_timeout": 1, "socket_timeout": 1}
if REDIS_URL:
    CACHES = {"default": {"BACKEND": "django.core.cache.backends.redis.RedisCache", "LOCATION": REDIS_URL,
                          "OPTIONS": CACHE_REDIS_OPTIONS}}
else:
    CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}

# --- Portal rules -------------------------------------------------------------------------
# How many households one household liaison (联户长) looks after at most (Dechang: about 10).
LIAISON_MAX_HOUSEHOLDS = env_int("LIAISON_MAX_HOUSEHOLDS", 15)

# Roles that may see ID numbers and phones unmasked (they serve households face to face).
PII_FULL_VIEW_ROLES = env_list("PII_FULL_VIEW_ROLES", ["admin", "village", "grid"])

# How many days the audit trail keeps its events at least: `manage.py audit_purge` deletes only older
# ones, and the database refuses to delete younger ones. Never less than 180 (six months of logs, as
# the graded-protection rules ask).
AUDIT_RETENTION_DAYS = env_int("AUDIT_RETENTION_DAYS", 180)
if AUDIT_RETENTION_DAYS < 180:
    raise ImproperlyConfigured(f"AUDIT_RETENTION_DAYS must be at least 180, got {AUDIT_RETENTION_DAYS}")

# The public village-affairs pages (村务公开, /public/): how long a village's page is served from the
# cache, and how many pages one address may open a minute (past it: a polite 429).
PUBLIC_PAGE_CACHE_SECONDS = env_int("PUBLIC_PAGE_CACHE_SECONDS", 300)
PUBLIC_PAGES_PER_MINUTE = env_int("PUBLIC_PAGES_PER_MINUTE", 60)

# --- Security (production profile) --------------------------------------------------------
SESSION_COOKIE_HTTPONLY = True
X_FRAME_OPTIONS = "DENY"
SECURE_CONTENT_TYPE_NOSNIFF = True
if not DEBUG:
    SECURE_SSL_REDIRECT = env_bool("SECURE_SSL_REDIRECT", True)
    # Monitors probe /healthz over plain HTTP on the machine itself.
    SECURE_REDIRECT_EXEMPT = [r"^healthz$"]
    SESSION_COOKIE_SECURE = env_bool("SESSION_COOKIE_SECURE", True)
    CSRF_COOKIE_SECURE = env_bool("CSRF_COOKIE_SECURE", True)
    SECURE_HSTS_SECONDS = env_int("SECURE_HSTS_SECONDS", 31536000)
    SECURE_HSTS_INCLUDE_SUBDOMAINS = True
    SECURE_HSTS_PRELOAD = env_bool("SECURE_HSTS_PRELOAD", True)
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")

# Content-Security-Policy (django-csp 4): scripts, frames, forms and connections to the portal
# itself only; no inline script, no on*= attribute, no eval (every script is a file under static/js).
# Styles keep 'unsafe-inline': templates set widths and CSS variables from data in style
# attributes (progress bars, tree depth, table indents), the public and print pages carry their
# own <style>, the Swagger UI page too, and ECharts writes its tooltips with style attributes.
# CSP_REPORT_ONLY=1 sends the same policy as report-only (to try a change on a live portal).
_CSP = {
    "DIRECTIVES": {
        "default-src": ["'self'"],
        "script-src": ["'self'"],
        "style-src": ["'self'", "'unsafe-inline'"],
        "img-src": ["'self'", "data:"],
        "font-src": ["'self'"],
        "connect-src": ["'self'"],
        "frame-ancestors": ["'none'"],
        "form-action": ["'self'"],
        "base-uri": ["'self'"],
        "object-src": ["'none'"],
    }
}
if env_bool("CSP_REPORT_ONLY", False):
    CONTENT_SECURITY_POLICY_REPORT_ONLY = _CSP
else:
    CONTENT_SECURITY_POLICY = _CSP

# Permissions-Policy (governance/portal/security.py): the browser features the portal refuses to
# itself and to anything it embeds; no page uses any of them (coordinates are typed, not located).
PERMISSIONS_POLICY = {
    feature: []
    for feature in (
        "accelerometer", "autoplay", "camera", "display-capture", "encrypted-media", "geolocation",
        "gyroscope", "hid", "magnetometer", "microphone", "midi", "payment", "picture-in-picture",
        "screen-wake-lock", "serial", "usb", "xr-spatial-tracking",
    )
} | {"fullscreen": ["self"]}
# Responses under these paths get Cache-Control: private, no-store even without a signed-in user
# (API clients sign in with a token); every response to a signed-in user gets it too.
NO_STORE_PATH_PREFIXES = env_list("NO_STORE_PATH_PREFIXES", ["/api/"])

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "handlers": {"console": {"class": "logging.StreamHandler"}},
    "root": {"handlers": ["console"], "level": env_str("LOG_LEVEL", "INFO")},
    "loggers": {"django.db.backends": {"level": "INFO"}},
}

PORTAL_NAME = _("Yiwang grassroots governance portal")
