from __future__ import annotations

from django.apps import AppConfig


class MarketsConfig(AppConfig):
    default_auto_field = "django.db.models.BigAutoField"
    name = "markets"
    verbose_name = "Markets"
