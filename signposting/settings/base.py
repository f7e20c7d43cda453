"""Settings shared by every environment.

This is the one module that reads the process environment. The local, test and
production modules only choose defaults and check that production values are present.
"""

import datetime
from pathlib import Path

import django_stubs_ext
import environ
from celery.schedules import crontab
from csp.constants import NONCE, NONE, SELF
from django.core.exceptions import ImproperlyConfigured

# Lets generic annotations such as admin.ModelAdmin[Child] work at run time.
django_stubs_ext.monkeypatch()

BASE_DIR = Path(__file__).resolve().parent.parent.parent
env = environ.Env()
# Where run-time files live (SQLite file, file broker, file cache, beat schedule).
VAR_DIR = Path(env.str("VAR_DIR", default=str(BASE_DIR / "var")))

# --- Values read from the environment -------------------------------------------------
SECRET_KEY: str | None = env.str("SECRET_KEY", default=None)
DEBUG = env.bool("DEBUG", default=False)
ALLOWED_HOSTS: list[str] = env.list("ALLOWED_HOSTS", default=["localhost", "127.0.0.1"])
CSRF_TRUSTED_ORIGINS: list[str] = env.list("CSRF_TRUSTED_ORIGINS", default=[])
DATABASE_URL = env.str("DATABASE_URL", default=f"sqlite:///{VAR_DIR / 'db.sqlite3'}")
REDIS_URL: str | None = env.str("REDIS_URL", default=None)
CELERY_BROKER_URL = env.str("CELERY_BROKER_URL", default=REDIS_URL or "filesystem://")
EMAIL_BACKEND = env.str("EMAIL_BACKEND", default="django.core.mail.backends.console.EmailBackend")
EMAIL_HOST = env.str("EMAIL_HOST", default="localhost")
EMAIL_PORT = env.int("EMAIL_PORT", default=25)
EMAIL_HOST_USER = env.str("EMAIL_HOST_USER", default="")
EMAIL_HOST_PASSWORD = env.str("EMAIL_HOST_PASSWORD", default="")
EMAIL_USE_TLS = env.bool("EMAIL_USE_TLS", default=False)
# Seconds before an SMTP connection or reply is given up (the outbox tries again later).
EMAIL_TIMEOUT = env.int("EMAIL_TIMEOUT", default=30)
DEFAULT_FROM_EMAIL = env.str("DEFAULT_FROM_EMAIL", default="signposting-register@localhost")
LOG_LEVEL = env.str("LOG_LEVEL", default="INFO")
# How many proxies in front of the web servers append to X-Forwarded-For (the load balancer:
# 1). 0 trusts no header and records REMOTE_ADDR, right when clients connect directly.
TRUSTED_PROXY_COUNT = env.int("TRUSTED_PROXY_COUNT", default=0)
STATIC_ROOT = Path(env.str("STATIC_ROOT", default=str(BASE_DIR / "staticfiles")))
# Uploaded files (bulk uploads, feed files) wait here until processed; never served by URL.
MEDIA_ROOT = Path(env.str("MEDIA_ROOT", default=str(VAR_DIR / "media")))
# Register rules. Periods are settings so that policy changes need no code change.
REGISTER_RETENTION_MONTHS_AFTER_PLAN_END = env.int("REGISTER_RETENTION_MONTHS_AFTER_PLAN_END", default=12)
REGISTER_MAXIMUM_AGE_YEARS = env.int("REGISTER_MAXIMUM_AGE_YEARS", default=18)
IMPORT_BATCH_SIZE = env.int("IMPORT_BATCH_SIZE", default=2000)

# --- Register maintenance and the case-management API (issue 4) ---------------------------
# Bulk upload in the browser (registry.intake.services): the largest file accepted, and rows per
# transaction (smaller than IMPORT_BATCH_SIZE so that the progress bar moves).
BULK_UPLOAD_MAX_BYTES = env.int("BULK_UPLOAD_MAX_BYTES", default=50 * 1024 * 1024)
# Every other request body (forms, API JSON) is held in memory: Django's own limit, checked
# from Content-Length by signposting.middleware.RequestSizeLimitMiddleware before reading.
DATA_UPLOAD_MAX_MEMORY_SIZE = env.int("DATA_UPLOAD_MAX_MEMORY_SIZE", default=2_621_440)
# Every file part passes the gate first: only a user signed in with two factors, on a page
# that takes a file, may send one, and only up to that page's limit (signposting.uploads).
FILE_UPLOAD_HANDLERS = [
    "signposting.uploads.SignedInUploadGate",
    "django.core.files.uploadhandler.MemoryFileUploadHandler",
    "django.core.files.uploadhandler.TemporaryFileUploadHandler",
]
BULK_UPLOAD_BATCH_SIZE = env.int("BULK_UPLOAD_BATCH_SIZE", default=500)
# An upload whose worker has written no batch (its heartbeat) for this long is taken over by
# the next delivery or the sweep (registry.intake.tasks.bulk_uploads_stalled_sweep); one
# started this many times without finishing is failed.
BULK_UPLOAD_STALLED_AFTER_SECONDS = env.int("BULK_UPLOAD_STALLED_AFTER_SECONDS", default=600)
BULK_UPLOAD_MAX_DELIVERIES = env.int("BULK_UPLOAD_MAX_DELIVERIES", default=5)
# Case-management API (registry.intake.api): records per batch request, and how long an
# Idempotency-Key's stored answer is replayed.
CMS_BATCH_MAX_RECORDS = env.int("CMS_BATCH_MAX_RECORDS", default=1000)
CMS_IDEMPOTENCY_KEY_HOURS = env.int("CMS_IDEMPOTENCY_KEY_HOURS", default=48)
# How long a case-management system's API token lasts before a new one must be issued.
CMS_TOKEN_DAYS = env.int("CMS_TOKEN_DAYS", default=90)

# --- GRO feeds (issue 5) ---------------------------------------------------------------------
# Files dropped here are picked up by beat (feeds.tasks.feeds_inbox_scan); received files are
# kept in the store until ingested. Web and workers must share both folders.
FEEDS_INBOX_DIR = Path(env.str("FEEDS_INBOX_DIR", default=str(VAR_DIR / "feeds" / "inbox")))
FEEDS_STORE_DIR = Path(env.str("FEEDS_STORE_DIR", default=str(VAR_DIR / "feeds" / "store")))
FEEDS_MAX_FILE_BYTES = env.int("FEEDS_MAX_FILE_BYTES", default=1024 * 1024 * 1024)
FEEDS_CHUNK_SIZE = env.int("FEEDS_CHUNK_SIZE", default=2000)
# Reading a (gzip) file stops, and the file fails with the reason, past this many bytes
# decompressed or at a line longer than this (a GRO record is well under 1 KB): a
# decompression bomb or a file without line breaks never grows the worker (docs/feeds.md).
FEEDS_MAX_DECOMPRESSED_BYTES = env.int("FEEDS_MAX_DECOMPRESSED_BYTES", default=4 * 1024 * 1024 * 1024)
FEEDS_MAX_LINE_BYTES = env.int("FEEDS_MAX_LINE_BYTES", default=64 * 1024)
# A registration of someone born longer ago than this cannot concern the register.
FEEDS_MAXIMUM_AGE_YEARS = env.int("FEEDS_MAXIMUM_AGE_YEARS", default=19)
# Recovery within a minute (docs/feeds.md "Recovery"): a worker holding a file beats every
# FEEDS_HEARTBEAT_SECONDS; a file with no heartbeat, progress or hand-out for
# FEEDS_STALLED_AFTER_SECONDS is handed to a worker again by the sweep, which beat runs every
# FEEDS_SWEEP_EVERY_SECONDS. Worst case after a worker dies: stalled-after + sweep interval.
FEEDS_HEARTBEAT_SECONDS = env.int("FEEDS_HEARTBEAT_SECONDS", default=5)
# Giving way to searches (feeds/pacing.py, docs/feeds.md): while a practitioner has searched
# within SEARCH_ACTIVITY_WINDOW_SECONDS, an ingest pauses between chunks so that it is busy
# at most FEEDS_INGEST_BUSY_SHARE of the time (1: never pause), each pause at most
# FEEDS_INGEST_MAX_PAUSE_SECONDS. With nobody searching it never pauses.
SEARCH_ACTIVITY_WINDOW_SECONDS = env.int("SEARCH_ACTIVITY_WINDOW_SECONDS", default=2)
FEEDS_INGEST_BUSY_SHARE = env.float("FEEDS_INGEST_BUSY_SHARE", default=0.5)
FEEDS_INGEST_MAX_PAUSE_SECONDS = env.float("FEEDS_INGEST_MAX_PAUSE_SECONDS", default=5.0)
# A chunk's commit does not wait for the disk (feeds/ingestion.py, _commit_without_waiting_for_disk).
FEEDS_CHUNK_ASYNC_COMMIT = env.bool("FEEDS_CHUNK_ASYNC_COMMIT", default=False)
if not 0 < FEEDS_INGEST_BUSY_SHARE <= 1:
    raise ImproperlyConfigured("FEEDS_INGEST_BUSY_SHARE must be more than 0 and at most 1")
if SEARCH_ACTIVITY_WINDOW_SECONDS < 1:
    raise ImproperlyConfigured("SEARCH_ACTIVITY_WINDOW_SECONDS must be at least 1")
FEEDS_STALLED_AFTER_SECONDS = env.int("FEEDS_STALLED_AFTER_SECONDS", default=20)
FEEDS_SWEEP_EVERY_SECONDS = env.int("FEEDS_SWEEP_EVERY_SECONDS", default=10)
# A file whose ingestion has been started this many times without finishing is failed.
FEEDS_MAX_DELIVERIES = env.int("FEEDS_MAX_DELIVERIES", default=5)
# The stored copy of a failed file is kept this long for investigation, then deleted.
FEEDS_FAILED_RETENTION_DAYS = env.int("FEEDS_FAILED_RETENTION_DAYS", default=14)
# An inbox file with a hidden name (".name") untouched this long is refused, not ignored for
# ever; younger ones may still be being written by a copy tool.
# --- Email outbox (accounts/services_outbox.py, docs/operations.md "Email outbox") ------------------------------
# Beat delivers pending emails this often (an on-commit nudge usually sends them at once).
OUTBOX_DELIVER_EVERY_SECONDS = env.int("OUTBOX_DELIVER_EVERY_SECONDS", default=15)
OUTBOX_BATCH_SIZE = env.int("OUTBOX_BATCH_SIZE", default=500)
# A failed email is tried again after 30 s, 60 s, 120 s ... at most an hour apart, and given
# up (kept, counted by the health check) after this many attempts.
OUTBOX_RETRY_BASE_SECONDS = env.int("OUTBOX_RETRY_BASE_SECONDS", default=30)
OUTBOX_RETRY_MAX_SECONDS = env.int("OUTBOX_RETRY_MAX_SECONDS", default=3600)
OUTBOX_MAX_ATTEMPTS = env.int("OUTBOX_MAX_ATTEMPTS", default=12)
OUTBOX_SENT_RETENTION_DAYS = env.int("OUTBOX_SENT_RETENTION_DAYS", default=30)
# /health/ fails when an email has waited longer than this (the mail server refuses it).
OUTBOX_HEALTH_PENDING_SECONDS = env.int("OUTBOX_HEALTH_PENDING_SECONDS", default=15 * 60)
FEEDS_INBOX_HIDDEN_GRACE_SECONDS = env.int("FEEDS_INBOX_HIDDEN_GRACE_SECONDS", default=3600)

# --- Search anti-automation (issue 15) -------------------------------------------------------
# Searches per practitioner, page and API together (registry.lookups.throttling): a burst
# limit and a sustained one, in DRF's "number/period" form (period s, min, hour or day).
SEARCH_THROTTLE_RATES = {
    "search_burst": env.str("SEARCH_THROTTLE_BURST", default="30/min"),
    "search_sustained": env.str("SEARCH_THROTTLE_SUSTAINED", default="300/hour"),
}

# --- Removal and retention (issue 6) ---------------------------------------------------------
# Months after these dates that a child leaves the register (docs/removal.md). The last
# status ending uses REGISTER_RETENTION_MONTHS_AFTER_PLAN_END above; 18th birthday uses
# REGISTER_MAXIMUM_AGE_YEARS.
REMOVAL_MONTHS_AFTER_EXPECTED_DELIVERY = env.int("REMOVAL_MONTHS_AFTER_EXPECTED_DELIVERY", default=12)
REMOVAL_MONTHS_AFTER_DEATH = env.int("REMOVAL_MONTHS_AFTER_DEATH", default=12)
# How far ahead register managers' "due for removal" list and notifications look.
REMOVAL_DUE_SOON_DAYS = env.int("REMOVAL_DUE_SOON_DAYS", default=30)
# Children removed per chunk of the daily run; each child still has its own transaction.
REMOVAL_BATCH_SIZE = env.int("REMOVAL_BATCH_SIZE", default=500)

# --- Accounts: invitations, two-factor, lockout, sessions (issue 7) -------------------------
# Accounts not re-certified by their local authority's user admin within this many months
# are suspended by the daily beat task accounts.tasks.users_suspend_unrecertified.
ACCOUNTS_RECERTIFICATION_MONTHS = env.int("ACCOUNTS_RECERTIFICATION_MONTHS", default=12)
ACCOUNTS_INVITATION_HOURS = env.int("ACCOUNTS_INVITATION_HOURS", default=72)
# Work email addresses a user admin may invite or give a user (and `create_user` create):
# each entry allows that domain and every subdomain of it, so "gov.uk" covers
# name@westminster.gov.uk. The defaults are where English public-sector practitioners' work
# addresses live: the NHS (nhs.net mail, trusts' *.nhs.uk), councils and central government
# (*.gov.uk), police forces (*.police.uk), maintained schools (*.sch.uk) and the Criminal
# Justice Secure Mail service (*.cjsm.net). Add a partner's own domain (an academy trust, a
# voluntary organisation) here; personal webmail is never a work address (docs/accounts.md).
ACCOUNTS_WORK_EMAIL_DOMAINS: list[str] = [
    domain.strip().strip(".@").lower()
    for domain in env.list(
        "ACCOUNTS_WORK_EMAIL_DOMAINS", default=["nhs.net", "nhs.uk", "gov.uk", "police.uk", "sch.uk", "cjsm.net"]
    )
    if domain.strip().strip(".@")
]
if not ACCOUNTS_WORK_EMAIL_DOMAINS:
    # An empty list would refuse every invitation with a message naming nothing: say so now.
    raise ImproperlyConfigured("ACCOUNTS_WORK_EMAIL_DOMAINS must name at least one domain, e.g. nhs.net,gov.uk")
# Signed out after this long without a request; the page warns this many seconds before.
ACCOUNTS_SESSION_IDLE_SECONDS = env.int("ACCOUNTS_SESSION_IDLE_SECONDS", default=15 * 60)
ACCOUNTS_SESSION_WARNING_SECONDS = env.int("ACCOUNTS_SESSION_WARNING_SECONDS", default=2 * 60)
# Signed out this long after signing in, however active (also SESSION_COOKIE_AGE below).
ACCOUNTS_SESSION_ABSOLUTE_SECONDS = env.int("ACCOUNTS_SESSION_ABSOLUTE_SECONDS", default=12 * 60 * 60)
OTP_TOTP_ISSUER = "Signposting register"
# Lockout (django-axes): 10 wrong passwords for one account from one address lock that
# account at that address for the cool-off (a user admin can unlock sooner). Counting the
# account and address together means nobody can lock someone else's account from
# elsewhere (docs/accounts.md). Separately, an address with too many failures across any
# accounts is refused for the cool-off (accounts.lockout): set well above one person's
# mistakes, because an NHS trust or a council puts thousands of staff behind one proxy.
AXES_FAILURE_LIMIT = 10
AXES_LOCKOUT_PARAMETERS = [["username", "ip_address"]]
AXES_COOLOFF_TIME = datetime.timedelta(minutes=env.int("ACCOUNTS_LOCKOUT_COOLOFF_MINUTES", default=15))
# The client address by the audit trail's rule (TRUSTED_PROXY_COUNT), not axes' own guess.
AXES_CLIENT_IP_CALLABLE = "accounts.lockout.client_ip"
ACCOUNTS_SIGN_IN_ADDRESS_FAILURE_LIMIT = env.int("ACCOUNTS_SIGN_IN_ADDRESS_FAILURE_LIMIT", default=100)
AXES_RESET_ON_SUCCESS = True
AXES_USERNAME_CALLABLE = "accounts.lockout.username_from_request"
AXES_LOCKOUT_TEMPLATE = "registration/locked_out.html"
AXES_DISABLE_ACCESS_LOG = True  # successful sign-ins are in the audit trail already
AXES_VERBOSE = False  # axes would log email addresses

# --- Audit trail (issue 8) -------------------------------------------------------------------
# Anomaly flags (docs/audit.md). Office hours are local (Europe/London), Monday to Friday.
AUDIT_OFFICE_HOURS_START = env.int("AUDIT_OFFICE_HOURS_START", default=8)
AUDIT_OFFICE_HOURS_END = env.int("AUDIT_OFFICE_HOURS_END", default=18)
AUDIT_DAILY_SEARCH_LIMIT = env.int("AUDIT_DAILY_SEARCH_LIMIT", default=150)
AUDIT_USUAL_VOLUME_DAYS = env.int("AUDIT_USUAL_VOLUME_DAYS", default=28)
AUDIT_USUAL_VOLUME_FACTOR = env.int("AUDIT_USUAL_VOLUME_FACTOR", default=5)
AUDIT_USUAL_VOLUME_MINIMUM = env.int("AUDIT_USUAL_VOLUME_MINIMUM", default=20)
AUDIT_PAGE_SIZE = env.int("AUDIT_PAGE_SIZE", default=25)
AUDIT_EXPORT_MAX_ROWS = env.int("AUDIT_EXPORT_MAX_ROWS", default=100_000)

# --- Applications ----------------------------------------------------------------------
INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "rest_framework",
    # Kept only so that migration accounts 0006 can delete the plain-text tokens it held.
    "rest_framework.authtoken",
    "knox",
    "drf_spectacular",
    "drf_spectacular_sidecar",
    "guardian",
    "csp",
    "django_otp",
    "django_otp.plugins.otp_totp",
    "django_otp.plugins.otp_static",
    "axes",
    "health_check",
    "signposting",
    "accounts",
    "registry",
    "audit",
    "feeds",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "signposting.middleware.RequestIdMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    # Every view needs a login unless it is marked @login_not_required (the login page).
    "django.contrib.auth.middleware.LoginRequiredMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    # After authentication and messages, so that the 503 page renders with the user's menu.
    "signposting.middleware.DatabaseUnavailableMiddleware",
    "django_otp.middleware.OTPMiddleware",
    # Refuses an oversized body from its Content-Length before CsrfViewMiddleware's
    # process_view (or any view) reads it; after authentication and OTP, because only a
    # user signed in with two factors may send an upload-sized body, and so the 413 page
    # has a menu.
    "signposting.middleware.RequestSizeLimitMiddleware",
    # Idle and absolute session limits, then two factors for every page but signing in.
    "accounts.middleware.SessionTimeoutMiddleware",
    "accounts.middleware.TwoFactorRequiredMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "csp.middleware.CSPMiddleware",
    # Last, as django-axes asks: turns a locked-out sign-in into the lockout page.
    "axes.middleware.AxesMiddleware",
]

ROOT_URLCONF = "signposting.urls"
WSGI_APPLICATION = "signposting.wsgi.application"

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
                "signposting.context_processors.service",
            ],
        },
    },
]

# --- Database --------------------------------------------------------------------------
DATABASES = {"default": env.db_url_config(DATABASE_URL)}
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    # The web server and the Celery worker write to the same file: take the write lock at
    # the start of each transaction and wait for it rather than failing with "locked".
    DATABASES["default"]["OPTIONS"] = {
        "transaction_mode": "IMMEDIATE",
        "timeout": 20,
        "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;",
    }
else:
    DATABASES["default"]["CONN_MAX_AGE"] = env.int("CONN_MAX_AGE", default=60)
    DATABASES["default"]["CONN_HEALTH_CHECKS"] = True
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

# --- Cache: shared between web and worker processes -------------------------------------
if REDIS_URL:
    CACHES = {"default": {"BACKEND": "django.core.cache.backends.redis.RedisCache", "LOCATION": REDIS_URL}}
else:
    CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.filebased.FileBasedCache",
            "LOCATION": str(VAR_DIR / "cache"),
        }
    }

# --- Authentication --------------------------------------------------------------------
AUTH_USER_MODEL = "accounts.User"
AUTHENTICATION_BACKENDS = [
    # First, so that a locked-out account is refused before its password is checked.
    "axes.backends.AxesStandaloneBackend",
    "accounts.backends.PeopleOnlyBackend",
    "guardian.backends.ObjectPermissionBackend",
]
# The register has no anonymous users; guardian must not create one.
ANONYMOUS_USER_NAME = None
LOGIN_URL = "accounts:login"
LOGIN_REDIRECT_URL = "home"
LOGOUT_REDIRECT_URL = "accounts:login"
PASSWORD_HASHERS = [
    "django.contrib.auth.hashers.Argon2PasswordHasher",
    "django.contrib.auth.hashers.PBKDF2PasswordHasher",
]
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator", "OPTIONS": {"min_length": 12}},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]

# --- Sessions and cookies ----------------------------------------------------------------
SESSION_COOKIE_AGE = 12 * 60 * 60  # absolute limit of a working day
SESSION_EXPIRE_AT_BROWSER_CLOSE = True
SESSION_COOKIE_HTTPONLY = True
SESSION_COOKIE_SAMESITE = "Lax"
CSRF_COOKIE_HTTPONLY = True
CSRF_COOKIE_SAMESITE = "Lax"

# --- Security headers --------------------------------------------------------------------
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
SECURE_CROSS_ORIGIN_OPENER_POLICY = "same-origin"
X_FRAME_OPTIONS = "DENY"
CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": [SELF],
        # govuk-frontend needs one inline script to mark the body as js-enabled: nonce it.
        "script-src": [SELF, NONCE],
        "style-src": [SELF],
        "img-src": [SELF, "data:"],
        "font-src": [SELF],
        "connect-src": [SELF],
        "form-action": [SELF],
        "frame-ancestors": [NONE],
        "base-uri": [SELF],
        "object-src": [NONE],
    }
}

# --- Internationalisation ------------------------------------------------------------------
LANGUAGE_CODE = "en-gb"
TIME_ZONE = "Europe/London"
USE_I18N = True
USE_TZ = True

# --- Static files: govuk-frontend comes from the npm registry into node_modules -----------
GOVUK_FRONTEND_DIST = BASE_DIR / "node_modules" / "govuk-frontend" / "dist" / "govuk"
# govuk-frontend's stylesheet refers to /assets/fonts/... and /assets/images/...: serve the
# static files under /assets/ so those references resolve without rebuilding the CSS.
STATIC_URL = "/assets/"
STATICFILES_DIRS = [
    BASE_DIR / "static",
    str(GOVUK_FRONTEND_DIST / "assets"),
    ("govuk", str(GOVUK_FRONTEND_DIST)),
]
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "whitenoise.storage.CompressedManifestStaticFilesStorage"},
}

# --- Celery ----------------------------------------------------------------------------
CELERY_TASK_SERIALIZER = "json"
CELERY_RESULT_SERIALIZER = "json"
CELERY_ACCEPT_CONTENT = ["json"]
CELERY_TASK_IGNORE_RESULT = True
CELERY_TASK_ACKS_LATE = True
CELERY_TASK_REJECT_ON_WORKER_LOST = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_TASK_TIME_LIMIT = 60 * 60
CELERY_TASK_SOFT_TIME_LIMIT = 55 * 60
CELERY_TIMEZONE = TIME_ZONE
CELERY_BROKER_CONNECTION_RETRY_ON_STARTUP = True
# Through a broker outage of any length, workers and beat keep reconnecting (never give up),
# and a worker keeps running the task in hand (a feed file needs only the database).
CELERY_BROKER_CONNECTION_MAX_RETRIES = None
CELERY_WORKER_CANCEL_LONG_RUNNING_TASKS_ON_CONNECTION_LOSS = False
if CELERY_BROKER_URL == "filesystem://":
    CELERY_BROKER_TRANSPORT_OPTIONS = {
        "data_folder_in": str(VAR_DIR / "broker" / "out"),
        "data_folder_out": str(VAR_DIR / "broker" / "out"),
        "processed_folder": str(VAR_DIR / "broker" / "processed"),
        "control_folder": str(VAR_DIR / "broker" / "control"),
        "store_processed": False,
    }
if CELERY_BROKER_URL.startswith(("redis://", "rediss://")):
    CELERY_BROKER_TRANSPORT_OPTIONS = {
        # Redis hands an unacknowledged message (acks_late) to another worker after this long.
        # It must exceed the longest task (CELERY_TASK_TIME_LIMIT), or a file still being
        # ingested would be handed out twice; recovery from a dead worker within a minute is
        # the stalled-file sweep's job (heartbeats), not this.
        "visibility_timeout": CELERY_TASK_TIME_LIMIT + 10 * 60,
        # A Redis that stops answering is noticed in seconds, not at the kernel's TCP timeout.
        "socket_timeout": 10,
        "socket_connect_timeout": 5,
        "health_check_interval": 10,
    }
CELERY_BEAT_SCHEDULE = {
    "worker-heartbeat": {"task": "signposting.tasks.record_worker_heartbeat", "schedule": 60.0},
    "access-digests": {"task": "registry.children.tasks.access_digests_send", "schedule": crontab(hour=7, minute=0)},
    "cms-keys-purge": {"task": "registry.intake.tasks.idempotency_keys_purge", "schedule": crontab(hour=4, minute=10)},
    "bulk-uploads-stalled": {"task": "registry.intake.tasks.bulk_uploads_stalled_sweep", "schedule": 60.0},
    "recertification": {"task": "accounts.tasks.users_suspend_unrecertified", "schedule": crontab(hour=2, minute=30)},
    "feeds-inbox-scan": {"task": "feeds.tasks.feeds_inbox_scan", "schedule": 60.0},
    "feeds-stalled-sweep": {"task": "feeds.tasks.feeds_stalled_sweep", "schedule": float(FEEDS_SWEEP_EVERY_SECONDS)},
    "feeds-failed-copies-purge": {
        "task": "feeds.tasks.feed_failed_copies_purge",
        "schedule": crontab(hour=4, minute=40),
    },
    "removal-daily": {"task": "registry.removal.tasks.due_children_remove", "schedule": crontab(hour=2, minute=30)},
    "audit-anomalies": {"task": "audit.tasks.anomalies_detect", "schedule": 300.0},
    "audit-chain-verify": {"task": "audit.tasks.audit_chain_verify", "schedule": crontab(hour=3, minute=15)},
    # The dashboard's summary tables (issue 17, docs/dashboard.md).
    "dashboard-refresh": {"task": "registry.dashboard.tasks.dashboard_refresh", "schedule": 300.0},
    "outbox-deliver": {"task": "accounts.tasks.outbox_deliver", "schedule": float(OUTBOX_DELIVER_EVERY_SECONDS)},
    "outbox-sent-purge": {"task": "accounts.tasks.outbox_sent_emails_purge", "schedule": crontab(hour=4, minute=50)},
    "dashboard-feed-figures": {"task": "feeds.tasks.dashboard_feed_figures_refresh", "schedule": 300.0},
}
CELERY_BEAT_SCHEDULE_FILENAME = str(VAR_DIR / "celerybeat-schedule")

# --- REST framework ------------------------------------------------------------------------
REST_FRAMEWORK = {
    # People use the API through their signed-in, two-factor-verified session only. The
    # case-management API alone accepts a system account's token (registry.intake.api).
    "DEFAULT_AUTHENTICATION_CLASSES": ["rest_framework.authentication.SessionAuthentication"],
    "DEFAULT_PERMISSION_CLASSES": ["rest_framework.permissions.IsAuthenticated"],
    "DEFAULT_SCHEMA_CLASS": "drf_spectacular.openapi.AutoSchema",
    "DEFAULT_RENDERER_CLASSES": ["rest_framework.renderers.JSONRenderer"],
    "EXCEPTION_HANDLER": "signposting.api.exception_handler",
}
REST_KNOX = {
    # Tokens are issued by a command with their own expiry (CMS_TOKEN_DAYS) and never
    # extended by use: a leaked token dies on its date.
    "AUTO_REFRESH": False,
    "TOKEN_TTL": datetime.timedelta(days=CMS_TOKEN_DAYS),
    "AUTH_HEADER_PREFIX": "Token",
}
SPECTACULAR_SETTINGS = {
    "TITLE": "Child protection signposting register API",
    "DESCRIPTION": "Search the register. Every call is audited with the reason given.",
    "VERSION": "1.0.0",
    # The register's own Sex choices, shared by the case-management API (issue 4).
    "ENUM_NAME_OVERRIDES": {"SexEnum": "registry.models.Sex"},
    "SERVE_INCLUDE_SCHEMA": False,
    # The schema and its Swagger UI are for signed-in users only, like every other page.
    "SERVE_PERMISSIONS": ["rest_framework.permissions.IsAuthenticated"],
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
}

# --- Logging: never personal data; only ids, counts and outcomes ---------------------------
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {"plain": {"format": "%(asctime)s %(levelname)s %(name)s %(message)s"}},
    # Paths can carry case-management references and register IDs: django.request logs
    # the URL pattern instead (signposting.log_filters).
    "filters": {"path_withheld": {"()": "signposting.log_filters.RequestPathWithheld"}},
    "handlers": {"console": {"class": "logging.StreamHandler", "formatter": "plain"}},
    "root": {"handlers": ["console"], "level": LOG_LEVEL},
    "loggers": {"django.request": {"filters": ["path_withheld"], "propagate": True}},
}
