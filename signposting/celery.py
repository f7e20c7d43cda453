"""The Celery application: configuration comes from Django settings (CELERY_*)."""

import os

from celery import Celery

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "signposting.settings.local")

app = Celery("signposting")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()
# The register's tasks live in its parts (registry/<part>/tasks.py), which autodiscovery,
# looking only at each installed app's own tasks module, would not find.
app.autodiscover_tasks(["registry.children", "registry.dashboard", "registry.intake", "registry.removal"])
