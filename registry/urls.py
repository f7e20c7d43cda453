from django.urls import path, re_path

from registry import views
from registry.identifiers import REGISTER_ID_PATTERN

app_name = "registry"

# Only the random register ID ever appears in a URL: never a name, date or NHS number.
CHILD = rf"^children/(?P<register_id>{REGISTER_ID_PATTERN})/"

urlpatterns = [
    path("search/", views.search, name="search"),
    path("notifications/", views.notifications, name="notifications"),
    re_path(rf"{CHILD}$", views.child_detail, name="child"),
    re_path(rf"{CHILD}working-with/$", views.involvement_start, name="involvement-start"),
    re_path(rf"{CHILD}working-with/end/$", views.involvement_end, name="involvement-end"),
]
