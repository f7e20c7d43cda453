"""Issue 14 item 14 in Chromium, against the demo data `make run` loads: the system
administrator's Django admin opens (not 403), as the README says, and the
README's example NHS number finds the demo child it names, a girl with a Westminster
postcode. Each page checked with axe (our pages) and at 320 px wide."""

import datetime
import re
from pathlib import Path

import pytest
from playwright.sync_api import Page, expect

from accounts.models import User
from registry.children.demo import seed_demo
from tests.browser.accessibility import assert_accessible, assert_reflows_at_320px
from tests.browser.session import sign_in_as

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

README = (Path(__file__).resolve().parents[2] / "README.md").read_text(encoding="utf-8")


def test_the_readme_admin_and_example_child_work_on_the_demo_data(live_server, page: Page):
    seed_demo(children=10, today=datetime.date(2026, 11, 23))
    nhs_number = re.search(r'"nhs_number": "([\d ]+)"', README).group(1)

    sign_in_as(page, live_server.url, User.objects.get(email="practitioner@demo.test"))
    page.goto(f"{live_server.url}/search/")
    page.get_by_label("NHS number").fill(nhs_number)
    page.get_by_label("Assessment").check()
    page.get_by_role("button", name="Search").click()
    results = page.locator("#results")
    expect(results).to_contain_text("Gail Ford")
    expect(results.locator("td[data-label='Sex']")).to_have_text("Female")
    expect(results.locator("td[data-label='Postcode area']")).to_have_text(
        re.compile(r"^(SW1|W1|W2|W9|NW1|NW6|NW8|WC2)")
    )
    assert_accessible(page)
    assert_reflows_at_320px(page)

    page.context.clear_cookies()
    sign_in_as(page, live_server.url, User.objects.get(email="admin@demo.test"))
    response = page.goto(f"{live_server.url}/django-admin/")
    assert response is not None and response.status == 200
    # Known gap (reported, not fixed here): the demo administrator's role carries no model
    # permissions, so the admin opens but says "You don't have permission to view or edit
    # anything".
    expect(page.locator("#content")).to_contain_text("Site administration")
