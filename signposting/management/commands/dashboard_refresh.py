"""Bring the dashboard's summary tables up to date now, as beat does every five minutes:
the register's figures (registry.dashboard.refresh) and the feed figures
(feeds.dashboard). For `make run`, so that the demo's dashboard has figures at once, and
for an operator after a restore. In the project layer because it uses both apps."""

from typing import Any

from django.core.management.base import BaseCommand

from feeds.dashboard import feed_figures_refresh
from registry.dashboard.refresh import dashboard_refresh


class Command(BaseCommand):
    help = "Count the dashboard's figures now (beat does this every five minutes)."

    def handle(self, *args: Any, **options: Any) -> None:
        report = dashboard_refresh()
        feed_figures_refresh()
        self.stdout.write(
            f"Dashboard figures counted ({report.children_checked_for_duplicates} children checked for duplicates)."
        )
