"""The API's personal tokens: list, create and revoke your own."""

from __future__ import annotations

from typing import Any

from django.db.models import QuerySet
from django.utils.cache import add_never_cache_headers
from drf_spectacular.utils import extend_schema
from rest_framework import mixins, permissions, status, viewsets
from rest_framework.request import Request
from rest_framework.response import Response

from crux.api.errors import ERRORS
from crux.users import signed_in_user
from forecasts import services
from forecasts.api.serializers import (
    TokenCreatedSerializer,
    TokenCreateSerializer,
    TokenSerializer,
)
from forecasts.models import (
    ApiToken,
)


@extend_schema(tags=["tokens"])
class TokenViewSet(mixins.ListModelMixin, mixins.DestroyModelMixin, viewsets.GenericViewSet):
    """Your personal API tokens. The secret is shown once, when created."""

    lookup_value_regex = r"[0-9]+"

    serializer_class = TokenSerializer
    permission_classes = [permissions.IsAuthenticated]

    def get_queryset(self) -> QuerySet[ApiToken]:
        if getattr(self, "swagger_fake_view", False):  # schema generation has no user
            return ApiToken.objects.none()
        return ApiToken.objects.filter(user=signed_in_user(self.request))

    @extend_schema(request=TokenCreateSerializer, responses={201: TokenCreatedSerializer, **ERRORS})
    def create(self, request: Request) -> Response:
        data = TokenCreateSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        token, secret = services.api_token_create(
            user=signed_in_user(request), name=data.validated_data["name"]
        )
        # The secret is stored nowhere: it joins the token's fields here, this once.
        body = {**TokenSerializer(token).data, "token": secret}
        response = Response(body, status=status.HTTP_201_CREATED)
        add_never_cache_headers(response)  # the secret: no cache on the way keeps a copy
        return response

    @extend_schema(responses={204: None, 401: ERRORS[401], 404: ERRORS[404]})
    def destroy(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        """Revoke a token; it stops working at once."""
        token = self.get_object()
        services.api_token_revoke(user=signed_in_user(request), token_id=token.pk)
        return Response(status=status.HTTP_204_NO_CONTENT)
