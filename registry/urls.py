from django.urls import path, re_path

from registry.identity import REGISTER_ID_PATTERN
from registry.intake import views as upload_views
from registry.lookups import views
from registry.maintenance import views as maintenance_views
from registry.removal import views as removal_views

app_name = "registry"

# Only the random register ID ever appears in a URL: never a name, date or NHS number.
CHILD = rf"^children/(?P<register_id>{REGISTER_ID_PATTERN})/"
MANAGE_CHILD = rf"^manage/children/(?P<register_id>{REGISTER_ID_PATTERN})/"

urlpatterns = [
    path("search/", views.search, name="search"),
    path("search/results/", views.search_results, name="search-results"),
    path("search/unborn/", views.search_unborn, name="search-unborn"),
    path("notifications/", views.notifications, name="notifications"),
    re_path(rf"{CHILD}$", views.child_detail, name="child"),
    re_path(rf"{CHILD}working-with/$", views.involvement_start, name="involvement-start"),
    re_path(rf"{CHILD}working-with/end/$", views.involvement_end, name="involvement-end"),
    # Register maintenance by the responsible authority's register managers (issue 4, docs/maintenance.md).
    path("manage/children/", maintenance_views.children, name="manage-children"),
    path("manage/children/add/", maintenance_views.child_add, name="manage-child-add"),
    re_path(rf"{MANAGE_CHILD}$", maintenance_views.child_manage, name="manage-child"),
    re_path(rf"{MANAGE_CHILD}identity/$", maintenance_views.child_identity, name="manage-identity"),
    re_path(rf"{MANAGE_CHILD}shielding/$", maintenance_views.child_shielding, name="manage-shielding"),
    re_path(rf"{MANAGE_CHILD}other-names/add/$", maintenance_views.other_name_add, name="manage-other-name-add"),
    re_path(
        rf"{MANAGE_CHILD}other-names/(?P<other_name_id>[0-9]+)/remove/$",
        maintenance_views.other_name_remove,
        name="manage-other-name-remove",
    ),
    re_path(rf"{MANAGE_CHILD}statuses/add/$", maintenance_views.status_add, name="manage-status-add"),
    re_path(
        rf"{MANAGE_CHILD}statuses/(?P<status_id>[0-9]+)/end/$", maintenance_views.status_end, name="manage-status-end"
    ),
    re_path(rf"{MANAGE_CHILD}involvements/add/$", maintenance_views.involvement_add, name="manage-involvement-add"),
    re_path(
        rf"{MANAGE_CHILD}involvements/(?P<involvement_id>[0-9]+)/end/$",
        maintenance_views.involvement_end,
        name="manage-involvement-end",
    ),
    re_path(rf"{MANAGE_CHILD}transfer/$", maintenance_views.child_transfer, name="manage-transfer"),
    # Bulk upload of the import file by register managers (issue 4, registry/intake/services.py).
    path("uploads/", upload_views.upload_list, name="uploads"),
    path("uploads/new/", upload_views.upload_new, name="upload-new"),
    path("uploads/<uuid:upload_id>/", upload_views.upload_detail, name="upload"),
    path("uploads/<uuid:upload_id>/status/", upload_views.upload_status, name="upload-status"),
    path("uploads/<uuid:upload_id>/report.csv", upload_views.upload_report, name="upload-report"),
    # Removal and legal holds (issue 6, docs/removal.md).
    re_path(rf"{CHILD}remove/$", removal_views.child_remove, name="child-remove"),
    path("removal/due/", removal_views.due_list, name="removal-due"),
    path("removal/dry-run/", removal_views.dry_run, name="removal-dry-run"),
    path("removal/receipts/", removal_views.receipt_list, name="removal-receipts"),
    re_path(
        rf"^removal/receipts/(?P<register_id>{REGISTER_ID_PATTERN})/$",
        removal_views.receipt_detail,
        name="removal-receipt",
    ),
    path("removal/legal-holds/", removal_views.legal_holds, name="legal-holds"),
    path("removal/legal-holds/new/", removal_views.legal_hold_new, name="legal-hold-new"),
    path("removal/legal-holds/<int:hold_id>/lift/", removal_views.legal_hold_lift_view, name="legal-hold-lift"),
]
