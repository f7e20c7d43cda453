"""An auditor scoped to one authority sees events by that authority's users or about its
children, and answers 404 for another authority's children, users and flags."""

import datetime

import pytest
from django.urls import reverse

from audit.models import AnomalyFlag
from audit.selectors import AuditQuery, audit_events_find, auditor_scope
from audit.services_anomalies import anomalies_scan
from tests.audit.factories_audit import (
    authority_auditor,
    national_auditor,
    practitioner_of,
    view_recorded,
)
from tests.factories import ChildFactory

pytestmark = pytest.mark.django_db

WEEKDAY = datetime.datetime(2026, 11, 23, 10, tzinfo=datetime.UTC)


@pytest.fixture
def trail(westminster, birmingham):
    westminster_worker = practitioner_of(westminster, full_name="Wendy Westminster")
    birmingham_worker = practitioner_of(birmingham, full_name="Bob Birmingham")
    westminster_child = ChildFactory(responsible_local_authority=westminster)
    birmingham_child = ChildFactory(responsible_local_authority=birmingham)
    return {
        "by_westminster_user": view_recorded(westminster_worker, birmingham_child, at=WEEKDAY),
        "about_westminster_child": view_recorded(birmingham_worker, westminster_child, at=WEEKDAY),
        "birmingham_only": view_recorded(birmingham_worker, birmingham_child, reason="emergency", at=WEEKDAY),
        "westminster_child": westminster_child,
        "birmingham_child": birmingham_child,
        "birmingham_worker": birmingham_worker,
        "westminster_worker": westminster_worker,
    }


def test_an_authority_auditor_sees_its_users_and_its_children_only(trail, westminster):
    scope = auditor_scope(user=authority_auditor(westminster))
    assert scope is not None and not scope.national
    seen = set(audit_events_find(scope=scope, query=AuditQuery()).values_list("pk", flat=True))
    assert trail["by_westminster_user"].pk in seen
    assert trail["about_westminster_child"].pk in seen
    assert trail["birmingham_only"].pk not in seen


def test_a_national_auditor_sees_everything(trail):
    scope = auditor_scope(user=national_auditor())
    assert scope is not None and scope.national
    seen = set(audit_events_find(scope=scope, query=AuditQuery()).values_list("pk", flat=True))
    assert {trail["by_westminster_user"].pk, trail["birmingham_only"].pk} <= seen


def test_another_authoritys_child_user_and_flag_answer_404(client, trail, westminster):
    anomalies_scan()
    flag = AnomalyFlag.objects.get(event=trail["birmingham_only"], rule="emergency_reason")
    client.force_login(authority_auditor(westminster))
    assert client.get(reverse("audit:child", args=[trail["westminster_child"].register_id])).status_code == 200
    assert client.get(reverse("audit:child", args=[trail["birmingham_child"].register_id])).status_code == 404
    assert client.get(reverse("audit:user", args=[trail["westminster_worker"].pk])).status_code == 200
    assert client.get(reverse("audit:user", args=[trail["birmingham_worker"].pk])).status_code == 404
    assert client.get(reverse("audit:events"), {"user": trail["birmingham_worker"].pk}).status_code == 404
    assert client.get(reverse("audit:flag", args=[flag.pk])).status_code == 404


def test_a_scoped_export_leaves_out_other_authorities(client, trail, westminster):
    import io
    import json
    import zipfile

    client.force_login(authority_auditor(westminster))
    response = client.get(reverse("audit:export"), {"action": "child_viewed", "format": "json"})
    bundle = zipfile.ZipFile(io.BytesIO(response.content))
    ids = {row["id"] for row in json.loads(bundle.read("audit-events.json"))}
    assert ids == {trail["by_westminster_user"].pk, trail["about_westminster_child"].pk}
    assert json.loads(bundle.read("manifest.json"))["scope"] == [westminster.gss_code]
