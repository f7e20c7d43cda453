"""Giving way to searches (issue 16 item 1): between chunks an ingest pauses while
practitioners are searching, and never when nobody is. What is asserted is whether and how
long it asks to pause, not how long anything took."""

import datetime

import pytest
from django.core.cache import cache
from django.db import connection

from accounts.roles import Role
from audit.actor import Actor, Channel
from feeds import ingestion, pacing
from registry.lookups.activity import SEARCHING_KEY
from registry.lookups.services import LookupReasonGiven, search_perform
from registry.matching.selectors import SearchCriteria
from tests.factories import UserFactory
from tests.feeds.factories_feeds import death_row, deaths_file, ingest

pytestmark = pytest.mark.django_db


@pytest.fixture
def pauses(monkeypatch, settings):
    settings.FEEDS_CHUNK_SIZE = 1
    settings.FEEDS_INGEST_BUSY_SHARE = 0.5
    cache.delete(SEARCHING_KEY)
    asked: list[float] = []
    monkeypatch.setattr(pacing, "_sleep", asked.append)
    yield asked
    cache.delete(SEARCHING_KEY)


def _three_deaths() -> bytes:
    return deaths_file(*(death_row(entry_number=n, surname=f"Nobody{n}") for n in (1, 2, 3)))


def _practitioner_searches(westminster) -> None:
    practitioner = UserFactory(organisation__local_authority=westminster, roles=[Role.PRACTITIONER])
    search_perform(
        by=Actor(user=practitioner, channel=Channel.WEB),
        criteria=SearchCriteria(family_name="Oneil", date_of_birth=datetime.date(2019, 4, 12)),
        reason=LookupReasonGiven("new_concern"),
    )


def test_an_ingest_pauses_between_chunks_while_practitioners_search(westminster, pauses, settings):
    _practitioner_searches(westminster)
    feed_file = ingest(_three_deaths())
    assert feed_file.rows_done == 3 and feed_file.state == "done"
    assert len(pauses) == 3  # after each of the three one-row chunks
    assert all(0 < pause <= settings.FEEDS_INGEST_MAX_PAUSE_SECONDS for pause in pauses)


def test_an_ingest_never_pauses_when_nobody_is_searching(pauses):
    feed_file = ingest(_three_deaths())
    assert feed_file.rows_done == 3 and feed_file.state == "done"
    assert pauses == []


def test_a_busy_share_of_one_turns_pausing_off(westminster, pauses, settings):
    settings.FEEDS_INGEST_BUSY_SHARE = 1.0
    _practitioner_searches(westminster)
    ingest(_three_deaths())
    assert pauses == []


@pytest.mark.parametrize(
    ("share", "chunk_seconds", "expected"),
    [(0.5, 0.4, 0.4), (0.25, 0.4, 1.2), (0.5, 60.0, 5.0)],  # the last at the cap
)
def test_the_pause_leaves_searches_the_rest_of_the_time(westminster, pauses, settings, share, chunk_seconds, expected):
    settings.FEEDS_INGEST_BUSY_SHARE = share
    settings.FEEDS_INGEST_MAX_PAUSE_SECONDS = 5.0
    _practitioner_searches(westminster)
    assert pacing.pause_after_chunk(chunk_seconds=chunk_seconds) == pytest.approx(expected)
    cache.delete(SEARCHING_KEY)
    assert pacing.pause_after_chunk(chunk_seconds=chunk_seconds) == 0.0


def test_a_cache_that_is_down_neither_fails_a_search_nor_pauses_an_ingest(westminster, pauses, monkeypatch):
    def down(*args, **kwargs):
        raise ConnectionError("Error 111 connecting to 127.0.0.1:6379. Connection refused.")

    monkeypatch.setattr(cache, "set", down)
    monkeypatch.setattr(cache, "get", down)
    _practitioner_searches(westminster)  # no error
    ingest(_three_deaths())
    assert pauses == []


@pytest.mark.skipif(connection.vendor != "postgresql", reason="synchronous_commit is PostgreSQL's")
@pytest.mark.parametrize(("async_commit", "expected"), [(True, "off"), (False, "on")])
def test_a_chunk_commits_without_waiting_for_the_disk_when_asked(settings, monkeypatch, async_commit, expected):
    settings.FEEDS_CHUNK_ASYNC_COMMIT = async_commit
    seen: list[str] = []
    apply = ingestion._Applier.apply

    def spy(self, records):
        with connection.cursor() as cursor:
            cursor.execute("SHOW synchronous_commit")
            seen.append(cursor.fetchone()[0])
        return apply(self, records)

    monkeypatch.setattr(ingestion._Applier, "apply", spy)
    ingest(deaths_file(death_row()))
    assert seen == [expected]
