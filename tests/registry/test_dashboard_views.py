"""The dashboard pages: who sees which authority's figures, the lists behind them, the
national view with its suppression and export, and the two actions."""

import csv
import io

import pytest
from django.urls import reverse

from accounts.roles import Role
from audit.models import AuditEvent
from registry.models import DuplicatePair
from tests.factories import ChildFactory, UserFactory
from tests.registry.dashboard_data import known_register, lookups, make_stale, refresh, user_of

pytestmark = pytest.mark.django_db


@pytest.fixture
def register(westminster, birmingham):
    data = known_register(westminster, birmingham)
    lookups(data)
    refresh()
    return data


def signed_in(client, user):
    client.force_login(user)
    return client


def test_a_manager_sees_their_own_authoritys_figures(client, register):
    page = signed_in(client, register.manager).get(reverse("dashboard:authority"))
    assert page.status_code == 200
    html = page.content.decode()
    assert "Westminster City Council" in html
    assert 'id="figure-searches-returned">2<' in html
    assert 'id="figure-children">3<' in html


def test_a_manager_is_never_shown_another_authoritys_figures(client, register):
    client = signed_in(client, register.manager)
    assert client.get(reverse("dashboard:authority"), {"authority": "E08000025"}).status_code == 404
    assert client.get(reverse("dashboard:children", args=["E08000025", "no-lead"])).status_code == 404
    assert client.get(reverse("dashboard:duplicates", args=["E08000025"])).status_code == 404
    assert client.get(reverse("dashboard:stale-involvements", args=["E08000025"])).status_code == 404
    assert client.get(reverse("dashboard:removals-due", args=["E08000025"])).status_code == 404
    assert "Birmingham" not in client.get(reverse("dashboard:authority")).content.decode()


def test_an_authoritys_auditor_sees_it_with_links_to_the_audit_trail(client, register):
    auditor = user_of(register.westminster, Role.AUDITOR)
    page = signed_in(client, auditor).get(reverse("dashboard:authority"))
    assert page.status_code == 200
    assert "/audit/?local_authority=E09000033&amp;action=search" in page.content.decode()


def test_a_practitioner_has_no_dashboard(client, register):
    assert signed_in(client, register.practitioner).get(reverse("dashboard:authority")).status_code == 403


def test_a_system_administrator_chooses_any_authority(client, register):
    admin = UserFactory(roles=[Role.SYSTEM_ADMINISTRATOR])
    page = signed_in(client, admin).get(reverse("dashboard:authority"), {"authority": "E08000025"})
    assert page.status_code == 200
    assert '<option value="E09000033"' in page.content.decode()


def test_each_chart_has_its_data_as_a_table(client, register):
    html = signed_in(client, register.manager).get(reverse("dashboard:authority")).content.decode()
    assert html.count('<svg role="img"') == 3
    assert html.count("Show the data as a table") == 3
    assert "<script" not in html.split("<main", 1)[1].split("</main>", 1)[0]


def test_the_list_behind_a_figure_shows_its_children_only(client, register):
    client = signed_in(client, register.manager)
    html = client.get(reverse("dashboard:children", args=["E09000033", "no-nhs-number"])).content.decode()
    assert register.looked_after_child.register_id in html
    assert register.unborn_child.register_id in html
    assert register.cpp_child.register_id not in html
    html = client.get(reverse("dashboard:children", args=["E09000033", "status-looked-after-s31"])).content.decode()
    assert register.looked_after_child.register_id in html
    assert register.cpp_child.register_id not in html
    assert client.get(reverse("dashboard:children", args=["E09000033", "everyone"])).status_code == 404


def test_lists_name_children_by_register_id_only(client, register):
    html = (
        signed_in(client, register.manager)
        .get(reverse("dashboard:children", args=["E09000033", "status-cpp"]))
        .content.decode()
    )
    assert "Quarrendon" not in html


def test_a_manager_confirms_a_stale_involvement_from_the_list(client, register):
    involvement = register.cpp_child.involvements.get()
    make_stale(involvement)
    client = signed_in(client, register.manager)
    listing = reverse("dashboard:stale-involvements", args=["E09000033"])
    assert register.cpp_child.register_id in client.get(listing).content.decode()
    response = client.post(reverse("dashboard:involvement-confirm", args=[involvement.pk]), {"next": listing})
    assert response.status_code == 302 and response["Location"] == listing
    assert register.cpp_child.register_id not in client.get(listing).content.decode()
    event = AuditEvent.objects.get(action=AuditEvent.Action.INVOLVEMENT_CONFIRMED)
    assert event.register_ids == [register.cpp_child.register_id]


def test_the_practitioner_confirms_their_own_involvement(client, register):
    involvement = register.cpp_child.involvements.get()
    response = signed_in(client, register.practitioner).post(
        reverse("dashboard:involvement-confirm", args=[involvement.pk])
    )
    assert response.status_code == 302
    involvement.refresh_from_db()
    assert involvement.confirmed_at is not None


def test_nobody_else_confirms_an_involvement(client, register):
    involvement = register.cpp_child.involvements.get()
    for outsider in (user_of(register.birmingham, Role.REGISTER_MANAGER), register.visitor):
        response = signed_in(client, outsider).post(reverse("dashboard:involvement-confirm", args=[involvement.pk]))
        assert response.status_code == 404
    involvement.refresh_from_db()
    assert involvement.confirmed_at is None


def test_a_manager_resolves_a_likely_duplicate_as_two_children(client, register):
    ChildFactory(
        responsible_local_authority=register.westminster, nhs_number=None, given_names="Ottoline",
        family_name="Quarrendon", date_of_birth=register.cpp_child.date_of_birth,
    )  # fmt: skip
    refresh()
    pair = DuplicatePair.objects.get()
    outsider = signed_in(client, user_of(register.birmingham, Role.REGISTER_MANAGER))
    assert outsider.post(reverse("dashboard:duplicate-dismiss", args=[pair.pk])).status_code == 404
    client = signed_in(client, register.manager)
    listing = reverse("dashboard:duplicates", args=["E09000033"])
    assert register.cpp_child.register_id in client.get(listing).content.decode()
    assert client.post(reverse("dashboard:duplicate-dismiss", args=[pair.pk])).status_code == 302
    assert register.cpp_child.register_id not in client.get(listing).content.decode()


def test_the_national_view_is_for_system_administrators_and_national_auditors(client, register):
    assert signed_in(client, register.manager).get(reverse("dashboard:national")).status_code == 403
    local_auditor = user_of(register.westminster, Role.AUDITOR)
    assert signed_in(client, local_auditor).get(reverse("dashboard:national")).status_code == 403
    assert signed_in(client, local_auditor).get(reverse("dashboard:national-export")).status_code == 403
    national_auditor = UserFactory(organisation=None, roles=[Role.AUDITOR])
    assert signed_in(client, national_auditor).get(reverse("dashboard:national")).status_code == 200


def test_the_national_view_and_export_suppress_small_counts(client, register):
    admin = UserFactory(roles=[Role.SYSTEM_ADMINISTRATOR])
    client = signed_in(client, admin)
    html = client.get(reverse("dashboard:national")).content.decode()
    assert "fewer than 5" in html
    export = client.get(reverse("dashboard:national-export"))
    assert export["Content-Type"].startswith("text/csv")
    rows = list(csv.reader(io.StringIO(export.content.decode())))
    westminster = next(row for row in rows if row[1] == "E09000033")
    children_column = rows[0].index("Children on the register")
    assert westminster[children_column] == "[c]"
    assert "3" not in westminster[2:]
