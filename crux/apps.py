from __future__ import annotations

from django.apps import AppConfig


class CruxConfig(AppConfig):
    """Shared plumbing that knows no domain: the API's core, the base templates and styles."""

    name = "crux"
