"""The dashboard pages: who sees which authority's figures, the lists behind them, the
national view with its suppression and export, and the two actions."""

import csv
import datetime
import io
import re

import pytest
from django.urls import reverse
from django.utils import timezone

from accounts.roles import Role
from audit.models import AuditEvent
from registry.models import ChildTransfer, DuplicatePair, RemovalReceipt, RemovalRule
from tests.factories import ChildFactory, UserFactory
from tests.registry.dashboard_data import known_register, lookups, make_stale, match_notifications, refresh, user_of
from tests.registry.dashboard_feeds import feed_match

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
    assert re.search(r'id="figure-children"><a [^>]*>3<', html)


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


# --- A list behind every figure, scoped like every other page --------------------------------


def test_every_figure_of_the_register_and_data_quality_links_to_its_list(client, register):
    html = signed_in(client, register.manager).get(reverse("dashboard:authority")).content.decode()
    for figure in ("children", "joiners", "leavers", "match-notifications", "feed-applied", "feed-waiting",
                   "feed-rejected", "no-lead", "no-postcode", "duplicate-pairs", "legal-holds"):  # fmt: skip
        assert re.search(rf'id="figure-{figure}"><a class="govuk-link" href="/(dashboard|feeds)/', html), figure


def test_the_list_of_all_children_is_the_authoritys_own(client, register):
    html = (
        signed_in(client, register.manager)
        .get(reverse("dashboard:children", args=["E09000033", "all"]))
        .content.decode()
    )
    for child in (register.cpp_child, register.looked_after_child, register.unborn_child):
        assert child.register_id in html
    assert register.birmingham_child.register_id not in html
    assert "(3 children)" in html


@pytest.fixture
def moved(register):
    """A Birmingham child transferred to Westminster, a Westminster child removed, and a
    Birmingham child removed: who joined and who left each authority."""
    ChildTransfer.objects.create(
        child=register.birmingham_child, from_local_authority=register.birmingham,
        to_local_authority=register.westminster, transferred_on=timezone.localdate(),
        transferred_by=register.manager,
    )  # fmt: skip
    RemovalReceipt.objects.create(
        register_id="WWWW-WWWW-WWWW", responsible_local_authority=register.westminster,
        rule=RemovalRule.EIGHTEENTH_BIRTHDAY, removed_at=timezone.now(),
    )  # fmt: skip
    RemovalReceipt.objects.create(
        register_id="BBBB-BBBB-BBBB", responsible_local_authority=register.birmingham,
        rule=RemovalRule.DEATH, removed_at=timezone.now(),
    )  # fmt: skip
    old = ChildFactory(responsible_local_authority=register.westminster)
    type(old).objects.filter(pk=old.pk).update(created_at=timezone.now() - datetime.timedelta(days=400))
    return old


def test_joiners_list_the_children_added_and_transferred_in(client, register, moved):
    client = signed_in(client, register.manager)
    html = client.get(reverse("dashboard:movements", args=["E09000033", "joiners"])).content.decode()
    for child in (register.cpp_child, register.looked_after_child, register.unborn_child):
        assert child.register_id in html
    assert register.birmingham_child.register_id in html
    assert "Transferred in: Birmingham City Council" in html
    assert moved.register_id not in html  # added more than 12 months ago
    assert "WWWW-WWWW-WWWW" not in html


def test_leavers_list_removals_and_transfers_out_of_this_authority_only(client, register, moved):
    client = signed_in(client, register.manager)
    html = client.get(reverse("dashboard:movements", args=["E09000033", "leavers"])).content.decode()
    assert "WWWW-WWWW-WWWW" in html
    assert "Reached their 18th birthday" in html
    assert "BBBB-BBBB-BBBB" not in html
    assert register.birmingham_child.register_id not in html  # it joined Westminster
    birmingham_manager = signed_in(client, user_of(register.birmingham, Role.REGISTER_MANAGER))
    html = birmingham_manager.get(reverse("dashboard:movements", args=["E08000025", "leavers"])).content.decode()
    assert "BBBB-BBBB-BBBB" in html
    assert register.birmingham_child.register_id in html
    assert "Transferred out: Westminster City Council" in html
    assert "WWWW-WWWW-WWWW" not in html


def test_match_notifications_list_the_authoritys_children_only(client, register):
    match_notifications(register.cpp_child, 2)
    match_notifications(register.birmingham_child, 1)
    html = (
        signed_in(client, register.manager)
        .get(reverse("dashboard:match-notifications", args=["E09000033"]))
        .content.decode()
    )
    assert html.count(register.cpp_child.register_id) == 2
    assert register.birmingham_child.register_id not in html


def test_feed_outcome_lists_show_the_authoritys_matches_in_that_state(client, register):
    feed_match(register.cpp_child, state="applied")
    feed_match(register.looked_after_child, state="confirmed")
    waiting = feed_match(register.unborn_child, state="pending")
    feed_match(register.birmingham_child, state="applied")
    client = signed_in(client, register.manager)
    applied = client.get(reverse("feeds:dashboard-matches", args=["E09000033", "applied"])).content.decode()
    assert register.cpp_child.register_id in applied
    assert register.looked_after_child.register_id in applied
    assert register.unborn_child.register_id not in applied
    assert register.birmingham_child.register_id not in applied
    pending = client.get(reverse("feeds:dashboard-matches", args=["E09000033", "waiting"])).content.decode()
    assert register.unborn_child.register_id in pending
    assert reverse("feeds:review-item", args=[waiting.pk]) in pending  # a manager reviews it from here
    rejected = client.get(reverse("feeds:dashboard-matches", args=["E09000033", "rejected"])).content.decode()
    assert "None." in rejected


def test_another_authoritys_lists_answer_404(client, register, moved):
    client = signed_in(client, register.manager)
    for url in (
        reverse("dashboard:children", args=["E08000025", "all"]),
        reverse("dashboard:movements", args=["E08000025", "joiners"]),
        reverse("dashboard:movements", args=["E08000025", "leavers"]),
        reverse("dashboard:match-notifications", args=["E08000025"]),
        reverse("feeds:dashboard-matches", args=["E08000025", "applied"]),
        reverse("feeds:dashboard-matches", args=["E08000025", "waiting"]),
        reverse("feeds:dashboard-matches", args=["E08000025", "rejected"]),
    ):
        assert client.get(url).status_code == 404, url
    practitioner = signed_in(client, register.practitioner)
    assert practitioner.get(reverse("feeds:dashboard-matches", args=["E09000033", "applied"])).status_code == 404
