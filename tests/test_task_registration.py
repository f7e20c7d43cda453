"""Services that queue a task by its registered name (feeds.services, registry.intake) rely on
every process knowing every task as soon as Django starts, not only the worker."""

import os
import subprocess
import sys
from pathlib import Path

QUEUED_BY_NAME = ("feeds.tasks.feed_file_ingest", "registry.intake.tasks.bulk_upload_process_task")


def test_a_fresh_web_process_knows_the_tasks_services_queue_by_name():
    # A new interpreter: in the test process some other test may have imported the tasks.
    script = (
        "import django; django.setup(); from celery import current_app; "
        f"missing = [name for name in {QUEUED_BY_NAME!r} if name not in current_app.tasks]; "
        "print(missing); raise SystemExit(1 if missing else 0)"
    )
    environment = {**os.environ, "DJANGO_SETTINGS_MODULE": "signposting.settings.test"}
    result = subprocess.run(
        [sys.executable, "-c", script],
        cwd=Path(__file__).resolve().parent.parent,
        env=environment,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert result.returncode == 0, result.stdout + result.stderr
