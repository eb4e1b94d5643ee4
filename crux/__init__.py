"""Crux's shared plumbing: no models, and it imports no app (an import-linter contract)."""
