from django.test import RequestFactory

from audit.services import _client_ip


def test_without_trusted_proxies_the_connecting_address_is_recorded(settings):
    settings.TRUSTED_PROXY_COUNT = 0
    request = RequestFactory().get("/", REMOTE_ADDR="10.0.0.5", HTTP_X_FORWARDED_FOR="203.0.113.9")
    assert _client_ip(request) == "10.0.0.5"


def test_behind_one_proxy_the_address_it_saw_is_recorded_not_a_forged_one(settings):
    settings.TRUSTED_PROXY_COUNT = 1
    request = RequestFactory().get("/", REMOTE_ADDR="10.0.0.5", HTTP_X_FORWARDED_FOR="1.2.3.4, 198.51.100.7")
    assert _client_ip(request) == "198.51.100.7"


def test_garbage_is_not_recorded_as_an_address(settings):
    settings.TRUSTED_PROXY_COUNT = 1
    request = RequestFactory().get("/", REMOTE_ADDR="10.0.0.5", HTTP_X_FORWARDED_FOR="not-an-ip")
    assert _client_ip(request) is None
