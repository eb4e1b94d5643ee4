"""Conditional requests: ETags and If-None-Match."""

from __future__ import annotations

import hashlib
from typing import Any


def etag_for(*parts: object) -> str:
    return '"' + hashlib.sha256(repr(parts).encode()).hexdigest()[:32] + '"'


def not_modified(request: Any, etag: str) -> bool:
    candidates = request.headers.get("If-None-Match", "")
    return etag in {c.strip() for c in candidates.split(",")} or candidates.strip() == "*"
