"""Crux settings: one module, driven by environment variables with safe defaults.

With no environment set, Crux runs embedded: SQLite in ``var/`` and Celery on kombu's
filesystem transport (folders under ``var/``), so a worker and beat need no server.
``DATABASE_URL`` switches to PostgreSQL and ``REDIS_URL`` to Redis. Every variable is listed
in ``.env.example``.
"""

from __future__ import annotations

import datetime as dt
import os
from pathlib import Path

import dj_database_url
from django.core.exceptions import ImproperlyConfigured

BASE_DIR = Path(__file__).resolve().parent.parent

_TRUE = {"1", "true", "yes", "on"}
_FALSE = {"0", "false", "no", "off", ""}


def env_str(name: str, default: str = "") -> str:
    return os.environ.get(name, default)


def env_bool(name: str, default: bool = False) -> bool:
    raw = os.environ.get(name)
    if raw is None:
        return default
    value = raw.strip().lower()
    if value in _TRUE:
        return True
    if value in _FALSE:
        return False
    raise ImproperlyConfigured(f"{name} must be a boolean (1/0, true/false), got {raw!r}")


def env_int(name: str, default: int) -> int:
    raw = os.environ.get(name)
    if raw is None or raw.strip() == "":
        return default
    try:
        return int(raw)
    except ValueError:
        raise ImproperlyConfigured(f"{name} must be an integer, got {raw!r}") from None


def env_list(name: str, default: str = "") -> list[str]:
    return [item.strip() for item in os.environ.get(name, default).split(",") if item.strip()]


DEBUG = env_bool("DEBUG", False)
VAR_DIR = Path(env_str("CRUX_VAR_DIR", str(BASE_DIR / "var")))

SECRET_KEY = env_str("SECRET_KEY")
if not SECRET_KEY:
    if not DEBUG:
        raise ImproperlyConfigured("SECRET_KEY must be set when DEBUG is off (see .env.example)")
    # A development-only key: never used with DEBUG off.
    SECRET_KEY = "crux-insecure-development-key-do-not-use-in-production"  # noqa: S105

ALLOWED_HOSTS = env_list("ALLOWED_HOSTS", "localhost,127.0.0.1,[::1]")
CSRF_TRUSTED_ORIGINS = env_list("CSRF_TRUSTED_ORIGINS")

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "django.contrib.humanize",
    "rest_framework",
    "drf_spectacular",
    "drf_spectacular_sidecar",
    "django_htmx",
    "crux",
    "forecasts",
    "markets",
    # After forecasts, whose templates/account/ restyle allauth's pages as Crux's.
    "allauth",
    "allauth.account",
    "axes",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    # Every page, static files included, carries the policy (CONTENT_SECURITY_POLICY).
    "crux.content_security.CSPMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "allauth.account.middleware.AccountMiddleware",
    # request.htmx: a view answers an htmx request with the part of the page it changed.
    "django_htmx.middleware.HtmxMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    # Last, as django-axes asks: it turns a request its backend refused into the lock-out page.
    "axes.middleware.AxesMiddleware",
]

ROOT_URLCONF = "config.urls"
WSGI_APPLICATION = "config.wsgi.application"

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
            ],
        },
    },
]

# Database: SQLite in var/ by default; DATABASE_URL (postgres://...) for PostgreSQL.
_default_db = f"sqlite:///{VAR_DIR / 'crux.sqlite3'}"
DATABASES = {
    "default": dj_database_url.parse(
        env_str("DATABASE_URL") or _default_db,
        conn_max_age=env_int("DB_CONN_MAX_AGE", 0),
        # A check before reusing a persistent connection costs a round trip per request.
        conn_health_checks=env_bool("DB_CONN_HEALTH_CHECKS", True),
    )
}
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    VAR_DIR.mkdir(parents=True, exist_ok=True)
    # WAL lets the web server, the worker and beat share the file without "database is locked".
    DATABASES["default"]["OPTIONS"] = {
        "timeout": 20,
        "transaction_mode": "IMMEDIATE",
        "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;",
    }
    DATABASES["default"]["TEST"] = {"NAME": str(VAR_DIR / "test.sqlite3")}
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
# django-axes refuses a log-in before the password is checked once (username, client address)
# has failed too often, on every log-in path (the site's and the admin's); see the AXES_ block.
# allauth's backend is Django's ModelBackend that also takes an e-mail address for the username.
# Django's own ModelBackend stays listed, as allauth's documentation has it: a session records
# the backend that logged it in, and sessions begun before allauth name ModelBackend (without it
# every such session would be logged out).
AUTHENTICATION_BACKENDS = [
    "axes.backends.AxesStandaloneBackend",
    "allauth.account.auth_backends.AuthenticationBackend",
    "django.contrib.auth.backends.ModelBackend",
]
LOGIN_URL = "login"
LOGIN_REDIRECT_URL = "forecasts:question_list"
LOGOUT_REDIRECT_URL = "forecasts:question_list"

# Accounts (django-allauth): sign up with a username, an e-mail address (required, one account
# each) and a password; log in with the username or the address. EMAIL_VERIFICATION: "none"
# sends no confirmation, "optional" (the default) sends one but lets the account in at once,
# "mandatory" refuses a log-in until the address is confirmed (accounts made before allauth
# included: their next log-in sends them the link).
_EMAIL_VERIFICATION_CHOICES = ("none", "optional", "mandatory")
ACCOUNT_EMAIL_VERIFICATION = env_str("EMAIL_VERIFICATION", "optional").strip().lower()
if ACCOUNT_EMAIL_VERIFICATION not in _EMAIL_VERIFICATION_CHOICES:
    raise ImproperlyConfigured(
        f"EMAIL_VERIFICATION must be one of {', '.join(_EMAIL_VERIFICATION_CHOICES)}, "
        f"got {env_str('EMAIL_VERIFICATION')!r}"
    )
ACCOUNT_LOGIN_METHODS = {"username", "email"}
ACCOUNT_SIGNUP_FIELDS = ["username*", "email*", "password1*", "password2*"]
ACCOUNT_UNIQUE_EMAIL = True
# One address an account: a new one replaces the old once confirmed.
ACCOUNT_CHANGE_EMAIL = True
# A session lasts as long as Django's (SESSION_COOKIE_AGE), as before: no "remember me" box.
ACCOUNT_SESSION_REMEMBER = True
ACCOUNT_EMAIL_SUBJECT_PREFIX = "[Crux] "
# A reset asked for an address with no account sends nothing (the page reads the same).
ACCOUNT_EMAIL_UNKNOWN_ACCOUNTS = False
ACCOUNT_ADAPTER = "forecasts.auth_forms.AccountAdapter"
# The log-in form, password forms that revoke the API tokens, and the reset form with Crux's
# hourly allowance.
ACCOUNT_FORMS = {
    "login": "forecasts.auth_forms.CruxLoginForm",
    "change_password": "forecasts.auth_forms.TokenRevokingChangePasswordForm",
    "set_password": "forecasts.auth_forms.TokenRevokingSetPasswordForm",
    "reset_password_from_key": "forecasts.auth_forms.TokenRevokingResetPasswordKeyForm",
    "reset_password": "forecasts.auth_forms.ThrottledResetPasswordForm",
}
# allauth's own cache-counted limits stay on, except where Crux counts for itself: log-ins
# (django-axes, in the database, below) and reset e-mails (the form above).
ACCOUNT_RATE_LIMITS: dict[str, str | None] = {
    "login": None,
    "login_failed": None,
    "reset_password": None,
}

# How many reverse proxies, each appending to X-Forwarded-For, stand in front of Crux: the
# client address every throttle keys on is the N-th from the right of that header (0: the
# peer, REMOTE_ADDR, and the header is ignored). See crux/clients.py.
TRUSTED_PROXY_COUNT = env_int("TRUSTED_PROXY_COUNT", 0)
if TRUSTED_PROXY_COUNT < 0:
    raise ImproperlyConfigured("TRUSTED_PROXY_COUNT must be 0 or more")

# Log-in throttle (django-axes, counted in the database under a row lock): after
# AXES_FAILURE_LIMIT failures for one (normalised username, client address) pair, that pair
# is refused, its password unchecked, until AXES_COOLOFF_TIME after its last counted failure.
# Other addresses can still log in to the account.
AXES_FAILURE_LIMIT = 5
AXES_COOLOFF_TIME = dt.timedelta(minutes=15)
AXES_LOCKOUT_PARAMETERS = [["username", "ip_address"]]
AXES_USERNAME_CALLABLE = "forecasts.auth_forms.login_username"
AXES_CLIENT_IP_CALLABLE = "crux.clients.client_address"
AXES_LOCKOUT_CALLABLE = "forecasts.auth_forms.lockout_response"
AXES_RESET_ON_SUCCESS = True
# Attempts refused during a lock-out are not recorded: the lock-out does not grow longer, and
# an attacker hammering a locked pair does not grow its row.
AXES_RESET_COOL_OFF_ON_FAILURE_DURING_LOCKOUT = False
# Crux keeps no log of successful log-ins.
AXES_DISABLE_ACCESS_LOG = True
AXES_VERBOSE = False

LANGUAGE_CODE = "en-gb"
TIME_ZONE = env_str("TIME_ZONE", "UTC")
USE_I18N = True
USE_TZ = True

STATIC_URL = "static/"
STATIC_ROOT = Path(env_str("STATIC_ROOT", str(VAR_DIR / "static")))
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {
        "BACKEND": (
            "django.contrib.staticfiles.storage.StaticFilesStorage"
            if DEBUG
            else "whitenoise.storage.CompressedManifestStaticFilesStorage"
        )
    },
}
WHITENOISE_USE_FINDERS = DEBUG

# Cache: Redis when REDIS_URL is set, otherwise a per-process memory cache.
REDIS_URL = env_str("REDIS_URL")
if REDIS_URL:
    CACHES = {
        "default": {
            # django-redis with IGNORE_EXCEPTIONS: a Redis outage degrades every cache
            # operation to a miss or a no-op (and API throttling to open) instead of failing
            # requests: the database, not the cache, is the source of truth.
            "BACKEND": "crux.cache.CountingRedisCache",
            "LOCATION": REDIS_URL,
            "OPTIONS": {
                "IGNORE_EXCEPTIONS": True,
                "SOCKET_CONNECT_TIMEOUT": 0.5,
                "SOCKET_TIMEOUT": 0.5,
            },
        }
    }
    DJANGO_REDIS_LOG_IGNORED_EXCEPTIONS = True
else:
    CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}

# Celery: Redis when REDIS_URL is set, otherwise kombu's filesystem transport under var/.
CELERY_BROKER_DIR = VAR_DIR / "broker"
if REDIS_URL:
    CELERY_BROKER_URL = REDIS_URL
    CELERY_BROKER_TRANSPORT_OPTIONS: dict[str, object] = {
        # Longer than the longest task, so an unacknowledged task is not redelivered early.
        "visibility_timeout": env_int("CELERY_VISIBILITY_TIMEOUT", 3600),
    }
else:
    CELERY_BROKER_URL = "filesystem://"
    CELERY_BROKER_TRANSPORT_OPTIONS = {
        "data_folder_in": str(CELERY_BROKER_DIR / "queue"),
        "data_folder_out": str(CELERY_BROKER_DIR / "queue"),
        "processed_folder": str(CELERY_BROKER_DIR / "processed"),
        "control_folder": str(CELERY_BROKER_DIR / "control"),
        "store_processed": False,
    }
CELERY_TASK_ALWAYS_EAGER = env_bool("CELERY_TASK_ALWAYS_EAGER", False)
# Work is acknowledged only when done, and requeued if the worker dies while doing it.
CELERY_TASK_ACKS_LATE = True
CELERY_TASK_REJECT_ON_WORKER_LOST = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_TASK_SOFT_TIME_LIMIT = env_int("CELERY_TASK_SOFT_TIME_LIMIT", 300)
CELERY_TASK_TIME_LIMIT = env_int("CELERY_TASK_TIME_LIMIT", 360)
CELERY_TASK_IGNORE_RESULT = True
# A web request that enqueues on commit must not hang on a broker outage; the sweep catches up.
CELERY_BROKER_CONNECTION_TIMEOUT = 2
CELERY_BROKER_CONNECTION_RETRY_ON_STARTUP = True
CELERY_TASK_PUBLISH_RETRY_POLICY = {
    "max_retries": 2,
    "interval_start": 0,
    "interval_step": 0.2,
    "interval_max": 0.5,
}
CELERY_TIMEZONE = "UTC"
# The modules whose tasks the worker runs (each task lives beside the service it calls).
CELERY_IMPORTS = ("forecasts.lifecycle", "forecasts.discussion.notices")
CELERY_BEAT_SCHEDULE_FILENAME = str(VAR_DIR / "celerybeat-schedule")
# Each entry is keyed by its task's one name.
CELERY_BEAT_SCHEDULE = {
    "forecasts.lifecycle_sweep_task": {
        "task": "forecasts.lifecycle_sweep_task",
        "schedule": float(env_int("LIFECYCLE_SWEEP_SECONDS", 60)),
    },
}

REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": [
        "forecasts.api.auth.TokenAuthentication",
        "rest_framework.authentication.SessionAuthentication",
    ],
    "DEFAULT_PERMISSION_CLASSES": ["rest_framework.permissions.IsAuthenticatedOrReadOnly"],
    "DEFAULT_RENDERER_CLASSES": [
        "rest_framework.renderers.JSONRenderer",
        "rest_framework.renderers.BrowsableAPIRenderer",
    ],
    "DEFAULT_PARSER_CLASSES": ["crux.api.parsers.JSONParser"],
    "DEFAULT_PAGINATION_CLASS": "crux.api.pagination.Pagination",
    "DEFAULT_THROTTLE_CLASSES": [
        "crux.api.throttling.AnonIpThrottle",
        "crux.api.throttling.TokenRateThrottle",
    ],
    "DEFAULT_THROTTLE_RATES": {
        "anon": env_str("API_THROTTLE_ANON", "120/min"),
        "token": env_str("API_THROTTLE_TOKEN", "600/min"),
    },
    "EXCEPTION_HANDLER": "crux.api.errors.exception_handler",
    "DEFAULT_SCHEMA_CLASS": "crux.api.schema.CruxAutoSchema",
    "DATETIME_FORMAT": "iso-8601",
    "UNAUTHENTICATED_USER": "django.contrib.auth.models.AnonymousUser",
}
SPECTACULAR_SETTINGS = {
    "TITLE": "Crux API",
    "DESCRIPTION": (
        "Forecasting questions, forecasts, scores, leaderboards and calibration. "
        "Authenticate with a personal token: `Authorization: Bearer <token>`."
    ),
    "VERSION": "1.0.0",
    "SERVE_INCLUDE_SCHEMA": False,
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
    "COMPONENT_SPLIT_REQUEST": True,
    "ENUM_NAME_OVERRIDES": {
        "ResolutionEnum": "forecasts.models.Resolution",
        "ScoreTypeEnum": "forecasts.models.ScoreType",
    },
}
# The largest request body the API accepts (bytes); larger ones get 413.
DATA_UPLOAD_MAX_MEMORY_SIZE = env_int("DATA_UPLOAD_MAX_MEMORY_SIZE", 256 * 1024)

# Play money: what a new market account starts with.
MARKET_STARTING_GRANT = env_int("MARKET_STARTING_GRANT", 1000)
# The liquidity b of the market opened beside each imported question (its maker can lose at
# most b ln 2); a question file can set its own with market_liquidity (0: no market).
MARKET_DEFAULT_LIQUIDITY = env_int("MARKET_DEFAULT_LIQUIDITY", 100)

# Forecasts are private until their question is scored: until then the public sees the crowd
# only at moments when at least this many forecasts stood (see forecasts/selectors.py). Below
# 3 the median of two, less one's own forecast, would give the other's away.
CROWD_MIN_FORECASTERS = env_int("CROWD_MIN_FORECASTERS", 5)
if CROWD_MIN_FORECASTERS < 3:
    raise ImproperlyConfigured(
        f"CROWD_MIN_FORECASTERS must be at least 3, got {CROWD_MIN_FORECASTERS}"
    )


def _served_at() -> str:
    """Where `make run` serves (HOST and WEB_PORT, which it hands every process): a wildcard
    address is no place to send a browser, so it is read as this machine."""
    host = env_str("HOST") or "127.0.0.1"
    if host in {"0.0.0.0", "::", "[::]"}:  # noqa: S104 - read, not bound
        host = "127.0.0.1"
    elif ":" in host and not host.startswith("["):
        host = f"[{host}]"
    return f"http://{host}:{env_int('WEB_PORT', 8000)}"


# Links in e-mails (sent by the worker) start here; set it wherever others reach the site.
SITE_URL = (env_str("SITE_URL") or _served_at()).rstrip("/")
EMAIL_BACKEND = env_str("EMAIL_BACKEND", "django.core.mail.backends.console.EmailBackend")
DEFAULT_FROM_EMAIL = env_str("DEFAULT_FROM_EMAIL", "crux@localhost")
# A mail server that stops answering fails the send (retried later) instead of hanging a worker.
EMAIL_TIMEOUT = env_int("EMAIL_TIMEOUT", 30)

# Security: secure by default when DEBUG is off; each can be relaxed explicitly by env.
SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
# Health checks come from inside the container or host, over plain HTTP.
SECURE_REDIRECT_EXEMPT = [r"^health/$"]
SECURE_SSL_REDIRECT = env_bool("SECURE_SSL_REDIRECT", not DEBUG)
SESSION_COOKIE_SECURE = env_bool("SESSION_COOKIE_SECURE", not DEBUG)
CSRF_COOKIE_SECURE = env_bool("CSRF_COOKIE_SECURE", not DEBUG)
SECURE_HSTS_SECONDS = env_int("SECURE_HSTS_SECONDS", 0 if DEBUG else 31536000)
SECURE_HSTS_INCLUDE_SUBDOMAINS = not DEBUG
SECURE_HSTS_PRELOAD = env_bool("SECURE_HSTS_PRELOAD", not DEBUG)
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
X_FRAME_OPTIONS = "DENY"
# Content-Security-Policy (django-csp): scripts, styles, images and fonts come from this site
# only, never inline, so injected markup cannot run; no site may frame a page, and forms post
# here only. SVGs, DRF's browsable API and the API docs widen it for themselves, never for
# scripts (crux/content_security.py, crux/api/docs.py).
CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": ["'self'"],
        "script-src": ["'self'"],
        "style-src": ["'self'"],
        "img-src": ["'self'"],
        "font-src": ["'self'"],
        "connect-src": ["'self'"],
        "object-src": ["'none'"],
        "base-uri": ["'self'"],
        "form-action": ["'self'"],
        "frame-ancestors": ["'none'"],
    }
}
SESSION_COOKIE_HTTPONLY = True

LOG_FORMAT = env_str("LOG_FORMAT", "text")
if LOG_FORMAT not in {"text", "json"}:
    raise ImproperlyConfigured(f"LOG_FORMAT must be 'text' or 'json', got {LOG_FORMAT!r}")
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {"json": {"()": "config.logs.JsonFormatter"}},
    "handlers": {
        "console": {
            "class": "logging.StreamHandler",
            **({"formatter": "json"} if LOG_FORMAT == "json" else {}),
        }
    },
    "root": {"handlers": ["console"], "level": env_str("LOG_LEVEL", "INFO")},
    "loggers": {
        # Django's own loggers write through the same handler, once.
        "django": {
            "handlers": ["console"],
            "level": env_str("LOG_LEVEL", "INFO"),
            "propagate": False,
        },
        "django.db.backends": {"level": "INFO"},
    },
}

ADMIN_URL = env_str("ADMIN_URL", "admin/")
if not ADMIN_URL.endswith("/") or ADMIN_URL.startswith("/"):
    raise ImproperlyConfigured("ADMIN_URL must be a relative path ending in '/', e.g. 'admin/'")
