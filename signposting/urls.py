from django.contrib import admin
from django.urls import include, path
from django.views.generic import RedirectView

from signposting import info_pages
from signposting.views import home

urlpatterns = [
    path("", home, name="home"),
    # Published pages anyone may read without signing in (signposting/info_pages.py).
    path("accessibility/", info_pages.accessibility_statement, name="accessibility"),
    path("privacy/", info_pages.privacy_notice, name="privacy"),
    path("cookies/", info_pages.cookies, name="cookies"),
    path("", include("accounts.urls")),
    path("", include("registry.urls")),
    path("audit/", include("audit.urls")),
    path("feeds/", include("feeds.urls")),
    path("dashboard/", include("registry.dashboard.urls")),
    path("api/v1/", include("signposting.api_urls")),
    path("health/", include("signposting.health_checks")),
    # One sign-in page for everyone: the admin's own login form is not offered.
    path("django-admin/login/", RedirectView.as_view(pattern_name="accounts:login", query_string=True)),
    path("django-admin/", admin.site.urls),
]
