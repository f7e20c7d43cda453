"""Builds the register and the GRO file for a fault test, in the private database the
test's worker uses: `python -m tests.integration.fault_scenario` with
DJANGO_SETTINGS_MODULE=tests.integration.fault_settings. Prints the file's id and the counts
an exact ingest must end with, as JSON."""

import datetime
import json
import sys

CHILDREN = 30
UNMATCHED = 2400
OUT_OF_SCOPE = 200
QUARANTINED = 20


def main() -> None:
    import django

    django.setup()
    from django.utils import timezone

    from accounts.roles import Role
    from tests.factories import ChildFactory, InvolvementFactory, LocalAuthorityFactory, UserFactory, nhs_number_for
    from tests.feeds.factories_feeds import death_row, deaths_file, receive

    today = timezone.localdate()
    died = today - datetime.timedelta(days=20)
    registered = today - datetime.timedelta(days=10)
    westminster = LocalAuthorityFactory(gss_code="E09000033", name="Westminster City Council")
    UserFactory(organisation__local_authority=westminster, roles=[Role.REGISTER_MANAGER])
    children = [
        ChildFactory(responsible_local_authority=westminster, nhs_number=nhs_number_for(n), date_of_birth="2015-06-01")
        for n in range(1, CHILDREN + 1)
    ]
    for child in children:
        InvolvementFactory(child=child, practitioner__organisation__local_authority=westminster)
    common = {"date_of_death": died, "registration_date": registered, "date_of_birth": "2015-06-01"}
    rows = [death_row(entry_number=n, surname=f"Nobody{n}", **common) for n in range(1, UNMATCHED + 1)]
    rows += [death_row(entry_number=10000 + n, date_of_birth="1950-01-01") for n in range(OUT_OF_SCOPE)]
    rows += [death_row(entry_number=20000 + n, **{**common, "date_of_death": "bad"}) for n in range(QUARANTINED)]
    # The children's deaths spread through the file, so that many land after the fault.
    step = len(rows) // CHILDREN
    for index, child in enumerate(children):
        rows.insert(index * step, death_row(entry_number=30000 + index, nhs_number=child.nhs_number, **common))
    # Received and queued through the broker, as an upload is.
    feed_file = receive(deaths_file(*rows), enqueue=True).feed_file
    json.dump(
        {
            "feed_file": str(feed_file.pk),
            "rows_total": len(rows),
            "applied": CHILDREN,
            "unmatched": UNMATCHED,
            "out_of_scope": OUT_OF_SCOPE,
            "quarantined": QUARANTINED,
            # Each death tells the child's practitioner and the authority's register manager.
            "emails": 2 * CHILDREN,
            "died": died.isoformat(),
        },
        sys.stdout,
    )


if __name__ == "__main__":
    main()
