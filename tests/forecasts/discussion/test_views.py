"""The question page's Discussion: posting, editing, deleting, hiding and following, with and
without htmx."""

from __future__ import annotations

import pytest
from django.test import Client
from django.urls import reverse

from forecasts.discussion.models import Comment, Follow
from forecasts.discussion.services import comment_hide, comment_post
from tests.factories import QuestionFactory, UserFactory

pytestmark = pytest.mark.django_db

HTMX = {"HTTP_HX_REQUEST": "true"}


def _client(user=None) -> Client:
    client = Client()
    if user is not None:
        client.force_login(user)
    return client


def _page(question) -> str:
    return reverse("forecasts:question_detail", args=[question.pk])


def _post_url(question) -> str:
    return reverse("forecasts:comment_post", args=[question.pk])


def test_the_question_page_shows_the_discussion_rendered_and_safe() -> None:
    question = QuestionFactory()
    comment_post(
        user=UserFactory(username="ada"),
        question_id=question.pk,
        body="**Bold** claim <script>alert(1)</script>",
    )

    page = _client().get(_page(question)).content.decode()

    assert 'id="discussion"' in page
    assert "<strong>Bold</strong> claim &lt;script&gt;alert(1)&lt;/script&gt;" in page
    assert "to comment." in page  # anonymous: log in to comment, no form


def test_posting_without_javascript_redirects_to_the_comment() -> None:
    question, ada = QuestionFactory(), UserFactory()

    response = _client(ada).post(_post_url(question), {"body": "Talks resumed."})

    comment = Comment.objects.get()
    assert response.status_code == 302
    assert response["Location"] == f"{_page(question)}#comment-{comment.pk}"
    assert Follow.objects.filter(user=ada, question=question).exists()


def test_a_refusal_without_javascript_comes_back_once_beside_the_field() -> None:
    question, ada = QuestionFactory(), UserFactory()
    client = _client(ada)

    response = client.post(_post_url(question), {"body": "   "})
    page = client.get(_page(question)).content.decode()
    again = client.get(_page(question)).content.decode()

    assert response["Location"].endswith("#comment-form")
    assert 'id="body-errors"' in page and "cannot be empty" in page
    assert "cannot be empty" not in again
    assert not Comment.objects.exists()


def test_posting_with_htmx_answers_with_the_discussion_alone() -> None:
    question, ada = QuestionFactory(), UserFactory()

    response = _client(ada).post(_post_url(question), {"body": "In place."}, **HTMX)

    body = response.content.decode()
    assert response.status_code == 200
    assert body.lstrip().startswith('<section class="discussion" id="discussion"')
    assert "<p>In place.</p>" in body and "Comment posted." in body
    assert "<html" not in body


def test_a_refusal_with_htmx_is_a_400_with_the_error_beside_the_field() -> None:
    question, ada = QuestionFactory(), UserFactory()

    response = _client(ada).post(_post_url(question), {"body": "x" * 5001}, **HTMX)

    body = response.content.decode()
    assert response.status_code == 400
    assert 'id="body-errors"' in body and "at most 5000 characters" in body
    assert not Comment.objects.exists()


def test_an_anonymous_post_is_sent_to_log_in() -> None:
    question = QuestionFactory()

    plain = _client().post(_post_url(question), {"body": "Hi"})
    htmx = _client().post(_post_url(question), {"body": "Hi"}, **HTMX)

    assert plain.status_code == 302 and plain["Location"].startswith(reverse("login"))
    assert htmx["HX-Redirect"].startswith(reverse("login"))
    assert not Comment.objects.exists()


def test_the_author_edits_in_place_with_htmx() -> None:
    ada = UserFactory()
    comment = comment_post(user=ada, question_id=QuestionFactory().pk, body="First")
    url = reverse("forecasts:comment_edit", args=[comment.pk])
    client = _client(ada)

    form = client.get(url, **HTMX).content.decode()
    saved = client.post(url, {"body": "Second"}, **HTMX)

    assert 'id="id_edit_body"' in form and "First</textarea>" in form
    assert "<p>Second</p>" in saved.content.decode() and "edited" in saved.content.decode()


def test_editing_without_javascript_has_its_own_page() -> None:
    ada = UserFactory()
    comment = comment_post(user=ada, question_id=QuestionFactory().pk, body="First")
    url = reverse("forecasts:comment_edit", args=[comment.pk])
    client = _client(ada)

    page = client.get(url)
    refused = client.post(url, {"body": ""})
    saved = client.post(url, {"body": "Second"})

    assert page.status_code == 200 and "Edit your comment" in page.content.decode()
    assert refused.status_code == 400 and "cannot be empty" in refused.content.decode()
    assert saved.status_code == 302
    comment.refresh_from_db()
    assert comment.body == "Second"


def test_others_cannot_edit_or_delete() -> None:
    comment = comment_post(user=UserFactory(), question_id=QuestionFactory().pk, body="Mine")
    bob = _client(UserFactory())

    edit = bob.post(reverse("forecasts:comment_edit", args=[comment.pk]), {"body": "Bob's"})
    delete = bob.post(reverse("forecasts:comment_delete", args=[comment.pk]))

    assert (edit.status_code, delete.status_code) == (403, 403)
    comment.refresh_from_db()
    assert (comment.body, comment.deleted_at) == ("Mine", None)


def test_only_your_own_comments_offer_edit_and_delete() -> None:
    question, ada = QuestionFactory(), UserFactory()
    mine = comment_post(user=ada, question_id=question.pk, body="Mine")
    theirs = comment_post(user=UserFactory(), question_id=question.pk, body="Theirs")

    page = _client(ada).get(_page(question)).content.decode()

    assert reverse("forecasts:comment_edit", args=[mine.pk]) in page
    assert reverse("forecasts:comment_edit", args=[theirs.pk]) not in page
    assert reverse("forecasts:comment_hide", args=[theirs.pk]) not in page


def test_deleting_leaves_a_placeholder() -> None:
    ada = UserFactory()
    question = QuestionFactory()
    comment = comment_post(user=ada, question_id=question.pk, body="Regret")

    response = _client(ada).post(reverse("forecasts:comment_delete", args=[comment.pk]), **HTMX)

    body = response.content.decode()
    assert "Deleted by its author." in body and "Regret" not in body


def test_staff_hide_a_comment_and_others_see_it_removed() -> None:
    question = QuestionFactory()
    comment = comment_post(user=UserFactory(), question_id=question.pk, body="Buy my pills")
    sam = UserFactory(is_staff=True)

    response = _client(sam).post(reverse("forecasts:comment_hide", args=[comment.pk]), **HTMX)
    public = _client(UserFactory()).get(_page(question)).content.decode()

    assert "Removed by a moderator." in public and "Buy my pills" not in public
    assert "Buy my pills" in response.content.decode()  # staff still read it, to restore it
    assert reverse("forecasts:comment_unhide", args=[comment.pk]) in response.content.decode()


def test_a_user_cannot_hide() -> None:
    comment = comment_post(user=UserFactory(), question_id=QuestionFactory().pk, body="Fine")

    response = _client(UserFactory()).post(reverse("forecasts:comment_hide", args=[comment.pk]))

    assert response.status_code == 403
    assert Comment.objects.get().hidden_at is None


def test_staff_show_a_hidden_comment_again() -> None:
    comment = comment_post(user=UserFactory(), question_id=QuestionFactory().pk, body="Fine")
    sam = UserFactory(is_staff=True)
    comment_hide(user=sam, comment_id=comment.pk)

    _client(sam).post(reverse("forecasts:comment_unhide", args=[comment.pk]))

    assert Comment.objects.get().hidden_at is None


def test_follow_and_unfollow_buttons() -> None:
    question, ada = QuestionFactory(), UserFactory()
    client = _client(ada)

    followed = client.post(reverse("forecasts:question_follow", args=[question.pk]), **HTMX)
    assert "data-following" in followed.content.decode()
    assert Follow.objects.filter(user=ada, question=question).exists()

    unfollowed = client.post(reverse("forecasts:question_unfollow", args=[question.pk]))
    assert unfollowed["Location"] == f"{_page(question)}#discussion"
    assert not Follow.objects.exists()


def test_the_discussion_fragment_for_cancel() -> None:
    question = QuestionFactory()
    url = reverse("forecasts:discussion", args=[question.pk])

    fragment = _client().get(url, **HTMX)
    plain = _client().get(url)

    assert fragment.content.decode().lstrip().startswith('<section class="discussion"')
    assert plain["Location"] == f"{_page(question)}#discussion"


def test_a_comment_on_no_question_is_a_404() -> None:
    response = _client(UserFactory()).post(
        reverse("forecasts:comment_post", args=[987654]), {"body": "Hi"}
    )

    assert response.status_code == 404
