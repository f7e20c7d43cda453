from django.urls import URLPattern, URLResolver, path, re_path

from feeds import views

app_name = "feeds"

urlpatterns: list[URLPattern | URLResolver] = [
    path("", views.feed_files, name="files"),
    path("files/<uuid:feed_file_id>/", views.feed_file_detail, name="file"),
    path("files/<uuid:feed_file_id>/progress.json", views.feed_file_progress_json, name="file-progress"),
    path("files/<uuid:feed_file_id>/stop/", views.feed_file_stop, name="file-stop"),
    # Only a GSS code in the URL: never a name or a date of birth.
    re_path(
        r"^dashboard/(?P<gss_code>E[0-9]{8})/(?P<outcome>applied|waiting|rejected)/$",
        views.dashboard_feed_matches,
        name="dashboard-matches",
    ),
    path("review/", views.review_list, name="review"),
    path("review/<int:match_id>/", views.review_decide, name="review-item"),
]
