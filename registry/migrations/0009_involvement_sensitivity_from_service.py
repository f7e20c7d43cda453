"""Involvements of a sensitive service recorded by a practitioner of an unflagged
organisation were stored as not sensitive (issue 15, finding 8). Store the category the one
rule (registry.identity.involvement_sensitivity) gives them; reading already
applies the rule, this keeps the stored column true for queries and exports."""

from django.db import migrations

SENSITIVE_SERVICES = ("sexual_health", "mental_health", "substance_misuse")


def sensitivity_from_service(apps, schema_editor):  # type: ignore[no-untyped-def]
    Involvement = apps.get_model("registry", "Involvement")
    for service in SENSITIVE_SERVICES:
        Involvement.objects.filter(service_type=service).exclude(sensitive_category=service).update(
            sensitive_category=service
        )


class Migration(migrations.Migration):
    dependencies = [("registry", "0008_dashboard")]

    operations = [migrations.RunPython(sensitivity_from_service, migrations.RunPython.noop)]
