import datetime

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from accounts.roles import Role
from feeds.models import FeedFile, FeedMatch
from registry.models import Child
from tests.factories import ChildFactory, ProtectionStatusFactory, UserFactory, nhs_number_for
from tests.feeds.factories_feeds import death_row, deaths_file, ingest

pytestmark = pytest.mark.django_db


@pytest.fixture
def operator():
    return UserFactory(organisation=None, local_authority=None, roles=[Role.FEED_OPERATOR])


def upload(client, content: bytes, name: str = "deaths.csv"):
    return client.post("/feeds/", {"file": SimpleUploadedFile(name, content, content_type="text/csv")})


def test_an_operator_uploads_a_file_and_sees_its_progress(client, operator, django_capture_on_commit_callbacks):
    client.force_login(operator)
    content = deaths_file(death_row(), death_row(entry_number=2, date_of_death="bad"), death_row(entry_number=3))
    with django_capture_on_commit_callbacks(execute=True):
        response = upload(client, content)
    feed_file = FeedFile.objects.get()
    assert response.status_code == 302 and response["Location"] == f"/feeds/files/{feed_file.pk}/"
    assert (feed_file.received_by, feed_file.source) == (operator, "upload")
    page = client.get(response["Location"]).content.decode()
    assert "The file was received and is being ingested." in page
    assert "Finished" in page and ">3</span> of <span" in page
    assert "date_of_death is not a date in the form YYYY-MM-DD" in page
    assert ">1</span> rejected" in page
    progress = client.get(f"/feeds/files/{feed_file.pk}/progress.json").json()
    assert (progress["rows_done"], progress["rows_total"], progress["rejected"]) == (3, 3, 1)
    listing = client.get("/feeds/").content.decode()
    assert "deaths.csv" in listing and "3 of 3" in listing


def test_the_same_file_uploaded_again_says_so_and_does_nothing(client, operator, django_capture_on_commit_callbacks):
    client.force_login(operator)
    content = deaths_file(death_row())
    with django_capture_on_commit_callbacks(execute=True):
        upload(client, content)
        response = upload(client, content, name="renamed.csv")
    assert FeedFile.objects.count() == 1
    assert "This file was already received" in client.get(response["Location"]).content.decode()


def test_bad_files_are_refused_next_to_the_field(client, operator, settings):
    client.force_login(operator)
    page = client.post("/feeds/", {}).content.decode()
    assert "Select a file to upload" in page and 'class="govuk-error-summary"' in page
    page = upload(client, b"name,dob\nA,2019-01-01\n").content.decode()
    assert "not that of a GRO deaths or births file" in page and "govuk-file-upload--error" in page
    settings.FEEDS_MAX_FILE_BYTES = 10
    assert "larger than the limit" in upload(client, deaths_file(death_row())).content.decode()
    assert not FeedFile.objects.exists()


def test_only_feed_operators_reach_the_feed_pages(client, westminster):
    client.force_login(UserFactory(organisation__local_authority=westminster, roles=[Role.REGISTER_MANAGER]))
    assert client.get("/feeds/").status_code == 403
    assert client.post("/feeds/", {}).status_code == 403
    feed_file = ingest(deaths_file(death_row()))
    assert client.get(f"/feeds/files/{feed_file.pk}/").status_code == 403


@pytest.fixture
def pending(westminster):
    child = ChildFactory(
        responsible_local_authority=westminster,
        nhs_number=None,
        given_names="Amelia",
        family_name="Oneil",
        date_of_birth=datetime.date(2019, 4, 12),
        postcode="SW1A 1AA",
        address_line_1="7 Hidden Lane",
    )
    ProtectionStatusFactory(child=child)
    ingest(deaths_file(death_row(postcode="", address="1 Registered Road")))
    return FeedMatch.objects.get()


def test_a_manager_reviews_and_confirms_a_registration(client, westminster, pending):
    manager = UserFactory(organisation__local_authority=westminster, roles=[Role.REGISTER_MANAGER])
    client.force_login(manager)
    queue = client.get("/feeds/review/").content.decode()
    assert pending.child.register_id in queue and f"/feeds/review/{pending.pk}/" in queue
    page = client.get(f"/feeds/review/{pending.pk}/").content.decode()
    assert "Amelia" in page and "1 Registered Road" in page and "2026-11-01" in page
    response = client.post(f"/feeds/review/{pending.pk}/", {})
    assert "Select whether this registration is about this child" in response.content.decode()
    response = client.post(f"/feeds/review/{pending.pk}/", {"decision": "confirm"})
    assert response.status_code == 302 and response["Location"] == "/feeds/review/"
    assert Child.objects.get(pk=pending.child_id).date_of_death == datetime.date(2026, 11, 1)
    queue = client.get("/feeds/review/").content.decode()
    assert "was updated" in queue and "There are no registrations waiting for review" in queue


def test_another_authoritys_managers_neither_see_nor_decide_it(client, birmingham, pending):
    client.force_login(UserFactory(organisation__local_authority=birmingham, roles=[Role.REGISTER_MANAGER]))
    assert pending.child.register_id not in client.get("/feeds/review/").content.decode()
    assert client.get(f"/feeds/review/{pending.pk}/").status_code == 404
    assert client.post(f"/feeds/review/{pending.pk}/", {"decision": "confirm"}).status_code == 404
    assert Child.objects.get(pk=pending.child_id).date_of_death is None


def test_practitioners_have_no_review_queue(client, pending):
    client.force_login(UserFactory(roles=[Role.PRACTITIONER]))
    assert client.get("/feeds/review/").status_code == 403
    assert client.get(f"/feeds/review/{pending.pk}/").status_code == 403


def test_a_shielded_childs_review_shows_no_address_or_postcode(client, westminster, pending):
    Child.objects.filter(pk=pending.child_id).update(is_shielded=True, shielding_reason="refuge")
    client.force_login(UserFactory(organisation__local_authority=westminster, roles=[Role.REGISTER_MANAGER]))
    page = client.get(f"/feeds/review/{pending.pk}/").content.decode()
    assert "Shielded" in page or "shielded" in page
    assert "7 Hidden Lane" not in page and "1 Registered Road" not in page and "SW1A 1AA" not in page
    assert "Amelia" in page


def test_no_personal_data_goes_into_feed_urls(client, operator, pending):
    client.force_login(operator)
    assert "Oneil" not in f"/feeds/review/{pending.pk}/"
    assert str(nhs_number_for(1)) not in client.get("/feeds/").content.decode()


def test_the_home_page_links_operators_to_the_feeds_and_managers_to_their_queue(client, operator, westminster):
    client.force_login(operator)
    assert 'href="/feeds/"' in client.get("/").content.decode()
    client.force_login(UserFactory(organisation__local_authority=westminster, roles=[Role.REGISTER_MANAGER]))
    page = client.get("/").content.decode()
    assert 'href="/feeds/review/"' in page and 'href="/feeds/"' not in page


def test_after_a_transfer_the_new_authority_decides_and_the_old_one_no_longer_sees_it(
    client, westminster, birmingham, pending
):
    Child.objects.filter(pk=pending.child_id).update(responsible_local_authority=birmingham)
    client.force_login(UserFactory(organisation__local_authority=westminster, roles=[Role.REGISTER_MANAGER]))
    assert pending.child.register_id not in client.get("/feeds/review/").content.decode()
    assert client.get(f"/feeds/review/{pending.pk}/").status_code == 404
    client.force_login(UserFactory(organisation__local_authority=birmingham, roles=[Role.REGISTER_MANAGER]))
    assert pending.child.register_id in client.get("/feeds/review/").content.decode()
    assert client.get(f"/feeds/review/{pending.pk}/").status_code == 200
