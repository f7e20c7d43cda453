"""Beat's dashboard job: keep the summary tables current (registry.dashboard.refresh)."""

from celery import shared_task

from registry.dashboard.refresh import dashboard_refresh as _dashboard_refresh


@shared_task(acks_late=True, soft_time_limit=1800, time_limit=1900)
def dashboard_refresh() -> dict[str, int]:
    """Count what happened since the last run and recount the register. Safe to run twice
    and concurrently (the bookmarks are locked row by row)."""
    report = _dashboard_refresh()
    return {**report.ids_passed, "duplicates_checked": report.children_checked_for_duplicates}
