"""OpenAPI generation: the shared error responses, documented on every operation.

Kept apart from api_support, which DRF imports while it is itself being imported (the
pagination class), because drf-spectacular's AutoSchema imports DRF's generic views.
"""

from __future__ import annotations

from typing import Any, Literal

from drf_spectacular.openapi import AutoSchema

from crux.api.errors import ErrorSerializer

ERROR_DESCRIPTIONS = {
    "400": "Invalid input; `errors` names each field.",
    "401": "Missing, invalid or revoked token.",
    "403": "Not allowed (staff only, or a session request without its CSRF token).",
    "404": "Not found (or an unknown page or format).",
    "406": "None of the accepted media types can be produced.",
    "413": "The request body is too large.",
    "415": "The body must be JSON.",
    "429": "Throttled; retry after the number of seconds in `Retry-After`.",
}


class CruxAutoSchema(AutoSchema):
    """Every operation documents the one error shape for every error it can answer with."""

    def _get_response_bodies(
        self, direction: Literal["request", "response"] = "response"
    ) -> dict[str, Any]:
        responses = super()._get_response_bodies(direction)
        content = self._get_response_for_code(ErrorSerializer, "400")["content"]
        # Errors are JSON whatever the operation's success media type (e.g. chart images).
        error = {"application/json": next(iter(content.values()))}
        for code, description in ERROR_DESCRIPTIONS.items():
            if code not in responses:
                responses[code] = {"content": error, "description": description}
        return responses
