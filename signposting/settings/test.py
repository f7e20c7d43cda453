"""Settings for the test suite. The database and broker still come from the environment,
so the same suite runs on SQLite and on PostgreSQL with Redis."""

from signposting.settings.base import *  # noqa: F403
from signposting.settings.base import REDIS_URL, env

SECRET_KEY = "test-only-key"
DEBUG = False
# Unit tests run tasks in-process; the worker itself is exercised by the integration run.
CELERY_TASK_ALWAYS_EAGER = env.bool("CELERY_TASK_ALWAYS_EAGER", default=True)
CELERY_TASK_EAGER_PROPAGATES = True
PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]  # speed only; argon2 is tested
EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
}
if not REDIS_URL:
    CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}
