"""Settings for Yiwang, read from the environment.

One module for every profile. With nothing set, the portal runs on a local SQLite file with
Celery tasks executed in-process (eager), so a newcomer needs nothing but Python. Setting
DATABASE_URL / CELERY_BROKER_URL / SECRET_KEY / DEBUG=0 / ALLOWED_HOSTS turns it into the
production profile. Helpers below refuse malformed values instead of guessing.
"""

import os
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

_INSECURE_KEY = "django-insecure-yiwang-local-development-only"
SECRET_KEY = env_str("SECRET_KEY", _INSECURE_KEY)
if not DEBUG and SECRET_KEY == _INSECURE_KEY and env_bool("REQUIRE_SECRET_KEY", False):
    raise ImproperlyConfigured("SECRET_KEY must be set in production (DEBUG=0).")

ALLOWED_HOSTS = env_list("ALLOWED_HOSTS", ["127.0.0.1", "localhost", "[::1]", "testserver"])
CSRF_TRUSTED_ORIGINS = env_list("CSRF_TRUSTED_ORIGINS", [])

INSTALLED_APPS = [
    "django.contrib.admin",
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
    "simple_history",
    "governance",
    "partybuild",
    "grid",
    "collective_economy",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.locale.LocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    # A NUL in the path, a query parameter or a form field is a 400 naming it, before any view reads it
    # (PostgreSQL refuses NUL in text: it answered 500 in filters, exports and Open311).
    "governance.portal.guard.RefuseNulMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "simple_history.middleware.HistoryRequestMiddleware",
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

# Lock an account+address out after repeated failures (brute force on an intranet portal).
AXES_FAILURE_LIMIT = env_int("AXES_FAILURE_LIMIT", 10)
AXES_COOLOFF_TIME = 1  # hours
AXES_LOCKOUT_PARAMETERS = [["username", "ip_address"]]
AXES_ENABLED = env_bool("AXES_ENABLED", True)
AXES_VERBOSE = False
AXES_LOCKOUT_TEMPLATE = "registration/locked_out.html"

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

# --- REST API -----------------------------------------------------------------------------
REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": [
        "rest_framework.authentication.SessionAuthentication",
        "rest_framework.authentication.TokenAuthentication",
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
}

REDIS_URL = env_str("REDIS_URL", CELERY_BROKER_URL if CELERY_BROKER_URL.startswith("redis") else "")
if REDIS_URL:
    CACHES = {"default": {"BACKEND": "django.core.cache.backends.redis.RedisCache", "LOCATION": REDIS_URL}}
else:
    CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}

# --- Portal rules -------------------------------------------------------------------------
# How many households one household liaison (联户长) looks after at most (Dechang: about 10).
LIAISON_MAX_HOUSEHOLDS = env_int("LIAISON_MAX_HOUSEHOLDS", 15)

# Roles that may see ID numbers and phones unmasked (they serve households face to face).
PII_FULL_VIEW_ROLES = env_list("PII_FULL_VIEW_ROLES", ["admin", "village", "grid"])

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
    SESSION_COOKIE_SECURE = env_bool("SESSION_COOKIE_SECURE", True)
    CSRF_COOKIE_SECURE = env_bool("CSRF_COOKIE_SECURE", True)
    SECURE_HSTS_SECONDS = env_int("SECURE_HSTS_SECONDS", 31536000)
    SECURE_HSTS_INCLUDE_SUBDOMAINS = True
    SECURE_HSTS_PRELOAD = env_bool("SECURE_HSTS_PRELOAD", True)
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "handlers": {"console": {"class": "logging.StreamHandler"}},
    "root": {"handlers": ["console"], "level": env_str("LOG_LEVEL", "INFO")},
    "loggers": {"django.db.backends": {"level": "INFO"}},
}

PORTAL_NAME = _("Yiwang grassroots governance portal")
