"""The search page and API: rules, scope and an audit event on every path."""

import datetime

import pytest
from django.db import DatabaseError
from rest_framework.test import APIClient

from accounts.roles import Role
from audit.models import AuditEvent, LookupOutcome
from registry.identity import DATE_MONTH_FIRST, DATE_WHOLE_IN_ONE_BOX
from tests.factories import ChildFactory, ProtectionStatusFactory, UserFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def practitioner():
    return UserFactory(roles=[Role.PRACTITIONER])


@pytest.fixture
def child():
    child = ChildFactory(
        nhs_number="9434765919", given_names="Victoria", family_name="Adjo", date_of_birth=datetime.date(2016, 11, 2),
        postcode="N17 9EX",
    )  # fmt: skip
    ProtectionStatusFactory(child=child)
    return child


def search(client, **fields):
    return client.post("/search/", {"reason": "assessment", **fields}, follow=True)


def only_search_event():
    return AuditEvent.objects.get(action=AuditEvent.Action.SEARCH)


def test_an_nhs_number_with_spaces_finds_the_child_and_the_search_is_audited(client, practitioner, child):
    client.force_login(practitioner)
    response = search(client, nhs_number="943 476 5919")
    page = response.content.decode()
    assert response.status_code == 200
    assert "no-store" in response["Cache-Control"]
    assert "Victoria Adjo" in page and "Exact" in page
    event = only_search_event()
    assert event.actor == practitioner
    assert event.outcome == LookupOutcome.RESULTS
    assert event.register_ids == [child.register_id]
    assert event.criteria == {"nhs_number": "9434765919"}
    assert event.reason == "assessment"
    assert event.channel == "web"
    assert event.actor_roles == ["practitioner"]
    assert event.request_id and event.ip_address
    assert f"?lookup={event.pk}" in page


def test_no_match_is_audited_with_no_register_ids(client, practitioner, child):
    client.force_login(practitioner)
    page = search(client, nhs_number="9434765870").content.decode()
    assert "No child on the register matches" in page
    event = only_search_event()
    assert (event.outcome, event.register_ids) == (LookupOutcome.NO_RESULTS, [])


def test_a_family_name_alone_is_refused_clearly_and_audited(client, practitioner, child):
    client.force_login(practitioner)
    page = search(client, family_name="Adjo").content.decode()
    assert "There is a problem" in page
    assert "Adjo" not in page.split("There is a problem")[1].split("</ul>")[0] or "date of birth" in page
    event = only_search_event()
    assert event.outcome == LookupOutcome.REFUSED
    assert event.criteria == {"family_name": "Adjo"}
    assert event.register_ids == []


def test_an_invalid_field_is_shown_by_the_field_and_the_attempt_audited(client, practitioner):
    client.force_login(practitioner)
    page = search(client, nhs_number="9434765918", dob_day="31", dob_month="2", dob_year="2016").content.decode()
    # Ten digits with a wrong last digit are told so, not that an NHS number has 10 digits.
    assert "Enter a valid NHS number: the last digit does not match — check it for typing errors" in page
    assert "It has 10 digits" not in page
    assert "Date of birth must be a real date" in page
    event = only_search_event()
    assert event.outcome == LookupOutcome.REFUSED
    assert event.criteria["nhs_number"] == "9434765918"


def test_a_reason_is_required_and_other_needs_words(client, practitioner, child):
    client.force_login(practitioner)
    page = client.post("/search/", {"nhs_number": "9434765919"}).content.decode()
    assert "Select why you are looking for this child" in page
    page = client.post("/search/", {"nhs_number": "9434765919", "reason": "other"}).content.decode()
    assert "Enter why you are looking for this child" in page
    assert "Victoria Adjo" not in page
    assert AuditEvent.objects.filter(action=AuditEvent.Action.SEARCH, outcome=LookupOutcome.REFUSED).count() == 2


def test_search_is_post_only_so_no_personal_data_reaches_a_url(client, practitioner, child):
    client.force_login(practitioner)
    page = client.get("/search/?nhs_number=9434765919&reason=assessment").content.decode()
    assert "Victoria Adjo" not in page
    assert not AuditEvent.objects.filter(action=AuditEvent.Action.SEARCH).exists()


def test_untrained_or_non_practitioners_cannot_search(client, child):
    for user in (UserFactory(training_completed_on=None, roles=[Role.PRACTITIONER]), UserFactory(roles=[Role.AUDITOR])):
        client.force_login(user)
        assert client.get("/search/").status_code == 403
        assert search(client, nhs_number="9434765919").status_code == 403
    assert not AuditEvent.objects.filter(action=AuditEvent.Action.SEARCH, outcome=LookupOutcome.RESULTS).exists()


def test_if_the_audit_write_fails_the_search_fails_and_shows_nothing(client, practitioner, child, monkeypatch):
    calls = []

    def broken(**kwargs):
        calls.append(kwargs)
        raise DatabaseError("audit table unavailable")

    monkeypatch.setattr("registry.lookups.services.audit_event_record", broken)
    client.force_login(practitioner)
    response = search(client, nhs_number="9434765919")
    assert response.status_code == 503
    assert "Victoria" not in response.content.decode()
    assert calls  # it tried to audit, and the failure stopped the results


def test_a_search_that_errors_is_audited_as_failed(client, practitioner, child, monkeypatch):
    def exploding(*args, **kwargs):
        raise RuntimeError("matcher bug")

    monkeypatch.setattr("registry.lookups.services.candidates", exploding)
    client.force_login(practitioner)
    client.raise_request_exception = False
    response = search(client, nhs_number="9434765919")
    assert response.status_code == 500
    event = only_search_event()
    assert event.outcome == LookupOutcome.FAILED
    assert event.details == {"error": "RuntimeError"}


def test_the_results_link_carries_the_reason_to_the_child_page(client, practitioner, child):
    client.force_login(practitioner)
    search(client, nhs_number="9434765919")
    event = only_search_event()
    page = client.get(f"/children/{child.register_id}/?lookup={event.pk}").content.decode()
    assert "Victoria Adjo" in page
    view = AuditEvent.objects.get(action=AuditEvent.Action.CHILD_VIEWED)
    assert view.reason == "assessment" and view.details == {"search_event": event.pk}
    # Someone else's search, or one that did not return this child, carries nothing over.
    other = UserFactory(roles=[Role.PRACTITIONER])
    client.force_login(other)
    assert (
        "Before you open this record"
        in client.get(f"/children/{child.register_id}/?lookup={event.pk}").content.decode()
    )


def test_a_search_redirects_to_a_results_page_that_back_can_return_to(client, practitioner, child):
    client.force_login(practitioner)
    response = client.post("/search/", {"reason": "assessment", "nhs_number": "9434765919"})
    assert response.status_code == 302 and response["Location"] == "/search/results/"
    event = only_search_event()
    # Shown again (as Back does) without searching again: the same audited lookup.
    for _ in range(2):
        page = client.get("/search/results/").content.decode()
        assert "Victoria Adjo" in page and f"?lookup={event.pk}" in page
    assert AuditEvent.objects.filter(action=AuditEvent.Action.SEARCH).count() == 1
    # The record opened from it offers the way back.
    record = client.get(f"/children/{child.register_id}/?lookup={event.pk}").content.decode()
    assert 'href="/search/results/"' in record and "Back to results" in record


def test_results_are_only_the_users_own_and_only_while_the_reason_lasts(client, practitioner, child, monkeypatch):
    client.force_login(practitioner)
    search(client, nhs_number="9434765919")
    # Another user has no results of their own to see.
    client.force_login(UserFactory(roles=[Role.PRACTITIONER]))
    response = client.get("/search/results/", follow=True)
    assert "Victoria" not in response.content.decode()
    assert "Search again" in response.content.decode()
    # After the search's reason has lapsed, the results are gone too.
    client.force_login(practitioner)
    monkeypatch.setattr("registry.lookups.services.LOOKUP_REASON_LIFETIME", datetime.timedelta(0))
    response = client.get("/search/results/")
    assert response.status_code == 302 and response["Location"] == "/search/"


def test_change_search_keeps_the_values_and_the_reason(client, practitioner, child):
    client.force_login(practitioner)
    client.post(
        "/search/",
        {"reason": "other", "reason_detail": "Strategy meeting", "family_name": "Adjo", "given_names": "Vic",
         "dob_day": "2", "dob_month": "11", "dob_year": "2016", "postcode": "n179ex"},
    )  # fmt: skip
    page = client.get("/search/?change").content.decode()
    for value in ('value="Adjo"', 'value="Vic"', 'value="2"', 'value="11"', 'value="2016"', 'value="N17 9EX"'):
        assert value in page
    assert 'value="other" checked' in page and 'value="Strategy meeting"' in page
    # A new search starts empty.
    assert 'value="Adjo"' not in client.get("/search/").content.decode()


# --- API -----------------------------------------------------------------------------------


@pytest.fixture
def api(practitioner):
    # Practitioners call the API through their signed-in, two-factor-verified session.
    client = APIClient()
    client.force_login(practitioner)
    return client


def test_the_api_returns_graded_results_and_audits_as_api(api, practitioner, child):
    response = api.post("/api/v1/search/", {"nhs_number": "943 476 5919", "reason": "emergency"}, format="json")
    assert response.status_code == 200
    body = response.json()
    assert body["too_many"] is False
    [result] = body["results"]
    assert result["register_id"] == child.register_id
    assert result["nhs_number"] == "9434765919"
    assert result["grade"] == "exact"
    assert 0 <= result["score"] <= 1 and result["reasons"]
    assert "postcode" not in result and "address_line_1" not in result
    event = AuditEvent.objects.get(pk=body["lookup"])
    assert (event.channel, event.reason, event.register_ids) == ("api", "emergency", [child.register_id])


@pytest.mark.parametrize(
    ("payload", "status", "field"),
    [
        ({"nhs_number": "9434765918", "reason": "assessment"}, 400, "nhs_number"),
        ({"nhs_number": "9434765919"}, 400, "reason"),
        ({"family_name": "Adjo", "reason": "assessment"}, 400, "detail"),
        ({"family_name": "Adjo", "date_of_birth": "2999-01-01", "reason": "assessment"}, 400, "date_of_birth"),
        ({"nhs_number": "9434765919", "reason": "other"}, 400, "reason_detail"),
        # PostgreSQL refuses NUL in text: the attempt must still be audited, not end in a 503.
        ({"nhs_number": "94347\x0065919", "reason": "assessment"}, 400, "nhs_number"),
        ({"family_name": "Ad\x00jo", "date_of_birth": "2999-01-01", "reason": "assessment"}, 400, "date_of_birth"),
    ],
)
def test_api_errors_are_4xx_with_a_message_and_are_audited(api, child, payload, status, field):
    response = api.post("/api/v1/search/", payload, format="json")
    assert response.status_code == status
    assert field in response.json()
    assert AuditEvent.objects.get(action=AuditEvent.Action.SEARCH).outcome == LookupOutcome.REFUSED


def test_the_api_refuses_unauthenticated_and_untrained_callers(child):
    assert APIClient().post("/api/v1/search/", {"nhs_number": "9434765919", "reason": "assessment"}).status_code in (
        401,
        403,
    )
    untrained = UserFactory(training_completed_on=None, roles=[Role.PRACTITIONER])
    client = APIClient()
    client.force_authenticate(untrained)
    response = client.post("/api/v1/search/", {"nhs_number": "9434765919", "reason": "assessment"}, format="json")
    assert response.status_code == 403
    assert "training" in response.json()["detail"]


def test_the_api_fails_closed_with_503_when_the_audit_cannot_be_written(api, child, monkeypatch):
    def broken(**kwargs):
        raise DatabaseError("audit table unavailable")

    monkeypatch.setattr("registry.lookups.services.audit_event_record", broken)
    response = api.post("/api/v1/search/", {"nhs_number": "9434765919", "reason": "assessment"}, format="json")
    assert response.status_code == 503
    assert "could not be recorded" in response.json()["detail"]


def test_the_openapi_schema_documents_the_search(client, practitioner):
    client.force_login(practitioner)
    schema = client.get("/api/v1/schema/", HTTP_ACCEPT="application/json").content.decode()
    assert "/api/v1/search/" in schema and "SearchRequest" in schema
    assert client.get("/api/v1/docs/").status_code == 200


# --- Anti-automation: one per-user limit for the page and the API ---------------------------


@pytest.fixture
def three_a_minute(settings):
    settings.SEARCH_THROTTLE_RATES = {"search_burst": "3/min", "search_sustained": "100/hour"}


def test_searching_over_the_limit_answers_429_explains_the_wait_and_is_audited(
    client, practitioner, child, three_a_minute
):
    client.force_login(practitioner)
    for _ in range(3):
        assert search(client, nhs_number="9434765919").status_code == 200
    response = search(client, nhs_number="9434765919")
    assert response.status_code == 429
    page = response.content.decode()
    assert "You have made too many searches" in page and "Victoria" not in page
    assert int(response["Retry-After"]) > 0
    throttled = AuditEvent.objects.filter(action=AuditEvent.Action.SEARCH).latest("id")
    assert throttled.outcome == LookupOutcome.REFUSED and throttled.details["refusal"].startswith("throttled")
    assert throttled.criteria == {"nhs_number": "9434765919"} and throttled.register_ids == []
    # Another practitioner is not held back by this one's searches.
    client.force_login(UserFactory(roles=[Role.PRACTITIONER]))
    assert search(client, nhs_number="9434765919").status_code == 200


def test_the_api_and_the_page_share_the_limit_and_the_api_answers_429_with_a_message(
    client, api, practitioner, child, three_a_minute
):
    client.force_login(practitioner)
    for _ in range(3):
        assert search(client, nhs_number="9434765919").status_code == 200
    response = api.post("/api/v1/search/", {"nhs_number": "9434765919", "reason": "assessment"}, format="json")
    assert response.status_code == 429
    assert "Too many searches" in response.json()["detail"] and int(response["Retry-After"]) > 0
    throttled = AuditEvent.objects.filter(action=AuditEvent.Action.SEARCH).latest("id")
    assert (throttled.channel, throttled.outcome) == ("api", LookupOutcome.REFUSED)


@pytest.mark.parametrize(
    ("boxes", "message"),
    [
        # Issue 14, item 5: 6/21/2024 typed the American way, month first into the day box.
        ({"dob_day": "6", "dob_month": "21", "dob_year": "2024"}, DATE_MONTH_FIRST),
        ({"dob_day": "6/21/2024"}, DATE_WHOLE_IN_ONE_BOX),
        ({"dob_day": "31", "dob_month": "2", "dob_year": "2016"}, "Date of birth must be a real date"),
    ],
)
def test_a_date_typed_month_first_or_in_one_box_gets_a_hint_not_just_not_a_real_date(
    client, practitioner, child, boxes, message
):
    client.force_login(practitioner)
    page = search(client, family_name="Adjo", **boxes).content.decode()
    summary = page.split('class="govuk-error-summary"')[1].split("</ul>")[0]
    assert message in summary
    assert (
        f'id="id_dob-error" class="govuk-error-message"><span class="govuk-visually-hidden">Error:</span> {message}'
        in page
    )
    assert only_search_event().outcome == LookupOutcome.REFUSED


def test_the_month_box_alone_is_marked_when_the_month_is_at_fault(client, practitioner):
    client.force_login(practitioner)
    page = search(client, family_name="Adjo", dob_day="6", dob_month="21", dob_year="2024").content.decode()
    boxes = {name: page.split(f'name="{name}"')[0].rsplit("<input", 1)[1] for name in ("dob_day", "dob_month")}
    assert "govuk-input--error" in boxes["dob_month"] and "govuk-input--error" not in boxes["dob_day"]
    # What was typed is kept in the boxes, to be corrected.
    assert 'name="dob_month" type="text" inputmode="numeric" value="21"' in page


def test_the_results_page_repeats_the_search_as_a_sentence(client, practitioner, child):
    client.force_login(practitioner)
    by_name = search(client, family_name="Adjo", given_names="Victoria", dob_day="2", dob_month="11", dob_year="2016")
    assert "You searched for\n      Victoria Adjo, born 2 November 2016." in by_name.content.decode()
    without_given = search(client, family_name="Adjo", dob_day="2", dob_month="11", dob_year="2016")
    assert "You searched for\n      Adjo, born 2 November 2016." in without_given.content.decode()
