"""The child page's removal line. A template tag because the page's view belongs to the
lookup flow (registry.lookups.views); the schedule itself comes from registry.removal.rules."""

from django import template

from registry.removal.rules import RemovalSchedule, removal_schedule_for_register_id

register = template.Library()


@register.simple_tag
def removal_schedule_of(register_id: str) -> RemovalSchedule | None:
    return removal_schedule_for_register_id(register_id=register_id)
