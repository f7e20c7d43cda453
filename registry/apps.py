from django.apps import AppConfig


class RegistryConfig(AppConfig):
    name = "registry"
    verbose_name = "Register of children"

    def ready(self) -> None:
        # Imported here, not at the top: the reader reads models, which Django loads
        # only after every app's config module.
        from audit.register_reader import register_reader_install
        from registry.audit_reader import RegistryAuditReader

        register_reader_install(RegistryAuditReader())
