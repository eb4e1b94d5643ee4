"""Multiple-choice questions and forecasts: the model's shape and the rules every edge applies."""

from __future__ import annotations

import datetime as dt
import math
from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction

from forecasts.lifecycle import (
    question_aggregates_rebuild,
    question_auto_resolve,
    question_resolve,
    question_unresolve,
)
from forecasts.models import Forecast, Forecaster, Question, QuestionKind, Resolution, Score
from forecasts.notices import question_followups
from forecasts.rules import option_errors, parse_probabilities
from forecasts.services import forecast_submit
from markets.audit import ledger_audit
from markets.models import EntryKind, LedgerEntry
from markets.services import market_create
from tests.factories import T0, ForecastFactory, QuestionFactory, UserFactory, buy

OPTIONS = ["Lifted", "Narrowed", "Set aside by a court", "Still in force"]


@pytest.mark.parametrize(
    ("raw", "message"),
    [
        ([0.5, 0.5], "Give 4 probabilities, one per option (got 2)."),
        ([0.5, 0.3, 0.3, -0.1], "Probability 4 must be between 0.001 and 0.999."),
        ([0.5, 0.2, 0.3, math.nan], "Probability 4 must be between 0.001 and 0.999."),
        ([0.5, 0.2, 0.2, 0.08], "The probabilities must add up to 1 (they add up to 0.98)."),
        ([0.5, 0.2, 0.3, 0.0], "Probability 4 must be between 0.001 and 0.999."),
        ([0.5, 0.2, True, 0.2], "Probability 3 is not a number."),
        ([0.5, 0.2, "x", 0.2], "Probability 3 is not a number."),
        ("0.25,0.25,0.25,0.25", "Give a list of probabilities, one per option."),
        (None, "Give a list of probabilities, one per option."),
    ],
)
def test_a_bad_vector_is_refused_naming_the_field(raw: object, message: str) -> None:
    with pytest.raises(ValidationError) as refused:
        parse_probabilities(raw, options=4)

    assert refused.value.message_dict == {"probabilities": [message]}


def test_a_vector_summing_to_one_within_a_millionth_is_taken_as_given() -> None:
    given = [0.4, 0.3, "0.2", 0.1000005]

    assert parse_probabilities(given, options=4) == (0.4, 0.3, 0.2, 0.1000005)


@pytest.mark.parametrize(
    ("options", "message"),
    [
        (["Only"], "Give 2 to 20 options (got 1)."),
        ([f"Option {i}" for i in range(21)], "Give 2 to 20 options (got 21)."),
        (["Lifted", "lifted"], "Each option needs its own label."),
        (["Lifted", " "], "An option's label cannot be empty."),
        (["Lifted", "x" * 101], "An option's label may be at most 100 characters."),
        ("Lifted, Narrowed", "Give the options as a list of labels."),
        (["Lifted", "Annulled"], "An option cannot be called 'annulled' or 'ambiguous'."),
    ],
)
def test_bad_options_are_named(options: object, message: str) -> None:
    assert message in option_errors(options)


def test_good_options_pass() -> None:
    assert option_errors(OPTIONS) == []
    assert option_errors([*OPTIONS, "Other"]) == []


@pytest.mark.django_db
def test_binary_is_the_two_outcome_case() -> None:
    question = QuestionFactory()
    forecast = ForecastFactory(question=question, probability=0.3)

    assert question.option_labels == ("Yes", "No")
    assert forecast.pmf == pytest.approx((0.3, 0.7))
    question.resolution = Resolution.NO
    assert question.outcome_index == 1
    assert question.is_scorable


@pytest.mark.django_db
def test_a_multiple_choice_question_resolves_to_an_option_by_index() -> None:
    question = QuestionFactory(kind=QuestionKind.MULTIPLE_CHOICE, options=OPTIONS)

    Question.objects.filter(pk=question.pk).update(resolution=Resolution.OPTION, resolved_option=2)
    question.refresh_from_db()

    assert question.option_labels == tuple(OPTIONS)
    assert question.outcome_index == 2
    assert question.is_scorable


@pytest.mark.django_db
def test_the_database_refuses_an_option_resolution_without_its_option() -> None:
    question = QuestionFactory(kind=QuestionKind.MULTIPLE_CHOICE, options=OPTIONS)

    with pytest.raises(IntegrityError), transaction.atomic():
        Question.objects.filter(pk=question.pk).update(resolution=Resolution.OPTION)


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("probability", "probabilities"), [(None, None), (0.4, [0.4, 0.6])], ids=["neither", "both"]
)
def test_a_forecast_holds_exactly_one_kind_of_probability(probability, probabilities) -> None:
    question = QuestionFactory()

    with pytest.raises(IntegrityError), transaction.atomic():
        Forecast.objects.create(
            question=question,
            user=UserFactory(),
            probability=probability,
            probabilities=probabilities,
            starts_at=T0 + dt.timedelta(days=1),
        )


@pytest.mark.django_db
def test_a_multiple_choice_forecast_keeps_its_vector() -> None:
    question = QuestionFactory(kind=QuestionKind.MULTIPLE_CHOICE, options=OPTIONS)

    forecast = Forecast.objects.create(
        question=question,
        user=UserFactory(),
        probabilities=[0.4, 0.3, 0.2, 0.1],
        starts_at=T0 + dt.timedelta(days=1),
    )
    forecast.refresh_from_db()

    assert forecast.pmf == (0.4, 0.3, 0.2, 0.1)
    assert forecast.percent is None


@pytest.mark.django_db
def test_a_single_probability_on_a_multiple_choice_question_is_refused_and_writes_nothing() -> None:
    question = QuestionFactory(kind=QuestionKind.MULTIPLE_CHOICE, options=OPTIONS)

    with pytest.raises(ValidationError) as refused:
        forecast_submit(
            user=UserFactory(), question_id=question.pk, probability=0.4, now=T0 + dt.timedelta(1)
        )

    assert "probability" in refused.value.message_dict
    assert not Forecast.objects.exists()


def _due_multiple_choice() -> Question:
    return QuestionFactory(
        kind=QuestionKind.MULTIPLE_CHOICE,
        options=OPTIONS,
        opens_at=T0,
        closes_at=T0 + dt.timedelta(days=10),
        resolves_at=T0 + dt.timedelta(days=11),
    )


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("resolution", "option", "field"),
    [("yes", None, "resolution"), ("option", None, "option"), ("option", 4, "option")],
)
def test_a_multiple_choice_question_resolves_only_to_one_of_its_options(
    resolution, option, field
) -> None:
    question = _due_multiple_choice()

    with pytest.raises(ValidationError) as refused:
        question_resolve(
            question_id=question.pk,
            resolution=resolution,
            option=option,
            resolved_by=None,
            now=T0 + dt.timedelta(days=12),
        )

    assert field in refused.value.message_dict
    question.refresh_from_db()
    assert question.resolution == ""


@pytest.mark.django_db
def test_an_option_named_on_a_binary_question_is_refused() -> None:
    question = QuestionFactory(opens_at=T0, closes_at=T0 + dt.timedelta(days=1))

    with pytest.raises(ValidationError) as refused:
        question_resolve(
            question_id=question.pk,
            resolution="option",
            option=0,
            resolved_by=None,
            now=T0 + dt.timedelta(days=2),
        )

    assert "resolution" in refused.value.message_dict


@pytest.mark.django_db
def test_the_sweep_applies_a_multiple_choice_questions_automatic_option() -> None:
    question = _due_multiple_choice()
    Question.objects.filter(pk=question.pk).update(auto_outcome="option", auto_option=3)

    applied = question_auto_resolve(question_id=question.pk, now=T0 + dt.timedelta(days=12))

    question.refresh_from_db()
    assert applied
    assert (question.resolution, question.resolved_option) == ("option", 3)
    assert question.outcome_index == 3


@pytest.mark.django_db
def test_unresolving_forgets_the_option() -> None:
    question = _due_multiple_choice()
    question_resolve(
        question_id=question.pk,
        resolution="option",
        option=1,
        resolved_by=None,
        now=T0 + dt.timedelta(days=12),
    )

    question_unresolve(question_id=question.pk, now=T0 + dt.timedelta(days=13))

    question.refresh_from_db()
    assert (question.resolution, question.resolved_option) == ("", None)


@pytest.mark.django_db
def test_a_list_of_probabilities_on_a_binary_question_is_refused_and_writes_nothing() -> None:
    question = QuestionFactory()

    with pytest.raises(ValidationError) as refused:
        forecast_submit(
            user=UserFactory(),
            question_id=question.pk,
            probabilities=[0.4, 0.6],
            now=T0 + dt.timedelta(days=1),
        )

    assert "probabilities" in refused.value.message_dict
    assert not Forecast.objects.exists()


@pytest.mark.django_db
def test_a_vector_of_the_wrong_length_is_refused_by_the_service_too() -> None:
    question = QuestionFactory(kind=QuestionKind.MULTIPLE_CHOICE, options=OPTIONS)

    with pytest.raises(ValidationError) as refused:
        forecast_submit(
            user=UserFactory(),
            question_id=question.pk,
            probabilities=[0.5, 0.5],
            now=T0 + dt.timedelta(days=1),
        )

    assert "probabilities" in refused.value.message_dict
    assert not Forecast.objects.exists()


@pytest.mark.django_db
def test_each_forecast_moves_the_crowd_of_each_option() -> None:
    question = QuestionFactory(kind=QuestionKind.MULTIPLE_CHOICE, options=OPTIONS[:3])
    day = T0 + dt.timedelta(days=1)

    for i, pmf in enumerate([[0.6, 0.3, 0.1], [0.2, 0.2, 0.6], [0.5, 0.25, 0.25]]):
        forecast_submit(
            user=UserFactory(),
            question_id=question.pk,
            probabilities=pmf,
            now=day + dt.timedelta(hours=i),
        )

    question.refresh_from_db()
    assert question.crowd_forecasters == 3
    assert question.crowd_median is None
    assert math.fsum(question.crowd_medians) == pytest.approx(1.0)
    point = question.aggregates.latest("at")
    assert point.medians == question.crowd_medians
    assert math.fsum(point.geometric_means) == pytest.approx(1.0)
    # The recency-weighted median of each option, before renormalising, is one of its values.
    assert question.crowd_medians[0] > question.crowd_medians[1]


@pytest.mark.django_db
def test_the_rebuilt_crowd_history_is_the_one_kept_forecast_by_forecast() -> None:
    question = QuestionFactory(kind=QuestionKind.MULTIPLE_CHOICE, options=OPTIONS[:3])
    day = T0 + dt.timedelta(days=1)
    users = [UserFactory() for _ in range(3)]
    for i, (user, pmf) in enumerate(
        zip(users * 2, [[0.6, 0.3, 0.1], [0.2, 0.2, 0.6], [0.5, 0.25, 0.25]] * 2, strict=True)
    ):
        forecast_submit(
            user=user, question_id=question.pk, probabilities=pmf, now=day + dt.timedelta(hours=i)
        )
    kept = list(question.aggregates.values_list("at", "medians", "forecasters"))

    rewritten = question_aggregates_rebuild(question_id=question.pk)

    assert rewritten == 0
    assert list(question.aggregates.values_list("at", "medians", "forecasters")) == kept


@pytest.mark.django_db
def test_resolving_to_an_option_scores_each_forecaster_by_the_multiple_choice_rules() -> None:
    question = _due_multiple_choice()
    question.options = OPTIONS[:3]
    question.save()
    ada, bob = UserFactory(), UserFactory()
    forecast_submit(user=ada, question_id=question.pk, probabilities=[0.6, 0.3, 0.1], now=T0)
    forecast_submit(user=bob, question_id=question.pk, probabilities=[0.2, 0.2, 0.6], now=T0)

    question_resolve(
        question_id=question.pk,
        resolution="option",
        option=0,
        resolved_by=None,
        now=T0 + dt.timedelta(days=12),
    )

    scores = {
        s.score_type: s.value for s in Score.objects.filter(user=ada, forecaster=Forecaster.USER)
    }
    assert scores["log"] == pytest.approx(math.log(0.6), abs=1e-9)
    assert scores["baseline"] == pytest.approx(100 * math.log(3 * 0.6) / math.log(3), abs=1e-9)
    assert scores["brier"] == pytest.approx(0.36 + 0.09 + 0.01 - 2 * 0.6 + 1, abs=1e-9)
    assert scores["peer"] == pytest.approx(100 * math.log(3), abs=1e-9)
    assert Score.objects.filter(question=question, forecaster=Forecaster.CROWD_MEDIAN).exists()


@pytest.mark.django_db
def test_a_multiple_choice_market_pays_the_option_resolved() -> None:
    question = _due_multiple_choice()
    market = market_create(question_id=question.pk, b=Decimal(100), now=T0)
    trader = UserFactory()
    buy(trader, market, outcome=2, shares="10", now=T0 + dt.timedelta(hours=1))

    question_resolve(
        question_id=question.pk,
        resolution="option",
        option=2,
        resolved_by=None,
        now=T0 + dt.timedelta(days=12),
    )

    market.refresh_from_db()
    assert market.n_outcomes == len(OPTIONS)
    paid = LedgerEntry.objects.filter(account__user=trader, kind=EntryKind.PAYOUT)
    assert sum(e.amount for e in paid) == Decimal(10)
    assert ledger_audit().ok


@pytest.mark.django_db
def test_the_resolution_notice_names_the_option_that_happened(mailoutbox) -> None:
    question = _due_multiple_choice()
    ada = UserFactory(email="ada@example.org")
    forecast_submit(user=ada, question_id=question.pk, probabilities=[0.4, 0.3, 0.2, 0.1], now=T0)
    question_resolve(
        question_id=question.pk,
        resolution="option",
        option=2,
        resolved_by=None,
        now=T0 + dt.timedelta(days=12),
    )

    question_followups(question_id=question.pk, now=T0 + dt.timedelta(days=12))

    (notice,) = mailoutbox
    assert notice.subject.startswith("[Crux] Resolved Set aside by a court:")
    assert "resolved Set aside by a court." in notice.body
