from django.urls import URLPattern, URLResolver, path, re_path

from audit import views
from audit.forms import REGISTER_ID_SHAPE

app_name = "audit"

# Identifiers only in URLs: a register ID, a user's numeric id, a flag's id.
urlpatterns: list[URLPattern | URLResolver] = [
    path("", views.events, name="events"),
    path("export/", views.export, name="export"),
    path("users/find/", views.user_find, name="user_find"),
    path("users/<int:user_id>/", views.user_activity, name="user"),
    path("children/find/", views.child_find, name="child_find"),
    re_path(rf"^children/(?P<register_id>{REGISTER_ID_SHAPE})/$", views.child_history, name="child"),
    path("flags/", views.flags, name="flags"),
    path("flags/<int:flag_id>/", views.flag_detail, name="flag"),
    path("flags/users/<int:user_id>/<str:day>/", views.flag_group, name="flag_group"),
]
