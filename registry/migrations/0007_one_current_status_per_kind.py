"""At most one current status of each kind per child (issue 14 item 6).

Before the constraint can be added, a child that already has two or more current statuses
of the same kind (the duplicate warning's "same child" used to add a second plan) has all
but the latest ended: each earlier one ends the day before the next one of its kind
starts, which is never before its own start (start dates of one kind differ, by
`status_unique_per_start`). The register IDs changed are printed, so that the responsible
authorities can be told; docs/maintenance.md says more. Reversing removes the constraint
and leaves the end dates.
"""

import datetime

from django.db import migrations, models


def end_overlapping_current_statuses(apps, schema_editor):
    ProtectionStatus = apps.get_model("registry", "ProtectionStatus")
    current = (
        ProtectionStatus.objects.filter(end_date__isnull=True)
        .order_by("child_id", "kind", "start_date")
        .values_list("pk", "child_id", "kind", "start_date", "child__register_id")
    )
    groups: dict[tuple[int, str], list[tuple[int, datetime.date, str]]] = {}
    for pk, child_id, kind, start_date, register_id in current.iterator():
        groups.setdefault((child_id, kind), []).append((pk, start_date, register_id))
    ended = []
    for statuses in groups.values():
        for (pk, _, register_id), (_, next_start, _) in zip(statuses, statuses[1:]):
            ProtectionStatus.objects.filter(pk=pk).update(end_date=next_start - datetime.timedelta(days=1))
            ended.append(register_id)
    if ended:
        print(f"\n  Ended {len(ended)} overlapping current statuses of children: {', '.join(sorted(set(ended)))}")


class Migration(migrations.Migration):
    dependencies = [
        ("accounts", "0005_invitations_sessions_recertification"),
        ("registry", "0006_transfers_uploads_idempotency"),
    ]

    operations = [
        migrations.RunPython(end_overlapping_current_statuses, migrations.RunPython.noop),
        migrations.AddConstraint(
            model_name="protectionstatus",
            constraint=models.UniqueConstraint(
                condition=models.Q(("end_date__isnull", True)),
                fields=("child", "kind"),
                name="status_one_current_per_kind",
                violation_error_message="This child already has a current status of this kind. End it first",
            ),
        ),
    ]
