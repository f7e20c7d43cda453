"""The published pages need no sign-in: the login-required middleware lets them through."""

import pytest
from django.test import Client

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize(
    ("path", "heading"),
    [("/accessibility/", "Accessibility statement"), ("/privacy/", "Privacy notice"), ("/cookies/", "Cookies")],
)
def test_published_pages_are_served_to_someone_signed_out(path: str, heading: str):
    response = Client().get(path)
    assert response.status_code == 200
    assert heading in response.content.decode()


def test_every_page_footer_links_to_the_published_pages():
    page = Client().get("/sign-in/").content.decode()
    for path in ("/accessibility/", "/privacy/", "/cookies/"):
        assert f'href="{path}"' in page


def test_a_page_that_is_not_published_still_needs_sign_in():
    assert Client().get("/search/").status_code == 302
