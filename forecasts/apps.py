from __future__ import annotations

from django.apps import AppConfig


class ForecastsConfig(AppConfig):
    default_auto_field = "django.db.models.BigAutoField"
    name = "forecasts"
    verbose_name = "Forecasts"

    def ready(self) -> None:
        # Any process may publish a task (the web on commit, seed_demo): with the embedded
        # broker its folders must exist before the first message, not only once a worker runs.
        from config.celery import ensure_broker_folders

        ensure_broker_folders()
