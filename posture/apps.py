from django.apps import AppConfig


class PostureConfig(AppConfig):
    name = "posture"
    verbose_name = "Clusters and scans"

    def ready(self):
        from posture import celery, checks  # noqa: F401 - the Celery app for shared tasks; system checks
