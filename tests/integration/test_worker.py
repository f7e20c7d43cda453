"""A real Celery worker process consumes from the configured broker: the file-system
broker in the SQLite run, Redis in the PostgreSQL run."""

import os
import subprocess
import sys
import time
from pathlib import Path

import pytest
from django.conf import settings
from django.core.cache import cache

from signposting.celery import app
from signposting.health import worker_is_alive, worker_last_seen

pytestmark = [
    pytest.mark.integration,
    # The test sends through the broker on purpose; the eager setting is for unit tests.
    pytest.mark.filterwarnings("ignore::celery.exceptions.AlwaysEagerIgnored"),
]
ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture
def worker():
    env = {**os.environ, "DJANGO_SETTINGS_MODULE": "signposting.settings.test", "CELERY_TASK_ALWAYS_EAGER": "False"}
    process = subprocess.Popen(
        [sys.executable, "-m", "celery", "-A", "signposting", "worker", "--pool=solo", "--loglevel=WARNING",
         f"--hostname=test-{os.getpid()}@%h", "--without-gossip", "--without-mingle"],
        cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
    )  # fmt: skip
    yield process
    process.terminate()
    try:
        process.wait(timeout=20)
    except subprocess.TimeoutExpired:
        process.kill()


def test_a_worker_process_runs_the_heartbeat_task_sent_through_the_broker(worker):
    assert worker_last_seen() is None
    app.send_task("signposting.tasks.record_worker_heartbeat")  # through the broker, never eager
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline and worker_last_seen() is None:
        assert worker.poll() is None, worker.stdout.read() if worker.stdout else "worker exited"
        time.sleep(0.5)
    assert worker_is_alive(), f"no heartbeat within 60 s via {settings.CELERY_BROKER_URL.split('://')[0]}"
    cache.clear()
