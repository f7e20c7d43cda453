"""Health and readiness endpoints (signposting/health_checks.py, docs/operations.md)."""

import datetime
import threading

import pytest
from django.utils import timezone

from accounts.models import OutboundEmail
from feeds.models import FeedFile
from signposting.health import worker_heartbeat_record

# The views are async (django-health-check). Each request runs in a thread of its own, as
# in a WSGI worker: Playwright's browser tests leave an event loop running in the main
# thread, where Django cannot call an async view. The thread has its own database
# connection, so what a test writes must be committed.
pytestmark = pytest.mark.django_db(transaction=True)


def _get(client, url):
    responses = []
    thread = threading.Thread(target=lambda: responses.append(client.get(url, HTTP_ACCEPT="application/json")))
    thread.start()
    thread.join(timeout=60)
    return responses[0]


def test_liveness_needs_no_login_and_answers_ok(client):
    response = _get(client, "/health/live/")
    assert response.status_code == 200
    assert response["Cache-Control"].startswith("max-age=0")


def test_readiness_checks_the_database_and_the_cache_without_a_login(client):
    response = _get(client, "/health/ready/")
    assert response.status_code == 200
    body = response.json()
    assert any("Database" in name for name in body) and any("Cache" in name for name in body)


def test_full_health_fails_while_no_worker_has_been_seen(client):
    response = _get(client, "/health/")
    assert response.status_code == 500
    assert any("WorkerHeartbeat" in name and "heartbeat" in status for name, status in response.json().items())


def test_full_health_passes_once_a_worker_has_recorded_its_heartbeat(client):
    worker_heartbeat_record()
    assert _get(client, "/health/").status_code == 200


def test_a_stalled_feed_file_fails_the_monitoring_check_and_is_named(client, settings):
    worker_heartbeat_record()
    feed_file = FeedFile.objects.create(
        event_type="death", sha256="a" * 64, original_name="deaths.csv", size_bytes=10, source=FeedFile.Source.INBOX
    )
    FeedFile.objects.filter(pk=feed_file.pk).update(
        received_at=timezone.now() - datetime.timedelta(seconds=settings.FEEDS_STALLED_AFTER_SECONDS + 60)
    )
    response = _get(client, "/health/")
    body = response.json()
    assert any("FeedBacklog" in name and "1 feed file" in status for name, status in body.items())
    assert response.status_code == 500
    assert _get(client, "/health/ready/").status_code == 200  # web processes still take traffic


def test_a_file_the_sweep_is_still_recovering_does_not_fail_the_check_yet(client, settings):
    worker_heartbeat_record()
    feed_file = FeedFile.objects.create(
        event_type="death", sha256="b" * 64, original_name="deaths.csv", size_bytes=10, source=FeedFile.Source.INBOX
    )
    # Its worker died just past the stall limit: the next sweep hands it out; no alarm yet.
    FeedFile.objects.filter(pk=feed_file.pk).update(
        state=FeedFile.State.RUNNING,
        received_at=timezone.now() - datetime.timedelta(hours=1),
        heartbeat_at=timezone.now() - datetime.timedelta(seconds=settings.FEEDS_STALLED_AFTER_SECONDS + 1),
    )
    assert _get(client, "/health/").status_code == 200


def test_an_email_waiting_too_long_or_given_up_fails_the_monitoring_check(client, settings):
    worker_heartbeat_record()
    email = OutboundEmail.objects.create(to="a@example.gov.uk", subject="s", body="b", next_attempt_at=timezone.now())
    assert _get(client, "/health/").status_code == 200  # just written: the next delivery sends it
    OutboundEmail.objects.filter(pk=email.pk).update(
        created_at=timezone.now() - datetime.timedelta(seconds=settings.OUTBOX_HEALTH_PENDING_SECONDS + 1)
    )
    response = _get(client, "/health/")
    assert response.status_code == 500
    assert any("EmailOutbox" in name and "1 email(s) waiting" in status for name, status in response.json().items())
    OutboundEmail.objects.filter(pk=email.pk).update(given_up_at=timezone.now())
    assert any("given up" in status for status in _get(client, "/health/").json().values())
    assert "a@example.gov.uk" not in _get(client, "/health/").content.decode()


def test_health_pages_show_no_data_and_other_pages_still_need_a_login(client):
    body = _get(client, "/health/ready/").content.decode()
    assert "@" not in body
    assert client.get("/search/").status_code == 302
