"""A server error says nothing of its cause: JSON under /api/ (the API's one error shape)."""

from __future__ import annotations

import pytest
from django.db import OperationalError
from django.test import Client

from forecasts.api.questions import QuestionViewSet

pytestmark = pytest.mark.django_db


def dropped_connection(*args: object, **kwargs: object) -> None:
    raise OperationalError("server closed the connection unexpectedly")


def test_a_server_error_under_the_api_is_the_json_error_shape(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(QuestionViewSet, "list", dropped_connection)

    response = Client(raise_request_exception=False).get("/api/v1/questions/")

    assert response.status_code == 500
    assert response.json() == {"message": "Server error; try again.", "errors": {}}


def test_a_server_error_on_a_page_is_the_plain_error_page(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr("forecasts.selectors.question_status_counts", dropped_connection)

    response = Client(raise_request_exception=False).get("/")

    assert response.status_code == 500
    assert response["Content-Type"].startswith("text/html")
    assert b"connection" not in response.content
