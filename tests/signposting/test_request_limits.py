"""Request bodies are bounded before they are read, and oversized or malformed API bodies
answer 4xx with a message (issue 15, items 16 and 17)."""

import io
import json

import pytest
from django.urls import reverse
from rest_framework.test import APIClient

from accounts.roles import Role
from registry.models import BulkUpload
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db


class UnreadableBody(io.RawIOBase):
    """A request body that fails the test if anything reads it."""

    def read(self, *args, **kwargs):
        raise AssertionError("the request body was read")

    readline = read


@pytest.fixture
def api():
    # A practitioner's signed-in, two-factor-verified session: people have no API tokens.
    client = APIClient()
    client.force_login(UserFactory(roles=[Role.PRACTITIONER]))
    return client


def test_deeply_nested_json_on_the_search_api_answers_400_with_a_message(api):
    body = "[" * 100_000 + "]" * 100_000
    response = api.post("/api/v1/search/", body, content_type="application/json")
    assert response.status_code == 400
    assert "nested too deeply" in response.json()["detail"]


def test_a_body_over_the_limit_on_the_search_api_answers_413_with_a_message(api):
    body = json.dumps({"reason": "assessment", "family_name": "x" * 3_000_000})
    response = api.post("/api/v1/search/", body, content_type="application/json")
    assert response.status_code == 413
    assert "larger than" in response.json()["detail"]


def test_an_api_body_too_big_found_while_reading_answers_413(api, monkeypatch):
    # The declared length passes the middleware (a client may send less than it declares,
    # or none); Django's own limit, raised while DRF reads, still answers 413, not 503.
    monkeypatch.setattr("signposting.middleware.request_body_limit_for", lambda request: 10**9)
    body = json.dumps({"reason": "assessment", "family_name": "x" * 3_000_000})
    response = api.post("/api/v1/search/", body, content_type="application/json")
    assert response.status_code == 413


def test_an_upload_over_the_limit_is_refused_from_its_length_before_the_body_is_read(client, westminster, settings):
    settings.BULK_UPLOAD_MAX_BYTES = 1024 * 1024
    manager = UserFactory(organisation__local_authority=westminster, roles=[Role.REGISTER_MANAGER])
    client.force_login(manager)
    response = client.post(
        reverse("registry:upload-new"),
        data=b"",
        content_type="multipart/form-data; boundary=xyz",
        CONTENT_LENGTH=str(2 * 1024 * 1024),
        **{"wsgi.input": UnreadableBody()},
    )
    assert response.status_code == 413
    page = response.content.decode()
    assert "The file or form is too large" in page and "1 MB at most" in page
    assert not BulkUpload.objects.exists()


def test_an_upload_within_its_own_limit_is_not_held_to_the_form_limit(client, westminster, settings):
    # The bulk upload's limit (BULK_UPLOAD_MAX_BYTES) is larger than an ordinary form's.
    settings.DATA_UPLOAD_MAX_MEMORY_SIZE = 1000
    manager = UserFactory(organisation__local_authority=westminster, roles=[Role.REGISTER_MANAGER])
    client.force_login(manager)
    from django.core.files.uploadedfile import SimpleUploadedFile

    content = b"not,the,import,format\n" + b"x" * 5000
    response = client.post(reverse("registry:upload-new"), {"file": SimpleUploadedFile("a.csv", content)})
    assert response.status_code == 200  # the form answers (about the columns), not a 413
    assert "must name the import columns" in response.content.decode()


def test_a_form_post_over_the_form_limit_is_refused_before_it_is_read(client):
    client.force_login(UserFactory(roles=[Role.PRACTITIONER]))
    response = client.post(
        "/search/",
        data=b"",
        content_type="application/x-www-form-urlencoded",
        CONTENT_LENGTH=str(3 * 1024 * 1024),
        **{"wsgi.input": UnreadableBody()},
    )
    assert response.status_code == 413


# Issue 16 item 6: nothing is written to disk (or parsed into a file at all) for a request
# that is not fully signed in, and a file stops at its page's limit while it is parsed.


@pytest.fixture
def file_parts_kept(monkeypatch):
    """Every file part that reaches Django's own handlers (memory or temporary file)."""
    from django.core.files import uploadhandler

    kept = []
    for handler in (uploadhandler.MemoryFileUploadHandler, uploadhandler.TemporaryFileUploadHandler):
        original = handler.new_file

        def new_file(self, *args, _original=original, **kwargs):
            kept.append(type(self).__name__)
            return _original(self, *args, **kwargs)

        monkeypatch.setattr(handler, "new_file", new_file)
    return kept


@pytest.fixture
def files_completed(monkeypatch):
    """Every file that Django's temporary-file handler received whole."""
    from django.core.files import uploadhandler

    completed = []
    original = uploadhandler.TemporaryFileUploadHandler.file_complete

    def file_complete(self, file_size):
        completed.append(file_size)
        return original(self, file_size)

    monkeypatch.setattr(uploadhandler.TemporaryFileUploadHandler, "file_complete", file_complete)
    return completed


def _upload(client, content: bytes, name: str = "register.csv"):
    from django.core.files.uploadedfile import SimpleUploadedFile

    return client.post(reverse("registry:upload-new"), {"file": SimpleUploadedFile(name, content)})


def test_an_anonymous_upload_is_refused_from_its_length_at_the_form_limit():
    from django.test import Client

    client = Client(enforce_csrf_checks=True)
    response = client.post(
        reverse("registry:upload-new"),
        data=b"",
        content_type="multipart/form-data; boundary=xyz",
        CONTENT_LENGTH=str(10 * 1024 * 1024),  # within the bulk upload's 50 MB, over a form's
        **{"wsgi.input": UnreadableBody()},
    )
    assert response.status_code == 413


def _csrf_enforced(client):
    """CSRF enforced, as in production, with a cookie anyone can get from the sign-in page:
    the CSRF check then parses the form (to find its token) before any login check runs,
    so a file part would be spooled if nothing stopped it."""
    from django.middleware.csrf import _get_new_csrf_string

    client.handler.enforce_csrf_checks = True
    client.cookies["csrftoken"] = _get_new_csrf_string()
    return client


def test_an_anonymous_post_with_a_file_has_nothing_kept(client, file_parts_kept):
    response = _upload(_csrf_enforced(client), b"x" * (1024 * 1024))
    assert response.status_code in (302, 403)
    assert file_parts_kept == []
    assert not BulkUpload.objects.exists()


def test_a_password_only_session_cannot_upload_a_file(client, westminster, file_parts_kept):
    from django_otp import DEVICE_ID_SESSION_KEY

    manager = UserFactory(organisation__local_authority=westminster, roles=[Role.REGISTER_MANAGER])
    client.force_login(manager)
    session = client.session
    del session[DEVICE_ID_SESSION_KEY]  # signed in with the password only
    session.save()
    response = _upload(_csrf_enforced(client), b"x" * (1024 * 1024))
    assert response.status_code in (302, 403)  # sent to finish signing in, or refused
    assert file_parts_kept == []


def test_a_file_part_sent_to_a_page_that_takes_none_is_not_kept(client, file_parts_kept):
    from django.core.files.uploadedfile import SimpleUploadedFile

    client.force_login(UserFactory(roles=[Role.PRACTITIONER]))
    client.post("/search/", {"family_name": "Smith", "file": SimpleUploadedFile("a.bin", b"x" * 100_000)})
    assert file_parts_kept == []


def test_an_upload_that_grows_past_its_limit_while_parsed_is_stopped(
    client, westminster, settings, monkeypatch, files_completed
):
    # The declared length passes the middleware (monkeypatched here, as a client whose
    # envelope is mostly file); the gate counts the file's own bytes and stops it.
    settings.BULK_UPLOAD_MAX_BYTES = 100_000
    settings.FILE_UPLOAD_MAX_MEMORY_SIZE = 1000
    monkeypatch.setattr("signposting.middleware.request_body_limit_for", lambda request: 10**9)
    manager = UserFactory(organisation__local_authority=westminster, roles=[Role.REGISTER_MANAGER])
    client.force_login(manager)
    response = _upload(client, b"nhs_number\n" + b"x" * 200_000)
    assert response.status_code == 200  # the form again, with no file
    assert files_completed == []  # stopped at the limit, not written to the end
    assert not BulkUpload.objects.exists()


def test_a_fully_signed_in_manager_still_uploads_a_file_larger_than_a_form(
    client, westminster, settings, file_parts_kept
):
    settings.DATA_UPLOAD_MAX_MEMORY_SIZE = 1000
    settings.FILE_UPLOAD_MAX_MEMORY_SIZE = 1000  # so that the file goes to a temporary file
    manager = UserFactory(organisation__local_authority=westminster, roles=[Role.REGISTER_MANAGER])
    client.force_login(manager)
    response = _upload(client, b"not,the,import,format\n" + b"x" * 5000)
    assert response.status_code == 200
    assert "must name the import columns" in response.content.decode()
    assert "TemporaryFileUploadHandler" in file_parts_kept
