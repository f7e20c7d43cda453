from django.urls import path
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerSplitView

from registry.intake.api import BatchUpsertView, ChildUpsertView, InvolvementUpsertView, StatusUpsertView
from registry.lookups.api import SearchView

app_name = "api"

urlpatterns = [
    path("search/", SearchView.as_view(), name="search"),
    # Case-management systems (registry.intake.api): children by the authority's own reference.
    path("cms/batch/", BatchUpsertView.as_view(), name="cms-children-batch"),
    path("cms/children/<str:la_reference>/", ChildUpsertView.as_view(), name="cms-child"),
    path("cms/children/<str:la_reference>/statuses/", StatusUpsertView.as_view(), name="cms-child-status"),
    path(
        "cms/children/<str:la_reference>/involvements/", InvolvementUpsertView.as_view(), name="cms-child-involvement"
    ),
    path("schema/", SpectacularAPIView.as_view(), name="schema"),
    # The split view serves Swagger UI's start-up script as a file: no inline script for the CSP.
    path("docs/", SpectacularSwaggerSplitView.as_view(url_name="api:schema"), name="docs"),
]
