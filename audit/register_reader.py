"""What the audit app may ask the register, without importing it.

The trail watches the register, so it must not depend on it: every app writes through the
trail, and the trail must still stand when a child's record is erased. Yet three things an
auditor needs are about the register's children: the anomaly rules compare a looked-up
child's family name and postcode with the user's own and ask whether the user ever
recorded working with the child; a scoped auditor may open the history of a child their
authority is responsible for; and an auditor may find a child by name and date of birth.

The register answers through this small interface. `registry` supplies it when Django
starts (RegistryConfig.ready calls register_reader_install), so the arrow points from
the register to the trail. Only register IDs, authority codes and the few values a rule
compares cross it; the trail itself still stores children by register ID only.
"""

import datetime
from dataclasses import dataclass
from typing import Protocol


@dataclass(frozen=True)
class FoundChild:
    """A child an auditor's finder matched: enough to confirm the match and open the
    child's access history, nothing more."""

    register_id: str
    given_names: str
    family_name: str
    date_of_birth: datetime.date | None
    local_authority_code: str  # the responsible authority now, for the auditor's scope
    grade: str  # how well the child matched ("exact", "likely", "possible")


@dataclass(frozen=True)
class FoundChildren:
    children: list[FoundChild]  # best first; empty when too_many
    too_many: bool  # more matched than may be shown: the auditor must narrow the search


class RegisterReader(Protocol):
    def name_normalise(self, value: str) -> str:
        """A name as the register compares names ("O'Neill" -> "oneill")."""

    def postcode_normalise(self, value: str) -> str:
        """A postcode as the register stores it ("sw1a1aa" -> "SW1A 1AA"); "" if the value
        is not a postcode at all."""

    def child_family_name_and_postcode(self, *, register_id: str) -> tuple[str, str] | None:
        """The child's family name and postcode as they stand now; None once the child
        has left the register."""

    def practitioner_involved(self, *, user_id: int, register_ids: list[str]) -> bool:
        """Whether the user has ever recorded working with any of these children."""

    def child_authority_codes(self, *, register_ids: list[str]) -> dict[str, str]:
        """The GSS code of each child's responsible authority now, for children still on
        the register (a removed child is missing from the answer)."""

    def children_find(self, *, family_name: str, given_names: str, date_of_birth: datetime.date) -> FoundChildren:
        """The register's own matching, for an auditor who lacks the register ID."""


class RegisterReaderMissing(RuntimeError):
    """No app has supplied the register reader: the registry app is not installed or
    not ready. Raised rather than answering "no child", which would hide misuse."""


_reader: RegisterReader | None = None


def register_reader_install(reader: RegisterReader) -> None:
    """Called once by the registry app when Django starts."""
    global _reader  # one reader per process, set at start-up
    _reader = reader


def register_reader() -> RegisterReader:
    if _reader is None:
        raise RegisterReaderMissing("The registry app has not supplied the audit trail's register reader")
    return _reader
