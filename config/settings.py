"""Settings for the Event Management API, read from the environment.

Two ways to run, one code base: with nothing set, the service runs on a SQLite file
in the checkout with in-process caches (the embedded default); with DATABASE_URL and
REDIS_URL it runs on PostgreSQL and Redis (production-like).
"""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import environ
from django.core.exceptions import ImproperlyConfigured

BASE_DIR = Path(__file__).resolve().parent.parent

env = environ.Env()

DEBUG = env.bool("DJANGO_DEBUG", default=False)
SECRET_KEY = env.str("DJANGO_SECRET_KEY", default="")
if not SECRET_KEY:
    if not DEBUG:
        raise ImproperlyConfigured(
            "DJANGO_SECRET_KEY is not set. Set it to a long random string, "
            "or set DJANGO_DEBUG=1 for a development server."
        )
    SECRET_KEY = "insecure-development-key-only-used-with-DJANGO_DEBUG"

ALLOWED_HOSTS = env.list("DJANGO_ALLOWED_HOSTS", default=["127.0.0.1", "localhost"])

INSTALLED_APPS = [
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.staticfiles",
    "rest_framework",
    "rest_framework_simplejwt.token_blacklist",
    "django_filters",
    "drf_spectacular",
    "drf_spectacular_sidecar",
    "api",
]

MIDDLEWARE = [
    "api.rest.middleware.RequestHeadLimitsMiddleware",
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "api.rest.middleware.RejectNulInQueryStringMiddleware",
    # The API authenticates with bearer tokens (DRF views are CSRF-exempt); these guard
    # the few HTML pages (/api/docs/) and keep `check --deploy` meaningful.
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
]

# Cross-origin browser calls (CORS, django-cors-headers): off unless origins are listed,
# e.g. CORS_ALLOWED_ORIGINS=https://app.example.org. Tokens travel in the Authorization
# header, never in cookies, so credentials are not allowed; preflights are answered by
# the middleware before any view, without credentials.
CORS_ALLOWED_ORIGINS = env.list("CORS_ALLOWED_ORIGINS", default=[])
if CORS_ALLOWED_ORIGINS:
    INSTALLED_APPS.append("corsheaders")
    MIDDLEWARE.insert(1, "corsheaders.middleware.CorsMiddleware")
CORS_URLS_REGEX = r"^/api/.*$"
CORS_ALLOW_CREDENTIALS = False
# Response headers a browser app may read beyond the CORS-safelisted ones.
CORS_EXPOSE_HEADERS = ["Retry-After", "WWW-Authenticate", "Allow", "Location"]
CORS_PREFLIGHT_MAX_AGE = env.int("CORS_PREFLIGHT_MAX_AGE", default=3600)

# Production transport security, on by default whenever DEBUG is off. Behind a TLS
# proxy, set DJANGO_SECURE_PROXY_SSL_HEADER=1 so Django sees requests as HTTPS; where
# the proxy already redirects plain HTTP, DJANGO_SECURE_SSL_REDIRECT=0 may turn ours off.
SECURE_SSL_REDIRECT = env.bool("DJANGO_SECURE_SSL_REDIRECT", default=not DEBUG)
SECURE_HSTS_SECONDS = env.int("DJANGO_HSTS_SECONDS", default=0 if DEBUG else 31_536_000)
SECURE_HSTS_INCLUDE_SUBDOMAINS = env.bool("DJANGO_HSTS_INCLUDE_SUBDOMAINS", default=True)
SECURE_HSTS_PRELOAD = env.bool("DJANGO_HSTS_PRELOAD", default=True)
if env.bool("DJANGO_SECURE_PROXY_SSL_HEADER", default=False):
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
SESSION_COOKIE_SECURE = not DEBUG
CSRF_COOKIE_SECURE = not DEBUG
X_FRAME_OPTIONS = "DENY"
CSRF_FAILURE_VIEW = "api.rest.problems.csrf_failure_view"

ROOT_URLCONF = "config.urls"
WSGI_APPLICATION = "config.wsgi.application"
ASGI_APPLICATION = "config.asgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [],
        "APP_DIRS": True,
        "OPTIONS": {"context_processors": ["django.template.context_processors.request"]},
    }
]

# Threads per server process that run HTTP requests (config/asgi.py); at most this many
# requests of one process are in Django at once.
HTTP_THREADS = env.int("HTTP_THREADS", default=10)

DATABASES = {
    "default": env.db_url_config(
        env.str("DATABASE_URL", default="") or f"sqlite:///{BASE_DIR / 'db.sqlite3'}"
    ),
}
DATABASES["default"]["CONN_HEALTH_CHECKS"] = env.bool("DATABASE_HEALTH_CHECKS", default=True)
if DATABASES["default"]["ENGINE"] == "django.db.backends.postgresql":
    # A statement that runs longer is cancelled and answered 503, rather than holding a
    # worker (and its locks) indefinitely.
    timeout_ms = env.int("DATABASE_STATEMENT_TIMEOUT_MS", default=10_000)
    DATABASES["default"].setdefault("OPTIONS", {})["options"] = f"-c statement_timeout={timeout_ms}"
    DATABASES["default"]["OPTIONS"]["connect_timeout"] = env.int(
        "DATABASE_CONNECT_TIMEOUT", default=5
    )
    # A pool of connections per server process, shared by its HTTP_THREADS: a request
    # borrows one and gives it back when it ends, instead of connecting (about 10 ms here)
    # or keeping one per thread. A request that finds none free within the timeout (or
    # no database) is answered 503. The health check (DATABASE_HEALTH_CHECKS) costs a
    # round trip per request and spares requests the connections a database restart
    # left dead in the pool.
    if env.bool("DATABASE_POOL", default=True):
        if DATABASES["default"].get("CONN_MAX_AGE"):
            raise ImproperlyConfigured(
                "DATABASE_URL sets conn_max_age, which Django's connection pool does not "
                "support: remove it, or set DATABASE_POOL=0 to use persistent connections."
            )
        DATABASES["default"]["OPTIONS"]["pool"] = {
            "min_size": env.int("DATABASE_POOL_MIN_SIZE", default=2),
            "max_size": env.int("DATABASE_POOL_MAX_SIZE", default=HTTP_THREADS + 10),
            "timeout": env.float("DATABASE_POOL_TIMEOUT", default=5.0),
        }
    # Parameters bound by the server, so that psycopg can prepare the statements a
    # connection runs often and PostgreSQL parses them once, and plans them once when a
    # generic plan costs no more than the plans for the values seen (plan_cache_mode
    # auto). Forcing a plan per execution cost the detail a sixth of its throughput
    # (bench/). Behind a pooler that cannot keep prepared statements (PgBouncer in
    # transaction mode without max_prepared_statements), set
    # DATABASE_PREPARED_STATEMENTS=0.
    if env.bool("DATABASE_PREPARED_STATEMENTS", default=True):
        DATABASES["default"]["OPTIONS"]["server_side_binding"] = True
        DATABASES["default"]["OPTIONS"]["prepare_threshold"] = 5
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    # IMMEDIATE takes the write lock when a transaction starts, so two processes doing
    # read-then-write wait for each other (busy timeout) instead of failing at once
    # with "database is locked".
    DATABASES["default"]["OPTIONS"] = {"transaction_mode": "IMMEDIATE", "timeout": 20}
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"
AUTH_USER_MODEL = "api.User"

REDIS_URL = env.str("REDIS_URL", default="")
if REDIS_URL:
    CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.redis.RedisCache",
            "LOCATION": REDIS_URL,
            "KEY_PREFIX": env.str("CACHE_KEY_PREFIX", default="events"),
        }
    }
else:
    # Without Redis the cache lives in the database (api.models.CacheEntry), which every
    # server process on the same database shares, so the login and sign-up limits hold
    # across processes. EMBEDDED_CACHE=memory keeps it in the process instead: for the
    # test suite's one process, where every test starts with an empty cache.
    if env.str("EMBEDDED_CACHE", default="database") == "memory":
        CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}
    else:
        CACHES = {
            "default": {
                "BACKEND": "django.core.cache.backends.db.DatabaseCache",
                "LOCATION": "api_cache",
            }
        }

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
    {"NAME": "api.validators.NotOnlyWhitespaceValidator"},
]

LANGUAGE_CODE = "en-us"
TIME_ZONE = "UTC"
USE_I18N = False
USE_TZ = True

STATIC_URL = "static/"
# The offline docs' assets (drf-spectacular-sidecar) are served by the app itself, from
# the installed packages, so a deployment needs no collectstatic step and no CDN.
WHITENOISE_USE_FINDERS = True

# Request bodies above this size are refused with 413 (see api.rest.problems).
DATA_UPLOAD_MAX_MEMORY_SIZE = env.int("DATA_UPLOAD_MAX_MEMORY_SIZE", default=256 * 1024)

REST_FRAMEWORK = {
    # JWTAuthentication first: DRF answers 401 (not 403) only when the first
    # authentication class names a WWW-Authenticate challenge.
    "DEFAULT_AUTHENTICATION_CLASSES": [
        "api.rest.authentication.BearerAuthentication",
    ],
    "DEFAULT_PERMISSION_CLASSES": ["rest_framework.permissions.IsAuthenticated"],
    "DEFAULT_RENDERER_CLASSES": ["rest_framework.renderers.JSONRenderer"],
    "DEFAULT_PARSER_CLASSES": ["api.rest.parsers.SafeJSONParser"],
    "DEFAULT_CONTENT_NEGOTIATION_CLASS": "api.rest.negotiation.JSONOnlyContentNegotiation",
    "DEFAULT_FILTER_BACKENDS": ["django_filters.rest_framework.DjangoFilterBackend"],
    "DEFAULT_PAGINATION_CLASS": "api.rest.pagination.PageNumberPagination",
    "DEFAULT_SCHEMA_CLASS": "api.rest.openapi.AutoSchema",
    "EXCEPTION_HANDLER": "api.rest.problems.problem_exception_handler",
    "DEFAULT_THROTTLE_RATES": {
        "login_username": env.str("LOGIN_THROTTLE_USERNAME_RATE", default="10/min"),
        "login_address": env.str("LOGIN_THROTTLE_ADDRESS_RATE", default="30/min"),
        "login_account": env.str("LOGIN_THROTTLE_ACCOUNT_RATE", default="100/hour"),
        "sign_up": env.str("REGISTRATION_THROTTLE_RATE", default="20/hour"),
        "password_reset": env.str("PASSWORD_RESET_THROTTLE_RATE", default="10/hour"),
    },
    "NUM_PROXIES": env.int("NUM_PROXIES", default=0),
    "UNAUTHENTICATED_USER": None,
    "TEST_REQUEST_DEFAULT_FORMAT": "json",
}

# Mail (password reset): printed to the console with DJANGO_DEBUG (make run), sent over
# SMTP otherwise (EMAIL_URL, e.g. smtp+tls://user:password@mail.example.org:587); the
# test suite keeps it in memory.
if DEBUG and not env.str("EMAIL_URL", default=""):
    EMAIL_BACKEND = "django.core.mail.backends.console.EmailBackend"
else:
    vars().update(env.email_url("EMAIL_URL", default="smtp://localhost:25"))
EMAIL_TIMEOUT = env.int("EMAIL_TIMEOUT", default=10)
DEFAULT_FROM_EMAIL = env.str("DEFAULT_FROM_EMAIL", default="events@localhost")
# A reset token works once, for this many seconds.
PASSWORD_RESET_TIMEOUT = env.int("PASSWORD_RESET_TIMEOUT", default=3600)
# Where the mail points, e.g. https://app.example.org/reset?token={token}; unset: the
# mail carries the token alone.
PASSWORD_RESET_URL = env.str("PASSWORD_RESET_URL", default="")

# How many events one user may create in a rolling window; enforced in the database
# (api.services.event_create) so it holds across processes and restarts.
EVENT_CREATION_LIMIT = env.int("EVENT_CREATION_LIMIT", default=5)
EVENT_CREATION_WINDOW = timedelta(hours=env.int("EVENT_CREATION_WINDOW_HOURS", default=24))

JWT_SIGNING_KEY_SET = bool(env.str("JWT_SIGNING_KEY", default=""))
SIMPLE_JWT = {
    "ACCESS_TOKEN_LIFETIME": timedelta(minutes=env.int("JWT_ACCESS_MINUTES", default=10)),
    "REFRESH_TOKEN_LIFETIME": timedelta(days=env.int("JWT_REFRESH_DAYS", default=7)),
    "ROTATE_REFRESH_TOKENS": True,
    "BLACKLIST_AFTER_ROTATION": True,
    "UPDATE_LAST_LOGIN": False,
    # At least 32 bytes with DEBUG off (the deploy check api.E001).
    "SIGNING_KEY": env.str("JWT_SIGNING_KEY", default="") or SECRET_KEY,
    "AUTH_HEADER_TYPES": ("Bearer",),
}

SPECTACULAR_SETTINGS = {
    "TITLE": "Event Management API",
    "DESCRIPTION": (
        "Host events, register for them, invite each other, wait for a seat and leave "
        "feedback.\n\n"
        "Errors are RFC 9457 problem details (`application/problem+json`) with a stable, "
        "machine-readable `code`; each response lists the codes it can carry. Validation "
        "errors (400 `invalid`, `unknown_parameter`, `repeated_parameter`) list each failing "
        "field or parameter in `errors`; a body that is not JSON (400 `parse_error`) has no "
        "`errors`. When several rules fail at once, the first of 401, 404, 403, 429, 400, "
        "409 answers.\n\n"
        "Query strings are strict: a parameter an operation does not list is a 400 "
        "`unknown_parameter`, and one it lists sent twice a 400 `repeated_parameter` "
        "(`ordering`, an array, may be repeated).\n\n"
        "Any operation, beyond the responses it lists:\n\n"
        "- a method the path does not list: 405 `method_not_allowed`, with `Allow`;\n"
        "- a request target (path and query) over 8,192 bytes: 414 `uri_too_long`; request "
        "headers over 32,768 bytes in all: 431 `request_header_fields_too_large`. Both are "
        "problem details; a server in front may refuse still longer ones itself, in its own "
        "format (the README lists them per server).\n\n"
        "HEAD is answered wherever GET is. Cross-origin browser calls (CORS) are refused "
        "unless the deployment lists the calling origin (`CORS_ALLOWED_ORIGINS`); a "
        "preflight `OPTIONS` request is then answered 200 without credentials.\n\n"
        "Datetimes are ISO 8601; a datetime without an offset is interpreted in UTC."
    ),
    # Semantic versioning; CHANGELOG.md says what changed, and `nox -s spec_compat` fails
    # a breaking change unless the major version (the minor one while 0.x) is raised.
    "VERSION": "0.5.0",
    "LICENSE": {"name": "MIT", "url": "https://opensource.org/licenses/MIT"},
    "CONTACT": {"name": "Event Management API maintainers"},
    # Relative, so Swagger UI and clients reading /api/schema/ call the host serving it.
    "SERVERS": [{"url": "/", "description": "The host that serves this document."}],
    # 3.1 for its `webhooks` section: the messages webhooks send are part of the contract.
    "OAS_VERSION": "3.1.0",
    "SERVE_INCLUDE_SCHEMA": False,
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
    "COMPONENT_SPLIT_REQUEST": True,
    "POSTPROCESSING_HOOKS": [
        "drf_spectacular.hooks.postprocess_schema_enums",
        "api.rest.openapi.add_named_enums",
        "api.rest.openapi.add_links",
        "api.rest.openapi.add_page_link_examples",
        "api.rest.openapi.integer_path_ids",
        "api.rest.openapi.require_response_fields",
        "api.rest.openapi.add_field_error_codes",
        "api.rest.openapi.add_head_operations",
        "api.rest.openapi.add_webhooks",
    ],
    "ENUM_NAME_OVERRIDES": {
        "InvitationStatus": "api.models.Invitation.Status",
        "WaitingListEntryStatus": "api.models.WaitingListEntry.Status",
    },
    "TAGS": [
        {"name": "auth", "description": "Accounts and JWT tokens."},
        {"name": "events", "description": "Events, hosted by one user."},
        {"name": "participation", "description": "Registering for events."},
        {"name": "invitations", "description": "Hosts invite users; invitees answer."},
        {
            "name": "waiting list",
            "description": "A queue for full events: freed seats are offered in order and held "
            "for a while.",
        },
        {"name": "feedback", "description": "Ratings left by participants."},
        {"name": "webhooks", "description": "Messages POSTed to your servers as things happen."},
        {"name": "operations", "description": "Health checks for load balancers."},
    ],
}

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "handlers": {"console": {"class": "logging.StreamHandler"}},
    "root": {"handlers": ["console"], "level": env.str("LOG_LEVEL", default="INFO")},
    "loggers": {
        "django": {"handlers": ["console"], "level": "INFO", "propagate": False},
        # `manage.py worker` runs django-tasks-db's loop one batch at a time, and the
        # loop announces each start and end at INFO; its warnings still show.
        "django_tasks_db": {"level": env.str("TASKS_LOG_LEVEL", default="WARNING")},
    },
}

# --- Real-time notifications (Channels, WebSockets; see api/notifications.py) ---------
# Kept together here; config/asgi.py routes WebSockets to api/routing.py.
INSTALLED_APPS += ["channels"]
if REDIS_URL:
    # Redis carries group messages between server processes, so a request served by one
    # process reaches a socket held by another. Pub/sub rather than channels-redis' list
    # layer: notifications are fire-and-forget, and a consumer of the list layer takes up
    # to five seconds to stop, its blocking read outliving the socket.
    CHANNEL_LAYERS = {
        "default": {
            "BACKEND": "channels_redis.pubsub.RedisPubSubChannelLayer",
            "CONFIG": {
                "hosts": [REDIS_URL],
                # Deployments (or test runs) sharing one Redis keep their messages apart.
                "prefix": env.str("CHANNEL_LAYER_PREFIX", default="events"),
            },
        }
    }
else:
    # One process: the embedded default, as for the cache.
    CHANNEL_LAYERS = {"default": {"BACKEND": "channels.layers.InMemoryChannelLayer"}}

# --- Webhooks and background work (api/webhooks/; python manage.py worker) -------------
# Django's tasks API (the django-tasks backport) on the database backend: enqueuing is a
# row written in the request's transaction, so work for a change that rolls back never
# exists, and any number of workers on any number of machines share one queue.
INSTALLED_APPS += ["django_tasks", "django_tasks_db"]
TASKS = {"default": {"BACKEND": "django_tasks_db.DatabaseBackend"}}
# Production refuses receivers on loopback, private, link-local, multicast and reserved
# addresses, and plain http; `make run` and the tests lift both for local receivers.
WEBHOOKS_ALLOW_PRIVATE_NETWORKS = env.bool("WEBHOOKS_ALLOW_PRIVATE_NETWORKS", default=False)
WEBHOOKS_ALLOW_HTTP = env.bool("WEBHOOKS_ALLOW_HTTP", default=False)
# A delivery succeeds with a 2xx within this many seconds (connection, TLS and body).
WEBHOOK_TIMEOUT_SECONDS = env.float("WEBHOOK_TIMEOUT_SECONDS", default=15.0)
# How long a worker owns an attempt; past it, a worker that died is presumed dead and the
# attempt is taken up again. Longer than the timeout, so a slow live attempt keeps it.
WEBHOOK_LEASE_SECONDS = env.float("WEBHOOK_LEASE_SECONDS", default=60.0)
# How often each worker looks for due retries and expired leases.
WEBHOOK_SWEEP_SECONDS = env.float("WEBHOOK_SWEEP_SECONDS", default=5.0)
WEBHOOK_LOG_RETENTION_DAYS = env.int("WEBHOOK_LOG_RETENTION_DAYS", default=30)
# How often each worker expires lapsed waiting-list offers and passes their seats on
# (api.waiting_list.expire_offers). Counts never wait for it: a lapsed offer holds nothing.
WAITING_LIST_EXPIRY_SECONDS = env.float("WAITING_LIST_EXPIRY_SECONDS", default=30.0)
