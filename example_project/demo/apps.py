from django.apps import AppConfig


class DemoConfig(AppConfig):
    """Holds the ``demo`` management command; no models."""

    name = "example_project.demo"
    label = "example_demo"
