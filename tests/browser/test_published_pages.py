"""Issue 14 item 13: the footer links to the accessibility statement, the privacy notice and
the cookies page, and anyone can read them without signing in."""

import pytest
from playwright.sync_api import Page, expect

from tests.browser.accessibility import assert_accessible, assert_reflows_at_320px

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_the_footer_pages_are_readable_without_signing_in(live_server, page: Page):
    page.goto(f"{live_server.url}/sign-in/")
    footer = page.locator("footer")

    footer.get_by_role("link", name="Accessibility statement").click()
    expect(page.get_by_role("heading", name="Accessibility statement", exact=False).first).to_be_visible()
    expect(page.locator("main")).to_contain_text("Equality and Human Rights Commission")
    assert page.url.endswith("/accessibility/")
    assert_accessible(page)

    page.locator("footer").get_by_role("link", name="Privacy notice").click()
    expect(page.get_by_role("heading", name="Privacy notice")).to_be_visible()
    main = page.locator("main")
    for text in ("Children Act 2004", "Article 6(1)(e)", "Article 9(2)(g)", "Schedule 1", "12 months", "How to ask"):
        expect(main).to_contain_text(text)
    assert_accessible(page)

    page.locator("footer").get_by_role("link", name="Cookies").click()
    expect(page.get_by_role("heading", name="Cookies", exact=True)).to_be_visible()
    cookies = page.locator("#cookies")
    expect(cookies).to_contain_text("sessionid")
    expect(cookies).to_contain_text("csrftoken")
    assert_accessible(page)
    assert_reflows_at_320px(page)
    # Still signed out: nothing sent us to the sign-in page.
    assert page.url.endswith("/cookies/")
