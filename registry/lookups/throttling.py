"""Anti-automation for search: one limit per user shared by the search page and the API
(ASVS V2.2.1, V11.1.4). Counted in the shared cache (Redis in production), so every web
process sees the same count. A throttled attempt is refused with 429 and audited."""

import math

from django.conf import settings
from django.http import HttpRequest
from rest_framework.request import Request
from rest_framework.throttling import UserRateThrottle
from rest_framework.views import APIView


class _SearchThrottle(UserRateThrottle):
    """DRF's per-user throttle, reading its rate from SEARCH_THROTTLE_RATES when asked
    (DRF's own rates are fixed at import, which settings overrides in tests cannot reach)."""

    def get_rate(self) -> str | None:
        rates: dict[str, str] = settings.SEARCH_THROTTLE_RATES
        return rates[str(self.scope)]


class SearchBurstThrottle(_SearchThrottle):
    scope = "search_burst"


class SearchSustainedThrottle(_SearchThrottle):
    scope = "search_sustained"


SEARCH_THROTTLES = (SearchBurstThrottle, SearchSustainedThrottle)


def search_throttle_wait(*, request: HttpRequest) -> int | None:
    """Count this search against the user's limits; None if it may go ahead, else the
    seconds to wait. For the search page: the API's view applies the same classes."""
    # The throttles read only the (already signed-in) user from a DRF request.
    drf_request = Request(request)
    drf_request.user = request.user
    waits = []
    for throttle_class in SEARCH_THROTTLES:
        throttle = throttle_class()
        if not throttle.allow_request(drf_request, APIView()):
            waits.append(throttle.wait() or 1)
    return math.ceil(max(waits)) if waits else None
