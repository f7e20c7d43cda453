from django import template
from django.conf import settings

register = template.Library()


@register.simple_tag
def session_idle_seconds() -> int:
    return int(settings.ACCOUNTS_SESSION_IDLE_SECONDS)


@register.simple_tag
def session_warning_seconds() -> int:
    return int(settings.ACCOUNTS_SESSION_WARNING_SECONDS)
