"""Only staff resolve or unresolve, on the web page and in the admin, and only with CSRF."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
import time_machine
from django.test import Client
from django.urls import reverse

from forecasts.lifecycle import question_resolve
from forecasts.models import Question, Score
from forecasts.services import forecast_submit
from markets.models import Account
from markets.services import market_create
from tests.factories import T0, QuestionFactory, UserFactory, buy

pytestmark = pytest.mark.django_db

CLOSE = T0 + dt.timedelta(days=100)
NOW = CLOSE + dt.timedelta(days=2)


@pytest.fixture(autouse=True)
def _now():
    with time_machine.travel(NOW, tick=False):
        yield


@pytest.fixture
def question() -> Question:
    question = QuestionFactory(opens_at=T0, closes_at=CLOSE, resolves_at=CLOSE)
    forecast_submit(user=UserFactory(), question_id=question.pk, probability=0.3, now=T0)
    return question


def _client(user=None, *, csrf: bool = False) -> Client:
    client = Client(enforce_csrf_checks=csrf)
    if user is not None:
        client.force_login(user)
    return client


def _resolve_url(question: Question) -> str:
    return reverse("forecasts:staff_resolve", args=[question.pk])


def _unresolve_url(question: Question) -> str:
    return reverse("forecasts:staff_unresolve", args=[question.pk])


def test_staff_resolve_with_a_note_and_an_earlier_effective_time(question: Question) -> None:
    staff = UserFactory(is_staff=True)

    response = _client(staff).post(
        _resolve_url(question),
        {"resolution": "yes", "effective_at": "2026-08-01T12:00", "note": "Announced."},
    )

    question.refresh_from_db()
    assert response.status_code == 302
    assert (question.resolution, question.resolution_note, question.resolved_by) == (
        "yes",
        "Announced.",
        staff,
    )
    assert question.resolved_at == dt.datetime(2026, 8, 1, 12, tzinfo=dt.UTC)
    assert Score.objects.filter(question=question).exists()


def test_a_future_effective_time_is_refused_with_the_field_named(question: Question) -> None:
    response = _client(UserFactory(is_staff=True)).post(
        _resolve_url(question), {"resolution": "yes", "effective_at": "2030-01-01T00:00"}
    )

    assert response.status_code == 400
    assert "Effective time:" in response.text
    assert Question.objects.get(pk=question.pk).resolution == ""


@pytest.mark.parametrize("method", ["get", "post"])
def test_a_signed_in_non_staff_user_gets_403_and_nothing_changes(
    question: Question, method: str
) -> None:
    client = _client(UserFactory())

    response = getattr(client, method)(_resolve_url(question), {"resolution": "yes"})
    unresolve = client.post(_unresolve_url(question))

    assert (response.status_code, unresolve.status_code) == (403, 403)
    assert Question.objects.get(pk=question.pk).resolution == ""


def test_anonymous_visitors_are_sent_to_log_in(question: Question) -> None:
    response = _client().post(_resolve_url(question), {"resolution": "yes"})

    assert response.status_code == 302 and reverse("login") in response["Location"]
    assert Question.objects.get(pk=question.pk).resolution == ""


def test_non_staff_cannot_unresolve(question: Question) -> None:
    question_resolve(question_id=question.pk, resolution="no", resolved_by=None)

    response = _client(UserFactory()).post(_unresolve_url(question))

    assert response.status_code == 403
    assert Question.objects.get(pk=question.pk).resolution == "no"
    assert Score.objects.filter(question=question).exists()


def test_staff_unresolve_removes_the_scores(question: Question) -> None:
    question_resolve(question_id=question.pk, resolution="no", resolved_by=None)

    _client(UserFactory(is_staff=True)).post(_unresolve_url(question))

    assert Question.objects.get(pk=question.pk).resolution == ""
    assert not Score.objects.filter(question=question).exists()


@pytest.fixture
def paid_out(question: Question) -> Question:
    """Resolved YES with two traders paid by its market."""
    market = market_create(question_id=question.pk, b=Decimal(100), now=T0)
    for shares in (10, 20):
        buy(UserFactory(), market, outcome="yes", shares=shares, now=T0)
    question_resolve(question_id=question.pk, resolution="yes", resolved_by=None)
    return question


def test_the_resolution_page_asks_before_unresolving_instead_of_doing_it(
    paid_out: Question,
) -> None:
    page = _client(UserFactory(is_staff=True)).get(_resolve_url(paid_out))

    assert f'href="{_unresolve_url(paid_out)}"' in page.text
    assert f'action="{_unresolve_url(paid_out)}"' not in page.text


def test_the_confirmation_says_how_many_scores_go_and_payouts_are_reversed(
    paid_out: Question,
) -> None:
    scores = Score.objects.filter(question=paid_out).count()

    page = _client(UserFactory(is_staff=True)).get(_unresolve_url(paid_out))

    assert page.status_code == 200
    assert f"Delete its {scores} scores" in page.text
    assert "Reverse 2 market payouts or refunds on 2 traders' accounts" in page.text
    assert "net 30.00" in page.text
    assert f'<form method="post" action="{_unresolve_url(paid_out)}"' in page.text
    assert Question.objects.get(pk=paid_out.pk).resolution == "yes"
    assert Score.objects.filter(question=paid_out).count() == scores


def test_confirming_unresolves_and_reverses_the_payouts(paid_out: Question) -> None:
    _client(UserFactory(is_staff=True)).post(_unresolve_url(paid_out))

    assert Question.objects.get(pk=paid_out.pk).resolution == ""
    assert not Score.objects.filter(question=paid_out).exists()
    assert sorted(a.balance for a in Account.objects.all()) == sorted(
        Decimal(1000) - t.cost for t in paid_out.market.trades.all()
    )


def test_a_question_that_is_not_resolved_has_nothing_to_confirm(question: Question) -> None:
    response = _client(UserFactory(is_staff=True)).get(_unresolve_url(question))

    assert response.status_code == 302
    assert response["Location"] == _resolve_url(question)


def test_csrf_is_required_to_resolve_and_to_unresolve(question: Question) -> None:
    client = _client(UserFactory(is_staff=True), csrf=True)

    refused = client.post(_resolve_url(question), {"resolution": "yes"})
    token = client.get(_resolve_url(question)).context["csrf_token"]
    accepted = client.post(
        _resolve_url(question), {"resolution": "yes", "csrfmiddlewaretoken": token}
    )
    refused_unresolve = client.post(_unresolve_url(question))

    assert (refused.status_code, accepted.status_code, refused_unresolve.status_code) == (
        403,
        302,
        403,
    )
    assert Question.objects.get(pk=question.pk).resolution == "yes"


def _admin_action(client: Client, action: str, question: Question, *, confirmed: bool = False):
    return client.post(
        reverse("admin:forecasts_question_changelist"),
        {
            "action": action,
            "_selected_action": [question.pk],
            **({"post": "yes"} if confirmed else {}),
        },
    )


def test_the_admin_unresolve_action_asks_first_saying_what_will_be_undone(
    paid_out: Question,
) -> None:
    admin = _client(UserFactory(is_staff=True, is_superuser=True))
    scores = Score.objects.filter(question=paid_out).count()

    page = _admin_action(admin, "unresolve", paid_out)

    assert page.status_code == 200
    assert f"Delete its {scores} scores" in page.text
    assert "Reverse 2 market payouts or refunds" in page.text
    assert 'name="post" value="yes"' in page.text
    assert Question.objects.get(pk=paid_out.pk).resolution == "yes"


def test_the_admin_actions_resolve_and_unresolve_through_the_service(question: Question) -> None:
    admin = _client(UserFactory(is_staff=True, is_superuser=True))

    _admin_action(admin, "resolve_no", question)
    resolved = Question.objects.get(pk=question.pk).resolution
    scored = Score.objects.filter(question=question).exists()
    _admin_action(admin, "unresolve", question, confirmed=True)

    assert (resolved, scored) == ("no", True)
    assert Question.objects.get(pk=question.pk).resolution == ""
    assert not Score.objects.filter(question=question).exists()


def test_staff_without_question_permissions_cannot_use_the_admin_actions(
    question: Question,
) -> None:
    response = _admin_action(_client(UserFactory(is_staff=True)), "resolve_yes", question)

    assert response.status_code == 403
    assert Question.objects.get(pk=question.pk).resolution == ""


def test_the_admin_does_not_let_resolution_fields_be_edited_directly(question: Question) -> None:
    page = _client(UserFactory(is_staff=True, is_superuser=True)).get(
        reverse("admin:forecasts_question_change", args=[question.pk])
    )

    assert page.status_code == 200
    assert 'name="resolution"' not in page.text


def test_the_due_page_lists_questions_awaiting_resolution(question: Question) -> None:
    page = _client(UserFactory(is_staff=True)).get(reverse("forecasts:staff_due"))
    refused = _client(UserFactory()).get(reverse("forecasts:staff_due"))

    assert question.title in page.text
    assert refused.status_code == 403
