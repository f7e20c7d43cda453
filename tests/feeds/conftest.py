import pytest


@pytest.fixture(autouse=True)
def _feed_folders(settings, tmp_path):
    """Each test has its own store and inbox, so no test sees another's files."""
    settings.FEEDS_STORE_DIR = tmp_path / "store"
    settings.FEEDS_INBOX_DIR = tmp_path / "inbox"
    settings.FEEDS_INBOX_DIR.mkdir()
    return settings
