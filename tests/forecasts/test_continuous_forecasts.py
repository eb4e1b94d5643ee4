"""Forecasts on numeric and date questions, end to end through the services: a CDF or
quantiles in, the crowd's mean CDF kept, and at resolution every score (baseline, peer, log,
CRPS) for each forecaster and the crowd, checked against the formulas computed here."""

from __future__ import annotations

import datetime as dt
import math
from typing import Any

import numpy as np
import pytest
from django.core.exceptions import ValidationError

from forecasts.lifecycle import question_aggregates_rebuild, question_resolve
from forecasts.maths.continuous import CDF_POINTS, baseline_bucket_mass, bucket_mass, crps
from forecasts.maths.quantiles import cdf_from_quantiles
from forecasts.models import AggregatePoint, Forecast, Question, Score
from forecasts.rules import parse_quantiles
from forecasts.services import forecast_submit
from tests.factories import T0, QuestionFactory, UserFactory

pytestmark = pytest.mark.django_db

CLOSE = T0 + dt.timedelta(days=10)
GRID = np.linspace(0.0, 1.0, CDF_POINTS)


def _numeric(**fields: Any) -> Question:
    defaults: dict[str, Any] = {
        "kind": "numeric",
        "range_min": 0.0,
        "range_max": 100.0,
        "open_upper_bound": True,
        "closes_at": CLOSE,
    }
    return QuestionFactory(**{**defaults, **fields})


def _uniform_cdf(above: float = 0.1) -> list[float]:
    """Uniform in range with ``above`` beyond the open upper bound."""
    return ((1.0 - above) * GRID).tolist()


def test_a_forecast_by_quantiles_is_stored_as_their_cdf_and_kept_beside_it() -> None:
    question = _numeric()
    ada = UserFactory()

    forecast = forecast_submit(
        user=ada,
        question_id=question.pk,
        quantiles={0.5: 40.0, 0.1: 20.0, 0.9: 70.5},
        now=T0,
    )

    expected = cdf_from_quantiles({0.1: 20.0, 0.5: 40.0, 0.9: 70.5}, question.scale)
    assert forecast.cdf == pytest.approx(expected.tolist(), abs=1e-15)
    assert forecast.quantiles == {"0.1": 20.0, "0.5": 40.0, "0.9": 70.5}
    assert (forecast.probability, forecast.probabilities) == (None, None)


def test_the_crowd_is_the_recency_weighted_mean_cdf_and_rebuilds_the_same() -> None:
    question = _numeric()
    cdfs = [_uniform_cdf(0.1), _uniform_cdf(0.3)]
    for day, cdf in enumerate(cdfs):
        forecast_submit(
            user=UserFactory(), question_id=question.pk, cdf=cdf, now=T0 + dt.timedelta(days=day)
        )

    question.refresh_from_db()
    weights = [math.exp(1 - math.sqrt(2)), 1.0]
    expected = (weights[0] * np.array(cdfs[0]) + weights[1] * np.array(cdfs[1])) / sum(weights)
    assert question.crowd_forecasters == 2
    assert question.crowd_cdf == pytest.approx(expected.tolist(), abs=1e-12)
    before = list(AggregatePoint.objects.values_list("at", "cdf", "forecasters"))
    assert question_aggregates_rebuild(question_id=question.pk) == 0  # already as rebuilt
    assert list(AggregatePoint.objects.values_list("at", "cdf", "forecasters")) == before


def test_resolution_stores_metaculus_continuous_scores_and_the_crps() -> None:
    question = _numeric()
    ada, bob = UserFactory(), UserFactory()
    sharp = cdf_from_quantiles({0.1: 30.0, 0.5: 42.0, 0.9: 55.0}, question.scale)
    forecast_submit(user=ada, question_id=question.pk, cdf=sharp.tolist(), now=T0)
    forecast_submit(user=bob, question_id=question.pk, cdf=_uniform_cdf(), now=T0)

    question_resolve(
        question_id=question.pk,
        resolution="value",
        value=43.2,
        resolved_by=None,
        effective_at=CLOSE,
        now=CLOSE + dt.timedelta(days=1),
    )

    scores = {(s.user_id, s.score_type): s.value for s in Score.objects.filter(question=question)}
    bucket = math.floor(0.432 * 200) + 1
    base = baseline_bucket_mass(open_lower=False, open_upper=True)[bucket]
    p_ada = float(bucket_mass(sharp, bucket))
    p_bob = float(bucket_mass(np.array(_uniform_cdf()), bucket))
    assert p_bob == pytest.approx(0.9 / 200)
    assert scores[(ada.pk, "baseline")] == pytest.approx(100 * math.log(p_ada / base) / 2)
    assert scores[(bob.pk, "baseline")] == pytest.approx(100 * math.log(p_bob / base) / 2)
    mean_ln = (math.log(p_ada) + math.log(p_bob)) / 2
    assert scores[(ada.pk, "peer")] == pytest.approx(100 * 2 * (math.log(p_ada) - mean_ln) / 2)
    assert scores[(ada.pk, "peer_at_close")] == pytest.approx(scores[(ada.pk, "peer")])
    assert scores[(ada.pk, "crps")] == pytest.approx(float(crps(sharp, 0.432)))
    assert scores[(ada.pk, "crps")] < scores[(bob.pk, "crps")]
    assert {t for u, t in scores if u == ada.pk} == {
        "log",
        "baseline",
        "peer",
        "crps",
        "log_at_close",
        "baseline_at_close",
        "peer_at_close",
        "crps_at_close",
    }
    crowd = Score.objects.filter(question=question, forecaster="crowd_median")
    assert crowd.filter(score_type="baseline").exists()
    assert not Score.objects.filter(question=question, forecaster="crowd_gmo").exists()


def test_an_outcome_above_an_open_bound_scores_the_mass_beyond_it() -> None:
    question = _numeric()
    ada = UserFactory()
    forecast_submit(user=ada, question_id=question.pk, cdf=_uniform_cdf(0.25), now=T0)

    question_resolve(
        question_id=question.pk,
        resolution="above_upper_bound",
        resolved_by=None,
        effective_at=CLOSE,
        now=CLOSE + dt.timedelta(days=1),
    )

    baseline = Score.objects.get(user=ada, score_type="baseline").value
    assert baseline == pytest.approx(100 * math.log(0.25 / 0.05) / 2)


@pytest.mark.parametrize(
    "given, field",
    [
        ({"probability": 0.5}, "probability"),
        ({"probabilities": [0.5, 0.5]}, "probabilities"),
        ({"cdf": [0.0] * 200}, "cdf"),
        ({"cdf": _uniform_cdf(0.1)[::-1]}, "cdf"),
        ({"cdf": [0.0] * 100 + [0.5] + [0.9] * 100}, "cdf"),  # a step of 0.5
        ({"cdf": [math.nan] * CDF_POINTS}, "cdf"),
        ({"cdf": _uniform_cdf(0.1), "quantiles": {0.5: 3.0, 0.9: 4.0}}, "cdf"),
        ({"quantiles": {0.9: 10.0, 0.1: 50.0}}, "quantiles"),  # out of order
        ({"quantiles": {0.1: -5.0, 0.9: 50.0}}, "quantiles"),  # below a closed bound
        ({"quantiles": {0.5: 50.0}}, "quantiles"),
        ({"quantiles": {1.5: 50.0, 0.5: 40.0}}, "quantiles"),
        ({"quantiles": {0.1: math.nan, 0.5: 40.0}}, "quantiles"),
        ({}, "cdf"),
    ],
)
def test_a_bad_distribution_is_refused_naming_the_field_and_nothing_is_written(
    given: dict[str, Any], field: str
) -> None:
    question = _numeric()

    with pytest.raises(ValidationError) as refused:
        forecast_submit(user=UserFactory(), question_id=question.pk, now=T0, **given)

    assert field in refused.value.message_dict
    assert not Forecast.objects.exists() and not AggregatePoint.objects.exists()


@pytest.mark.parametrize(
    "raw, kind, expected",
    [
        ({"0.1": 20, "0.9": "70.5"}, "numeric", {0.1: 20.0, 0.9: 70.5}),
        ({0.5: "2026-09-01", "0.9": "2027-01-01T12:00:00Z"}, "date", None),
    ],
)
def test_quantiles_from_a_request_are_read_at_the_edge(raw, kind, expected) -> None:
    if kind == "date":
        question = _numeric(kind="date", range_min=T0.timestamp(), range_max=T0.timestamp() + 4e7)
        expected = {
            0.5: dt.datetime(2026, 9, 1, tzinfo=dt.UTC).timestamp(),
            0.9: dt.datetime(2027, 1, 1, 12, tzinfo=dt.UTC).timestamp(),
        }
    else:
        question = _numeric()

    assert parse_quantiles(raw, kind=question.kind, scale=question.scale) == expected


@pytest.mark.parametrize(
    "raw",
    [
        {"0.1": "ten", "0.5": 40},
        {"0.1": 20},
        {"half": 20, "0.9": 30},
        {"0.1": 20, "0.10": 30},
        [20, 30],
        {"0.1": True, "0.9": 30},
    ],
)
def test_bad_quantiles_from_a_request_are_refused_naming_quantiles(raw) -> None:
    question = _numeric()

    with pytest.raises(ValidationError) as refused:
        parse_quantiles(raw, kind=question.kind, scale=question.scale)

    assert list(refused.value.message_dict) == ["quantiles"]


def test_a_cdf_on_a_binary_question_is_refused_naming_it() -> None:
    question = QuestionFactory()

    with pytest.raises(ValidationError) as refused:
        forecast_submit(user=UserFactory(), question_id=question.pk, cdf=_uniform_cdf(), now=T0)

    assert list(refused.value.message_dict) == ["cdf"]
