from django.apps import AppConfig


class PostureConfig(AppConfig):
    name = "posture"
    verbose_name = "Clusters and scans"

    def ready(self):
        from posture import checks  # noqa: F401 - registers the system checks
