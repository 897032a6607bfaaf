"""One env-driven settings module (docs/api.md lists the variables).

With nothing set, the portal runs on embedded defaults: SQLite under ``var/`` and
kombu's filesystem transport as the Celery broker, so a fresh machine needs no servers.
"""

from __future__ import annotations

import os
import secrets
from pathlib import Path

import dj_database_url

BASE_DIR = Path(__file__).resolve().parent.parent
VAR_DIR = Path(os.environ.get("VAR_DIR", BASE_DIR / "var"))


def envbool(name: str, default: bool = False) -> bool:
    value = os.environ.get(name)
    if value is None or value == "":
        return default
    return value.strip().lower() in {"1", "true", "yes", "on"}


def envint(name: str, default: int) -> int:
    value = os.environ.get(name)
    return int(value) if value else default


def envlist(name: str, default: list[str]) -> list[str]:
    value = os.environ.get(name)
    if not value:
        return default
    return [item.strip() for item in value.split(",") if item.strip()]


def _secret_key() -> str:
    key = os.environ.get("SECRET_KEY")
    if key:
        return key
    if not DEBUG:
        raise RuntimeError("SECRET_KEY must be set when DEBUG is off (DEBUG=0).")
    # Development only: keep one generated key in var/ so sessions survive restarts.
    VAR_DIR.mkdir(parents=True, exist_ok=True)
    path = VAR_DIR / "secret_key"
    if not path.exists():
        path.write_text(secrets.token_urlsafe(50))
        path.chmod(0o600)
    return path.read_text().strip()


DEBUG = envbool("DEBUG", False)
SECRET_KEY = _secret_key()
ALLOWED_HOSTS = envlist("ALLOWED_HOSTS", ["127.0.0.1", "localhost"] if DEBUG else [])
CSRF_TRUSTED_ORIGINS = envlist("CSRF_TRUSTED_ORIGINS", [])

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "rest_framework",
    "rest_framework.authtoken",
    "django_filters",
    "drf_spectacular",
    "drf_spectacular_sidecar",
    "zhitongche.apps.AxesConfig",  # django-axes, named in Chinese in the admin
    "zhitongche.apps.CaptchaConfig",  # captcha: the public portal's human check, served by the portal (issue 15)
    "django_otp",  # second factor (feedback.security.otp)
    "zhitongche.apps.OtpTotpConfig",  # django_otp.plugins.otp_totp, named in Chinese in the admin
    "zhitongche.apps.OtpStaticConfig",  # django_otp.plugins.otp_static, likewise
    "feedback",
    "channels_net",
    "channels_enterprise",
    "channels_citizen",
]

MIDDLEWARE = [
    # NUL/oversized query parameters → 400 (issue 15). The request id (zhitongche.requestid) is
    # inserted before it, below, with the proxy and metrics middleware.
    "zhitongche.middleware.BadParameterMiddleware",
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.locale.LocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "zhitongche.middleware.SessionTimeoutMiddleware",  # idle 30 min, absolute 12 h
    "django_otp.middleware.OTPMiddleware",
    "feedback.security.otp.OtpRequiredMiddleware",  # TOTP for the roles in OTP_REQUIRED_ROLES
    "feedback.security.audit_middleware.AuditDownloadsMiddleware",  # downloads and exports into the audit
    "feedback.security.masking.PiiMaskingMiddleware",  # ID/phone numbers in free text, for roles without need
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "csp.middleware.CSPMiddleware",
    # Axes must be last: it inspects the outcome of authentication.
    "axes.middleware.AxesMiddleware",
]

ROOT_URLCONF = "zhitongche.urls"
WSGI_APPLICATION = "zhitongche.wsgi.application"

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
                "feedback.context_processors.portal",
            ],
        },
    },
]

DATABASES = {
    "default": dj_database_url.parse(
        os.environ.get("DATABASE_URL") or f"sqlite:///{VAR_DIR / 'zhitongche.sqlite3'}",
        conn_max_age=envint("CONN_MAX_AGE", 60),
    )
}
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    # SQLite is the embedded default for one person trying the portal; a busy
    # timeout keeps the web server, worker and scheduler from tripping over locks.
    DATABASES["default"]["OPTIONS"] = {"timeout": 20, "transaction_mode": "IMMEDIATE"}
    DATABASES["default"]["CONN_MAX_AGE"] = 0
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

AUTHENTICATION_BACKENDS = [
    "axes.backends.AxesStandaloneBackend",
    # ModelBackend plus: the demo password refused when DEBUG is off on every login path (portal, admin,
    # API), and a per-IP throttle across usernames (feedback.security.auth; issue 15).
    "feedback.security.auth.PortalBackend",
]
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator", "OPTIONS": {"min_length": 10}},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
    {"NAME": "feedback.security.validators.ForbiddenWordsValidator"},
]
LOGIN_URL = "login"
LOGIN_REDIRECT_URL = "home"
LOGOUT_REDIRECT_URL = "login"

LANGUAGE_CODE = "zh-hans"
# Chinese for libraries that ship none (django-axes's lockout records in the admin).
LOCALE_PATHS = [BASE_DIR / "locale"]
LANGUAGES = [("zh-hans", "简体中文")]
TIME_ZONE = "Asia/Shanghai"
USE_I18N = True
USE_TZ = True
# Django's form renderer, with a <select>'s options written in Python: the same text, a fraction of the
# time (zhitongche/form_renderer.py).
FORM_RENDERER = "zhitongche.form_renderer.FormRenderer"

STATIC_URL = "/static/"
STATIC_ROOT = VAR_DIR / "static"
STATICFILES_DIRS = [BASE_DIR / "static"]
STATICFILES_FINDERS = [
    "django.contrib.staticfiles.finders.FileSystemFinder",
    "django.contrib.staticfiles.finders.AppDirectoriesFinder",
    # Apache ECharts' built file from node_modules/ (npm ci in bin/_venv.sh; docs/decisions/0005).
    "feedback.assets.NodeModulesFinder",
]
STATIC_ROOT.mkdir(parents=True, exist_ok=True)  # whitenoise warns on every request when it is missing
WHITENOISE_USE_FINDERS = DEBUG
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {
        "BACKEND": "whitenoise.storage.CompressedStaticFilesStorage"
        if not DEBUG
        else "django.contrib.staticfiles.storage.StaticFilesStorage"
    },
}
# Uploaded replies live outside the web root and are only served through a
# permission-checked view (feedback.views.download_reply); there is no MEDIA_URL route.
MEDIA_ROOT = Path(os.environ.get("MEDIA_ROOT") or VAR_DIR / "media")
MEDIA_URL = "/media-not-served/"
FILE_UPLOAD_PERMISSIONS = 0o640
FILE_UPLOAD_MAX_MEMORY_SIZE = 2_621_440
DATA_UPLOAD_MAX_NUMBER_FILES = 10
# Roles asked for a TOTP code after the password (feedback.security.otp; issue 15). Keys: admin, leader,
# office, department_head, department. With DEBUG on the demo accounts are not asked.
OTP_REQUIRED_ROLES = envlist("OTP_REQUIRED_ROLES", ["admin", "leader", "office", "department_head"])
OTP_TOTP_ISSUER = "直通车"
# Roles that see ID and phone numbers typed into free text; everyone else sees them masked (issue 15).
PII_UNMASKED_ROLES = envlist("PII_UNMASKED_ROLES", ["office", "admin"])
# The audit chain's hash (feedback.security.events): sha256, or sm3 if the cryptography assessment asks.
AUDIT_HASH_ALGORITHM = os.environ.get("AUDIT_HASH_ALGORITHM", "sha256")
# Optional ClamAV scan of every upload (feedback.documents.virus_scan): "host:port" or a socket path.
CLAMD_ADDRESS = os.environ.get("CLAMD_ADDRESS", "")
CLAMD_FAIL_CLOSED = envbool("CLAMD_FAIL_CLOSED", True)

# Security headers: safe in development, strict in production.
SESSION_COOKIE_HTTPONLY = True
# Django's database sessions; the row is read by a statement compiled once per process (decision 0810).
SESSION_ENGINE = "feedback.security.sessions"
# Sessions end after 30 minutes idle or 12 hours after login (zhitongche.middleware.SessionTimeoutMiddleware;
# 等保 2.0 8.1.4.1 d: 登录连接超时自动退出). The cookie itself never outlives the absolute limit.
SESSION_IDLE_SECONDS = envint("SESSION_IDLE_SECONDS", 30 * 60)
SESSION_ABSOLUTE_SECONDS = envint("SESSION_ABSOLUTE_SECONDS", 12 * 3600)
SESSION_COOKIE_AGE = SESSION_ABSOLUTE_SECONDS
# The dashboard's hot topics (热点诉求) are kept this long per scope, filters and period (decision 0700):
# clustering the period's texts is most of the page's work. 0: computed on every load.
HOT_TOPICS_CACHE_SECONDS = envint("HOT_TOPICS_CACHE_SECONDS", 300)
# The statistics' figures (rollup.issue_figures / department_figures) of a window with no live key are kept
# this long under the state of their inputs, which every write that can move them changes (decision 0770).
# 0: computed on every request.
STATS_CACHE_SECONDS = envint("STATS_CACHE_SECONDS", 3600)
# The worker computes them again before they expire (every 0.8 × the above) for the default period and
# the period buttons of every scope and filters someone looked at within this many seconds (decision 0760).
HOT_TOPICS_WATCH_SECONDS = envint("HOT_TOPICS_WATCH_SECONDS", 8 * 3600)
X_FRAME_OPTIONS = "DENY"
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
SECURE_CROSS_ORIGIN_OPENER_POLICY = "same-origin"
if not DEBUG:
    SESSION_COOKIE_SECURE = envbool("SECURE_COOKIES", True)
    CSRF_COOKIE_SECURE = envbool("SECURE_COOKIES", True)
    SECURE_SSL_REDIRECT = envbool("SECURE_SSL_REDIRECT", False)
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
    # HTTPS only for a year, subdomains included (docs/operations.md "Production environment" sets it;
    # 0 leaves HSTS off for an intranet still served over plain HTTP).
    SECURE_HSTS_SECONDS = envint("SECURE_HSTS_SECONDS", 0)
    SECURE_HSTS_INCLUDE_SUBDOMAINS = envbool("SECURE_HSTS_INCLUDE_SUBDOMAINS", True)
    SECURE_HSTS_PRELOAD = envbool("SECURE_HSTS_PRELOAD", False)
    if SESSION_COOKIE_SECURE:
        # __Host-: the browser keeps these cookies only if Secure, path / and no Domain, so no other host
        # of the county's domain can set or overwrite them (session fixation through a sibling site).
        SESSION_COOKIE_NAME = "__Host-sessionid"
        CSRF_COOKIE_NAME = "__Host-csrftoken"

# django-csp 3.x: everything is served by the portal itself (county intranets have no internet).
CSP_DEFAULT_SRC = ("'self'",)
CSP_SCRIPT_SRC = ("'self'",)
CSP_STYLE_SRC = ("'self'",)
CSP_IMG_SRC = ("'self'", "data:")
CSP_OBJECT_SRC = ("'none'",)
CSP_BASE_URI = ("'none'",)
CSP_FRAME_ANCESTORS = ("'none'",)
CSP_FORM_ACTION = ("'self'",)
# The offline visit page (issue 20): its service worker and manifest come from the portal itself.
# Named explicitly rather than left to default-src, so that widening default-src never widens them.
CSP_WORKER_SRC = ("'self'",)
CSP_MANIFEST_SRC = ("'self'",)
# A nonce is added to style-src only on pages whose template reads request.csp_nonce: so far
# the API docs (templates/drf_spectacular/api_docs_swagger.html), for Swagger UI's inline <style>.
CSP_INCLUDE_NONCE_IN = ("style-src",)

# django-simple-captcha: four distorted characters, kept in the database, single-use; 30 minutes to write
# a suggestion before the picture expires (a new one is shown with the form's errors).
CAPTCHA_TIMEOUT = 30
CAPTCHA_LENGTH = 5
CAPTCHA_2X_IMAGE = False
# django-axes: lock a username+IP pair after repeated failures.
AXES_FAILURE_LIMIT = envint("AXES_FAILURE_LIMIT", 5)
AXES_COOLOFF_TIME = 0.25  # hours
AXES_LOCKOUT_PARAMETERS = [["username", "ip_address"]]
AXES_RESET_ON_SUCCESS = True
AXES_LOCKOUT_TEMPLATE = "registration/locked_out.html"
# A locked pair stays locked 15 minutes from the lockout, not from its latest attempt (issue 15).
AXES_RESET_COOL_OFF_ON_FAILURE_DURING_LOCKOUT = False
# Failures from one IP across all usernames before that IP is refused for the cool-off (password spraying).
LOGIN_IP_FAILURE_LIMIT = envint("LOGIN_IP_FAILURE_LIMIT", 30)
AXES_VERBOSE = False  # no "AXES: BEGIN version …" banner on every start (bin/run keeps the console for users)

REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": [
        # Token first: DRF answers a request without credentials with the first class's
        # WWW-Authenticate challenge, so 401 + "WWW-Authenticate: Token" instead of a bare 403.
        "rest_framework.authentication.TokenAuthentication",
        "rest_framework.authentication.SessionAuthentication",
    ],
    "DEFAULT_PERMISSION_CLASSES": ["rest_framework.permissions.IsAuthenticated"],
    "DEFAULT_PAGINATION_CLASS": "rest_framework.pagination.PageNumberPagination",
    "PAGE_SIZE": 50,
    "DEFAULT_FILTER_BACKENDS": [
        "django_filters.rest_framework.DjangoFilterBackend",
        "rest_framework.filters.SearchFilter",
        "rest_framework.filters.OrderingFilter",
    ],
    "DEFAULT_SCHEMA_CLASS": "drf_spectacular.openapi.AutoSchema",
    "EXCEPTION_HANDLER": "feedback.api.errors.exception_handler",
}
SPECTACULAR_SETTINGS = {
    "TITLE": "直通车 API",
    "DESCRIPTION": "政网、政企、政民直通车诉求办理门户 API v1",
    "VERSION": "1.0.0",
    "SERVE_INCLUDE_SCHEMA": False,
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "COMPONENT_SPLIT_REQUEST": True,
    # Several serializers reuse one set of choices; name each set once so the schema stays stable.
    "ENUM_NAME_OVERRIDES": {
        "IssueStatusEnum": "feedback.models.Issue.Status",
        "AssignmentStatusEnum": "feedback.models.Assignment.Status",
        "DepartmentKindEnum": "feedback.models.Department.Kind",
        "RequesterKindEnum": "feedback.models.Requester.Kind",
        "FollowUpSkipEnum": "feedback.models.Issue.FollowUpSkip",
    },
}

# Celery: Redis when REDIS_URL is set, otherwise kombu's filesystem transport under var/.
REDIS_URL = os.environ.get("REDIS_URL", "")
if REDIS_URL:
    CELERY_BROKER_URL = REDIS_URL
    CELERY_BROKER_TRANSPORT_OPTIONS: dict[str, object] = {"visibility_timeout": 3600}
else:
    _broker_dir = VAR_DIR / "broker"
    for _sub in ("in", "processed", "control"):
        (_broker_dir / _sub).mkdir(parents=True, exist_ok=True)
    CELERY_BROKER_URL = "filesystem://"
    CELERY_BROKER_TRANSPORT_OPTIONS = {
        "data_folder_in": str(_broker_dir / "in"),
        "data_folder_out": str(_broker_dir / "in"),
        "processed_folder": str(_broker_dir / "processed"),
        "control_folder": str(_broker_dir / "control"),
        "store_processed": False,
    }
# With Redis, the cache (public portal rate limits) is shared by every web worker; without it,
# each process counts for itself, which is fine for one person trying the portal.
if REDIS_URL:
    CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.redis.RedisCache",
            "LOCATION": REDIS_URL,
            "KEY_PREFIX": "zhitongche",
        }
    }
CELERY_TIMEZONE = TIME_ZONE
CELERY_TASK_DEFAULT_QUEUE = os.environ.get("CELERY_QUEUE", "zhitongche")
CELERY_TASK_ACKS_LATE = True
CELERY_TASK_REJECT_ON_WORKER_LOST = True  # every task is idempotent by construction
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_TASK_TIME_LIMIT = 300
CELERY_TASK_SOFT_TIME_LIMIT = 240
CELERY_TASK_IGNORE_RESULT = True
# Tasks outside an app's tasks.py (autodiscovery finds only those): the security measures' (issue 15).
CELERY_BEAT_SCHEDULE_FILENAME = str(VAR_DIR / "celerybeat-schedule")
CELERY_BROKER_CONNECTION_RETRY_ON_STARTUP = True
# A page must never hang because the broker is down: publishing gives up quickly.
CELERY_TASK_PUBLISH_RETRY_POLICY = {"max_retries": 2, "interval_start": 0, "interval_step": 0.5, "interval_max": 1}

EMAIL_BACKEND = os.environ.get(
    "EMAIL_BACKEND",
    "django.core.mail.backends.console.EmailBackend" if DEBUG else "django.core.mail.backends.smtp.EmailBackend",
)
DEFAULT_FROM_EMAIL = os.environ.get("DEFAULT_FROM_EMAIL", "zhitongche@localhost")
EMAIL_FILE_PATH = os.environ.get("EMAIL_FILE_PATH", str(VAR_DIR / "mail"))
# The portal's address as people reach it, for links in emails.
PORTAL_URL = os.environ.get("PORTAL_URL", "http://127.0.0.1:8000")

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "handlers": {"console": {"class": "logging.StreamHandler"}},
    "root": {"handlers": ["console"], "level": os.environ.get("LOG_LEVEL", "INFO")},
    "loggers": {
        # Start-up notices nobody acts on, printed by every command and process otherwise:
        # "pikepdf C++ to Python logger bridge initialized", and kombu's "No hostname was supplied"
        # for the embedded filesystem broker, which has no host by design.
        "pikepdf": {"level": "WARNING"},
        "kombu.connection": {"level": "ERROR"},
    },
}

# --- Operations (deploy/, docs/deployment.md, docs/monitoring.md) -------------------------------
# Behind nginx (deploy/nginx/zhitongche.conf): reply files are handed to nginx with X-Accel-Redirect
# after the permission check, so a gunicorn worker is not held for the whole download. Empty: the
# portal streams the file itself (bin/run, tests, any proxy without X-Accel-Redirect).
X_ACCEL_REDIRECT_PREFIX = os.environ.get("X_ACCEL_REDIRECT_PREFIX", "")
# Addresses of the reverse proxies allowed to say who the client is (X-Real-IP); see zhitongche.proxy.
TRUSTED_PROXIES = envlist("TRUSTED_PROXIES", [])
# Bearer token for /metrics and /status/ as JSON (monitoring systems have no session); empty: loopback only.
METRICS_TOKEN = os.environ.get("METRICS_TOKEN", "")
MIDDLEWARE.insert(0, "zhitongche.requestid.RequestIdMiddleware")
MIDDLEWARE.insert(1, "zhitongche.proxy.TrustedProxyMiddleware")
MIDDLEWARE.insert(2, "zhitongche.metrics.MetricsMiddleware")
TEMPLATES[0]["OPTIONS"]["context_processors"].append("zhitongche.requestid.context")
LOGGING["filters"] = {"request_id": {"()": "zhitongche.requestid.RequestIdFilter"}}
LOGGING["formatters"] = {
    "json": {"()": "zhitongche.logjson.JsonFormatter"},
    "text": {"format": "%(asctime)s %(levelname)s %(name)s [%(request_id)s] %(message)s"},
}
LOGGING["handlers"]["console"].update(
    filters=["request_id"], formatter="json" if os.environ.get("LOG_FORMAT") == "json" else "text"
)
# Outgoing mail (SMTP) for production; the console backend is used in development.
EMAIL_HOST = os.environ.get("EMAIL_HOST", "localhost")
EMAIL_PORT = envint("EMAIL_PORT", 25)
EMAIL_HOST_USER = os.environ.get("EMAIL_HOST_USER", "")
EMAIL_HOST_PASSWORD = os.environ.get("EMAIL_HOST_PASSWORD", "")
EMAIL_USE_TLS = envbool("EMAIL_USE_TLS", False)
EMAIL_USE_SSL = envbool("EMAIL_USE_SSL", False)
# Several web machines (docs/scaling.md): either psycopg's pool in each process (DATABASE_POOL_MAX,
# which needs CONN_MAX_AGE=0), or PgBouncer in transaction mode, where a server-side cursor would
# not survive between transactions (PGBOUNCER_TRANSACTION_MODE=1).
if DATABASES["default"]["ENGINE"] == "django.db.backends.postgresql":
    if envint("DATABASE_POOL_MAX", 0):
        DATABASES["default"]["CONN_MAX_AGE"] = 0
        DATABASES["default"].setdefault("OPTIONS", {})["pool"] = {
            "min_size": envint("DATABASE_POOL_MIN", 2),
            "max_size": envint("DATABASE_POOL_MAX", 0),
            "timeout": 10,
        }
    if envbool("PGBOUNCER_TRANSACTION_MODE", False):
        DATABASES["default"]["DISABLE_SERVER_SIDE_CURSORS"] = True
    elif envbool("DATABASE_PREPARED_STATEMENTS", True):
        # Parameters sent apart from the statement, and a statement run five times on a connection
        # prepared there (psycopg): PostgreSQL parses and plans a page's statements once per connection,
        # and psycopg no longer quotes every parameter into the text (decision 0790). Not behind
        # PgBouncer in transaction mode, where the next transaction may reach another server connection.
        DATABASES["default"].setdefault("OPTIONS", {}).update(
            server_side_binding=True, prepare_threshold=envint("DATABASE_PREPARE_THRESHOLD", 5)
        )
# Query-parameter enums as ASCII, named types for generated clients (docs/api.md "Generating a client").
SPECTACULAR_SETTINGS["POSTPROCESSING_HOOKS"] = [
    "drf_spectacular.hooks.postprocess_schema_enums",
    "zhitongche.schema_hooks.ascii_parameter_enums",
]
# `check --deploy` warnings that the deployment answers elsewhere (deploy/zhitongche.env.example:
# nginx sends HSTS and redirects plain HTTP).
SILENCED_SYSTEM_CHECKS = envlist("SILENCED_SYSTEM_CHECKS", [])
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    # Covering indexes (INCLUDE, migrations 0620–0621) serve PostgreSQL's index-only scans at a million
    # issues; SQLite, the one-person default, builds the same indexes without the extra columns.
    SILENCED_SYSTEM_CHECKS = [*SILENCED_SYSTEM_CHECKS, "models.W040"]
# Reply files on S3-compatible object storage (MinIO, a government cloud's OSS/S3 API) instead of
# MEDIA_ROOT, through django-storages (docs/scaling.md "Object storage"). Private objects; the
# portal still checks every download and streams the file itself. Export files and ledger-import
# previews stay under MEDIA_ROOT.
S3_BUCKET = os.environ.get("S3_BUCKET", "")
if S3_BUCKET:
    STORAGES["default"] = {
        "BACKEND": "storages.backends.s3.S3Storage",
        "OPTIONS": {
            "bucket_name": S3_BUCKET,
            "endpoint_url": os.environ.get("S3_ENDPOINT_URL") or None,
            "access_key": os.environ.get("S3_ACCESS_KEY_ID") or None,
            "secret_key": os.environ.get("S3_SECRET_ACCESS_KEY") or None,
            "region_name": os.environ.get("S3_REGION") or None,
            "location": os.environ.get("S3_PREFIX", "media"),
            "default_acl": "private",
            "file_overwrite": False,
            "addressing_style": os.environ.get("S3_ADDRESSING_STYLE", "path"),  # MinIO and most clouds
            "signature_version": "s3v4",
        },
    }
