from django.apps import AppConfig


class FeedsConfig(AppConfig):
    """General Register Office birth and death feeds (docs/feeds.md)."""

    name = "feeds"
    verbose_name = "GRO registration feeds"
