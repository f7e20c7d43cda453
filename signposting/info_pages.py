"""The pages a UK public-sector service must publish: the accessibility statement, the
privacy notice and the cookies page. Anyone may read them without signing in (the
Public Sector Bodies Accessibility Regulations 2018 and UK GDPR Art 13 expect them to be
available before someone uses the service), so each is marked @login_not_required."""

from django.conf import settings
from django.contrib.auth.decorators import login_not_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.views.decorators.http import require_safe

from accounts.middleware import two_factor_not_required


@require_safe
@login_not_required
@two_factor_not_required
def accessibility_statement(request: HttpRequest) -> HttpResponse:
    return render(request, "info/accessibility.html")


@require_safe
@login_not_required
@two_factor_not_required
def privacy_notice(request: HttpRequest) -> HttpResponse:
    context = {
        "months_after_plan_end": settings.REGISTER_RETENTION_MONTHS_AFTER_PLAN_END,
        "maximum_age": settings.REGISTER_MAXIMUM_AGE_YEARS,
        "months_after_death": settings.REMOVAL_MONTHS_AFTER_DEATH,
    }
    return render(request, "info/privacy.html", context)


@require_safe
@login_not_required
@two_factor_not_required
def cookies(request: HttpRequest) -> HttpResponse:
    context = {
        "session_cookie": settings.SESSION_COOKIE_NAME,
        "csrf_cookie": settings.CSRF_COOKIE_NAME,
        "session_hours": settings.SESSION_COOKIE_AGE // 3600,
    }
    return render(request, "info/cookies.html", context)
