from django.contrib import admin

from registry.models import Child, Involvement, OtherName, ProtectionStatus


class OtherNameInline(admin.TabularInline[OtherName, Child]):
    model = OtherName
    extra = 0


class ProtectionStatusInline(admin.TabularInline[ProtectionStatus, Child]):
    model = ProtectionStatus
    extra = 0


@admin.register(Child)
class ChildAdmin(admin.ModelAdmin[Child]):
    """For system administrators diagnosing data problems. Day-to-day register changes go
    through the register managers' pages, which audit every change."""

    list_display = ["register_id", "responsible_local_authority", "is_shielded", "created_at"]
    list_filter = ["responsible_local_authority", "is_shielded"]
    search_fields = ["register_id"]
    readonly_fields = ["register_id", "version"]
    inlines = [OtherNameInline, ProtectionStatusInline]

    def has_change_permission(self, request, obj=None):  # type: ignore[no-untyped-def]
        return False

    def has_add_permission(self, request):  # type: ignore[no-untyped-def]
        return False

    def has_delete_permission(self, request, obj=None):  # type: ignore[no-untyped-def]
        return False


@admin.register(Involvement)
class InvolvementAdmin(admin.ModelAdmin[Involvement]):
    list_display = ["child", "service_type", "is_lead", "start_date", "end_date"]
    list_filter = ["service_type", "sensitive_category"]

    def has_change_permission(self, request, obj=None):  # type: ignore[no-untyped-def]
        return False

    def has_add_permission(self, request):  # type: ignore[no-untyped-def]
        return False

    def has_delete_permission(self, request, obj=None):  # type: ignore[no-untyped-def]
        return False
