from django.urls import path, re_path

from registry.dashboard import views

app_name = "dashboard"

# Only GSS codes and numeric ids in URLs: never a name, date of birth or NHS number.
AUTHORITY = r"^(?P<gss_code>E[0-9]{8})/"

urlpatterns = [
    path("", views.authority_dashboard, name="authority"),
    path("national/", views.national_dashboard, name="national"),
    path("national/export.csv", views.national_export, name="national-export"),
    re_path(rf"{AUTHORITY}children/(?P<listing>[a-z0-9-]+)/$", views.children_list, name="children"),
    re_path(rf"{AUTHORITY}(?P<direction>joiners|leavers)/$", views.movements_list, name="movements"),
    re_path(rf"{AUTHORITY}match-notifications/$", views.match_notifications_list, name="match-notifications"),
    re_path(rf"{AUTHORITY}removals-due/$", views.removals_due_list, name="removals-due"),
    re_path(rf"{AUTHORITY}stale-involvements/$", views.stale_involvements_list, name="stale-involvements"),
    re_path(rf"{AUTHORITY}duplicates/$", views.duplicates_list, name="duplicates"),
    path("involvements/<int:involvement_id>/confirm/", views.involvement_confirm_view, name="involvement-confirm"),
    path("duplicates/<int:pair_id>/dismiss/", views.duplicate_dismiss_view, name="duplicate-dismiss"),
]
