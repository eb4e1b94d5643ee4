"""Crux's settings plus one bare JSON view, the floor the API benchmark compares against."""

from config.settings import *  # noqa: F403

ROOT_URLCONF = "bench.urls"
