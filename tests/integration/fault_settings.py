"""Settings for the worker, beat and helper processes of the fault tests
(test_feed_faults.py): the test settings, with a real broker and emails written to files,
and (FAULT_CHUNK_PAUSE) a pause after each chunk so that a fault lands mid-file."""

import time

from celery.signals import worker_ready

from signposting.settings.test import *  # noqa: F403
from signposting.settings.test import env

CELERY_TASK_ALWAYS_EAGER = False
EMAIL_BACKEND = "django.core.mail.backends.filebased.EmailBackend"
EMAIL_FILE_PATH = env.str("FAULT_EMAIL_DIR")
FAULT_CHUNK_PAUSE = env.float("FAULT_CHUNK_PAUSE", default=0.0)


@worker_ready.connect
def _slow_chunks(**kwargs: object) -> None:
    from feeds import ingestion

    ingestion.after_chunk = lambda feed_file_id, chunks: time.sleep(FAULT_CHUNK_PAUSE)
