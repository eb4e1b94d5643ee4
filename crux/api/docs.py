"""The API's documentation page under the site's Content-Security-Policy, which allows no
inline script or style (DRF's browsable API: ``api_renderers``).

Swagger UI runs its start-up script from a URL of its own (drf-spectacular's split view) and
its page's style from a static file. Redoc is not offered: it loads its logo from a CDN
whatever its options, and injects styles before it can be given a nonce.
"""

from __future__ import annotations

from csp.decorators import csp_update
from django.utils.decorators import method_decorator
from drf_spectacular.views import SpectacularSwaggerSplitView


# Swagger UI's stylesheet draws its icons as data: images.
@method_decorator(csp_update({"img-src": ["data:"]}), name="dispatch")
class SwaggerView(SpectacularSwaggerSplitView):
    template_name = "crux/api_docs/swagger_ui.html"
