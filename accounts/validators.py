import re

from django.conf import settings
from django.core.exceptions import ValidationError

# GSS codes for English local authorities: E06 unitary, E07 district, E08 metropolitan
# district, E09 London borough, E10 county.
GSS_CODE_PATTERN = re.compile(r"^E(06|07|08|09|10)\d{6}$")


def validate_gss_code(value: str) -> None:
    if not GSS_CODE_PATTERN.match(value or ""):
        raise ValidationError(
            "Enter a GSS code for an English local authority, like E09000033",
            code="invalid_gss_code",
        )


def _domains_named(domains: list[str]) -> str:
    if len(domains) == 1:
        return domains[0]
    return f"{', '.join(domains[:-1])} or {domains[-1]}"


def work_email_message(*, domains: list[str]) -> str:
    """The one message for an address outside the allow-list: it names the allowed kinds
    of address, as the GOV.UK error message pattern asks (say what to do, not what failed)."""
    return (
        f"Enter a work email address ending in {_domains_named(domains)}, like name@westminster.gov.uk. "
        "Personal email addresses, such as Gmail or Outlook, cannot be used"
    )


def work_email_domain_allowed(email: str, *, domains: list[str]) -> bool:
    """Whether the address's domain is one of `domains` or a subdomain of one ("gov.uk"
    allows name@westminster.gov.uk, never name@notgov.uk or name@gov.uk.example.com)."""
    domain = email.rpartition("@")[2].strip().rstrip(".").lower()
    return bool(domain) and any(domain == allowed or domain.endswith(f".{allowed}") for allowed in domains)


def validate_work_email(email: str) -> None:
    """Refuse an address outside ACCOUNTS_WORK_EMAIL_DOMAINS, with the message that names them."""
    domains = list(settings.ACCOUNTS_WORK_EMAIL_DOMAINS)
    if not work_email_domain_allowed(email, domains=domains):
        raise ValidationError(work_email_message(domains=domains), code="not_work_email")
