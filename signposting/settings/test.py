"""Settings for the test suite. The database and broker still come from the environment,
so the same suite runs on SQLite and on PostgreSQL with Redis."""

from signposting.settings.base import *  # noqa: F403
from signposting.settings.base import CELERY_BROKER_URL, REDIS_URL, VAR_DIR, env

SECRET_KEY = "test-only-key"
DEBUG = False
# Unit tests run tasks in-process; the worker itself is exercised by the integration run.
CELERY_TASK_ALWAYS_EAGER = env.bool("CELERY_TASK_ALWAYS_EAGER", default=True)
CELERY_TASK_EAGER_PROPAGATES = True
# Tests in other processes search at any moment and share the cache: an ingest gives way to
# searches only in the tests of giving way (tests/feeds/test_give_way.py), which turn it on.
FEEDS_INGEST_BUSY_SHARE = 1.0
PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]  # speed only; argon2 is tested
EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
}
if not REDIS_URL:
    # A file cache, not locmem: the worker integration test reads what a worker process wrote.
    CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.filebased.FileBasedCache",
            "LOCATION": str(VAR_DIR / "test-cache"),
        }
    }
if CELERY_BROKER_URL == "filesystem://":
    # Kept apart from `make run`'s broker folders so that a running dev worker never takes
    # the test's messages.
    CELERY_BROKER_TRANSPORT_OPTIONS = {
        "data_folder_in": str(VAR_DIR / "test-broker" / "out"),
        "data_folder_out": str(VAR_DIR / "test-broker" / "out"),
        "processed_folder": str(VAR_DIR / "test-broker" / "processed"),
        "control_folder": str(VAR_DIR / "test-broker" / "control"),
        "store_processed": False,
    }
    for folder in ("out", "processed", "control"):
        (VAR_DIR / "test-broker" / folder).mkdir(parents=True, exist_ok=True)
# Serve static files straight from the finders, as in development; no collectstatic needed.
WHITENOISE_USE_FINDERS = True
WHITENOISE_AUTOREFRESH = True
STATIC_ROOT = VAR_DIR / "test-static"
STATIC_ROOT.mkdir(parents=True, exist_ok=True)
