"""The restore drill (scripts/restore-drill.sh, docs/operations.md) run for real on
PostgreSQL: a backup of the test database restores into a fresh database whose audit chain
verifies and whose row counts match."""

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from django.db import connection

from audit.models import AuditEvent
from audit.services import audit_event_record
from tests.factories import ChildFactory

pytestmark = [pytest.mark.integration, pytest.mark.django_db(transaction=True)]
ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(autouse=True)
def _needs_postgresql():
    if connection.vendor != "postgresql":
        pytest.skip("the drill uses pg_dump and pg_restore: run on PostgreSQL")


def _database_url() -> str:
    settings_dict = connection.settings_dict
    host, port = settings_dict["HOST"] or "127.0.0.1", settings_dict["PORT"] or "5432"
    return f"postgres://{settings_dict['USER']}@{host}:{port}/{settings_dict['NAME']}"


def _drill() -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "PYTHON": sys.executable, "DJANGO_SETTINGS_MODULE": "signposting.settings.test"}
    return subprocess.run(
        [shutil.which("bash") or "/bin/bash", "scripts/restore-drill.sh", _database_url()],
        cwd=ROOT, env=env, capture_output=True, text=True, timeout=300, check=False,
    )  # fmt: skip


def test_a_backup_restores_with_the_same_rows_and_an_intact_audit_chain():
    ChildFactory.create_batch(3)
    audit_event_record(action=AuditEvent.Action.LOGIN_SUCCEEDED, actor=None)
    result = _drill()
    assert result.returncode == 0, result.stdout + result.stderr
    assert "Audit trail intact" in result.stdout
    assert "Restore drill passed." in result.stdout
    source = next(line for line in result.stdout.splitlines() if "source:" in line)
    assert "3 children" in source
