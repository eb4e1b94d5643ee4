"""A service that finds no such row (``DoesNotExist``) answers 404 in the API's error shape."""

from __future__ import annotations

import pytest
from django.test import Client
from django.urls import path
from rest_framework.permissions import AllowAny
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from crux.api.errors import exception_handler
from forecasts.lifecycle import question_unresolve
from forecasts.models import Question


class UnresolveView(APIView):
    """An API view that hands the id straight to a service, which looks the question up."""

    permission_classes = [AllowAny]

    def post(self, request: Request, question_id: int) -> Response:
        question_unresolve(question_id=question_id)
        return Response(status=204)


urlpatterns = [path("api/v1/unresolve/<int:question_id>/", UnresolveView.as_view())]


def test_does_not_exist_is_a_404_in_the_error_shape() -> None:
    error = Question.DoesNotExist("Question matching query does not exist.")

    response = exception_handler(error, {})

    assert response is not None
    assert (response.status_code, response.data) == (404, {"message": "Not found.", "errors": {}})


@pytest.mark.django_db
@pytest.mark.urls(__name__)
def test_an_endpoint_whose_service_finds_no_such_row_answers_404() -> None:
    missing = (Question.objects.order_by("-pk").values_list("pk", flat=True).first() or 0) + 1

    response = Client(raise_request_exception=False).post(f"/api/v1/unresolve/{missing}/")

    assert response.status_code == 404
    assert response.json() == {"message": "Not found.", "errors": {}}
