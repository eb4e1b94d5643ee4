"""Comments over the API: anyone reads them, the signed-in post, authors edit and delete their
own, staff hide; over real HTTP with personal tokens."""

from __future__ import annotations

from typing import Any

import pytest
from django.core.cache import cache
from django.db import connection
from django.test.utils import CaptureQueriesContext
from rest_framework.test import APIClient

from forecasts.discussion.models import Comment
from forecasts.discussion.services import comment_hide, comment_post
from forecasts.services import api_token_create
from tests.api.conftest import World
from tests.factories import QuestionFactory, UserFactory

pytestmark = [pytest.mark.django_db(transaction=True)]


def _comments(world: World) -> str:
    return f"/questions/{world.open_question.pk}/comments/"


def _posted(world: World, body: str = "Talks resumed.") -> Comment:
    return comment_post(user=world.user, question_id=world.open_question.pk, body=body)


def test_anyone_reads_a_question_s_comments_rendered(world: World, api: Any) -> None:
    _posted(world, "**Bold** <script>x</script>")

    response = api().get(_comments(world))

    assert response.status_code == 200
    [row] = response.json()["results"]
    assert (row["author"], row["body"]) == ("ada", "**Bold** <script>x</script>")
    assert row["body_html"] == "<p><strong>Bold</strong> &lt;script&gt;x&lt;/script&gt;</p>\n"
    assert (row["hidden"], row["deleted"], row["edited_at"]) == (False, False, None)


def test_posting_needs_a_sign_in(world: World, api: Any) -> None:
    anonymous = api().post(_comments(world), {"body": "Hi"})
    signed_in = api("other", world).post(_comments(world), {"body": "Hi"})

    assert anonymous.status_code == 401
    assert signed_in.status_code == 201
    assert signed_in.json()["author"] == "bob"
    assert Comment.objects.get().author == world.other


@pytest.mark.parametrize(
    ("payload", "field"),
    [
        ({"body": "   "}, "body"),
        ({"body": "x" * 5001}, "body"),
        ({}, "body"),
        ({"body": "a", "x": 1}, "x"),
    ],
)
def test_a_bad_comment_is_refused_naming_the_field(
    world: World, api: Any, payload: dict[str, Any], field: str
) -> None:
    response = api("user", world).post(_comments(world), payload)

    assert response.status_code == 400
    assert field in response.json()["errors"]
    assert not Comment.objects.exists()


def test_comments_of_no_question_are_a_404(world: World, api: Any) -> None:
    assert api().get("/questions/987654/comments/").status_code == 404
    assert api("user", world).post("/questions/987654/comments/", {"body": "Hi"}).status_code == 404


def test_the_author_edits_and_deletes_their_comment(world: World, api: Any) -> None:
    comment = _posted(world)
    ada = api("user", world)

    edited = ada.request("PATCH", f"/comments/{comment.pk}/", json={"body": "Talks stalled."})
    deleted = ada.request("DELETE", f"/comments/{comment.pk}/")
    read = api().get(f"/comments/{comment.pk}/")

    assert edited.status_code == 200 and edited.json()["body"] == "Talks stalled."
    assert edited.json()["edited_at"] is not None
    assert deleted.status_code == 204
    assert (read.json()["deleted"], read.json()["body"]) == (True, None)


@pytest.mark.parametrize("role", ["other", "staff"])
def test_nobody_else_edits_or_deletes(world: World, api: Any, role: str) -> None:
    comment = _posted(world)
    client = api(role, world)

    edited = client.request("PATCH", f"/comments/{comment.pk}/", json={"body": "Mine now"})
    deleted = client.request("DELETE", f"/comments/{comment.pk}/")

    assert (edited.status_code, deleted.status_code) == (403, 403)
    comment.refresh_from_db()
    assert (comment.body, comment.deleted_at) == ("Talks resumed.", None)


def test_staff_hide_and_unhide(world: World, api: Any) -> None:
    comment = _posted(world)

    refused = api("other", world).post(f"/comments/{comment.pk}/hide/")
    hidden = api("staff", world).post(f"/comments/{comment.pk}/hide/")
    public = api().get(f"/comments/{comment.pk}/").json()
    shown = api("staff", world).post(f"/comments/{comment.pk}/unhide/")

    assert refused.status_code == 403
    assert hidden.status_code == 200
    assert (hidden.json()["hidden"], hidden.json()["body"]) == (True, "Talks resumed.")
    assert (public["hidden"], public["body"], public["body_html"]) == (True, None, None)
    assert (shown.json()["hidden"], Comment.objects.get().hidden_at) == (False, None)


def test_a_hidden_comment_cannot_be_edited(world: World, api: Any) -> None:
    comment = _posted(world)
    comment_hide(user=world.staff, comment_id=comment.pk)

    response = api("user", world).request(
        "PATCH", f"/comments/{comment.pk}/", json={"body": "Sneaky"}
    )

    assert response.status_code == 400
    assert "moderator" in response.json()["errors"]["body"][0]


@pytest.mark.django_db
def test_the_list_does_not_grow_its_queries_with_its_rows() -> None:
    question, ada = QuestionFactory(), UserFactory(username="ada")
    _, secret = api_token_create(user=ada, name="counting")
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {secret}")
    path = f"/api/v1/questions/{question.pk}/comments/"

    def queries(n: int) -> int:
        for i in range(n):
            comment = comment_post(user=UserFactory(), question_id=question.pk, body=f"#{i}")
            comment_hide(user=UserFactory(username="sam", is_staff=True), comment_id=comment.pk)
        client.get(path)
        cache.clear()
        with CaptureQueriesContext(connection) as captured:
            assert client.get(path).status_code == 200
        return len(captured)

    few, many = queries(2), queries(10)

    assert few == many <= 4
