"""Paths in the request log: case-management references and register IDs stay out (item 18)."""

import logging

import pytest
from rest_framework.test import APIClient

from tests.factories import UserFactory

pytestmark = pytest.mark.django_db


def test_a_4xx_on_a_case_management_path_logs_the_url_pattern_not_the_reference(caplog):
    with caplog.at_level(logging.WARNING, logger="django.request"):
        response = APIClient().put("/api/v1/cms/children/WCC-SECRET-4471/", {}, format="json")
    assert response.status_code in (401, 403)
    assert "WCC-SECRET-4471" not in caplog.text
    assert "/api/v1/cms/children/<str:la_reference>/" in caplog.text


def test_a_404_on_a_path_that_matches_nothing_withholds_the_path(client, caplog):
    client.force_login(UserFactory())
    with caplog.at_level(logging.WARNING, logger="django.request"):
        response = client.get("/no-such-page/RG-SECRET-9/")
    assert response.status_code == 404
    assert "RG-SECRET-9" not in caplog.text
    assert "(path withheld)" in caplog.text
