"""Strict input: unknown query parameters and fields are refused."""

from __future__ import annotations

from typing import Any

from rest_framework import serializers
from rest_framework.request import Request


def parse_query(
    serializer_class: type[serializers.Serializer],
    request: Request,
    *,
    context: dict[str, Any] | None = None,
) -> dict[str, Any]:
    """The query string, validated by ``serializer_class`` (a 400 naming the fields if not),
    with ``context`` for a serializer that reads what the request is about."""
    query = serializer_class(data=request.query_params.dict(), context=context or {})
    query.is_valid(raise_exception=True)
    return query.validated_data


class StrictSerializer(serializers.Serializer):
    """Refuses fields it does not know, naming them, rather than silently dropping them."""

    def to_internal_value(self, data: Any) -> Any:
        unknown = sorted(set(data) - set(self.fields)) if isinstance(data, dict) else []
        errors = {name: ["Unknown field."] for name in unknown}
        try:
            value = super().to_internal_value(data)
        except serializers.ValidationError as error:
            detail = error.detail if isinstance(error.detail, dict) else {}
            raise serializers.ValidationError({**errors, **detail}) from None
        if errors:
            raise serializers.ValidationError(errors)
        return value
