"""The Content-Security-Policy, fitted to what each response is.

``CONTENT_SECURITY_POLICY`` in the settings is the policy of every page. This middleware (django-
csp's, through its documented ``get_policy_parts`` hook) widens it only where a response
cannot be served otherwise, and never for scripts:

- an SVG (the charts, the admin's icons) styles itself with ``style`` attributes and a <style>;
- DRF's browsable API has one inline <style> (code highlighting: allowed by its hash) and a few
  ``style`` attributes in DRF's own templates;
- a raster image runs nothing, and gets no policy: Chromium would apply it to the page it
  draws an image in when one is opened directly, and refuse that page's own styles.
"""

from __future__ import annotations

import base64
import hashlib
from functools import cache

from csp.middleware import CSPMiddleware as BaseCSPMiddleware
from csp.middleware import PolicyParts
from django.http import HttpRequest
from django.http.response import HttpResponseBase
from django.utils.html import conditional_escape

UNSAFE_INLINE = "'unsafe-inline'"


def _media_type(response: HttpResponseBase) -> str:
    return response.get("Content-Type", "").split(";")[0].strip().lower()


@cache
def _browsable_api_style_hash(code_style: str) -> str | None:
    """The hash of the <style> DRF's browsable API writes (autoescaped, as the browser reads
    it), or None when Pygments is not installed and it writes none."""
    from rest_framework.compat import pygments_css

    css = pygments_css(code_style)
    if not css:
        return None
    digest = hashlib.sha256(str(conditional_escape(css)).encode()).digest()
    return f"'sha256-{base64.b64encode(digest).decode()}'"


def _widened(response: HttpResponseBase) -> dict[str, list[str]]:
    """What this response adds to the policy (nothing for almost every page)."""
    if _media_type(response) == "image/svg+xml":
        return {"style-src": [UNSAFE_INLINE]}
    renderer = getattr(response, "accepted_renderer", None)
    if renderer is not None and getattr(renderer, "format", None) == "api":
        style_hash = _browsable_api_style_hash(renderer.code_style)
        return {
            "style-src": [style_hash] if style_hash else [],
            "style-src-attr": [UNSAFE_INLINE],
        }
    return {}


class CSPMiddleware(BaseCSPMiddleware):
    def process_response(
        self, request: HttpRequest, response: HttpResponseBase
    ) -> HttpResponseBase:
        media_type = _media_type(response)
        if media_type.startswith("image/") and media_type != "image/svg+xml":
            return response
        return super().process_response(request, response)

    def get_policy_parts(
        self, request: HttpRequest, response: HttpResponseBase, report_only: bool = False
    ) -> PolicyParts:
        parts = super().get_policy_parts(request, response, report_only)
        widened = _widened(response)
        if widened:
            update = {key: list(value) for key, value in (parts.update or {}).items()}
            for directive, sources in widened.items():
                update[directive] = [*update.get(directive, []), *sources]
            parts.update = update
        return parts
