from django.apps import AppConfig


class SignpostingConfig(AppConfig):
    name = "signposting"
    verbose_name = "Signposting platform"

    def ready(self) -> None:
        # Imported when Django starts, in every process (the web server's too), because
        # feeds.services and registry.intake queue these tasks by registered name (each task
        # module imports its service, so the service cannot import it back), and a name is
        # known only once its module is imported. Not at the top: the tasks read models.
        import accounts.tasks  # noqa: F401  (the outbox's delivery, nudged by name)
        import feeds.tasks  # noqa: F401
        import registry.children.tasks
        import registry.intake.tasks  # noqa: F401
