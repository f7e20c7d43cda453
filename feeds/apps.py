from django.apps import AppConfig


class FeedsConfig(AppConfig):
    """General Register Office birth and death feeds (issue 5). No models yet."""

    name = "feeds"
    verbose_name = "GRO registration feeds"
