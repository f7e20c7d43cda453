"""Start a browser already signed in, for journeys that are not about signing in.

The session is made by Django's test client (`force_login`, which the test suite treats as
a fully signed-in user, second factor included) and handed to Playwright as its cookie."""

from django.conf import settings
from django.test import Client
from playwright.sync_api import Page

from accounts.models import User


def sign_in_as(page: Page, base_url: str, user: User) -> None:
    client = Client()
    client.force_login(user)
    cookie = client.cookies[settings.SESSION_COOKIE_NAME]
    page.context.add_cookies([{"name": settings.SESSION_COOKIE_NAME, "value": cookie.value, "url": base_url}])
