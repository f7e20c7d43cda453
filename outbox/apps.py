from django.apps import AppConfig


class OutboxConfig(AppConfig):
    name = "outbox"
    verbose_name = "Email outbox"

    def ready(self) -> None:
        # email_enqueue nudges the delivery task by registered name (the task module imports
        # the service), so the name must be known in every process, the web server's too.
        import outbox.tasks  # noqa: F401
