"""Reads from the register. Search and the child page arrive with the search issue."""

from accounts.models import LocalAuthority
from registry.models import Child


def children_on_register_count(*, local_authority: LocalAuthority) -> int:
    return Child.objects.filter(responsible_local_authority=local_authority).count()
