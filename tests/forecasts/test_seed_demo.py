"""seed_demo: resolved practice questions forecast by simulated users with distinct habits."""

from __future__ import annotations

import datetime as dt
import functools
import io
from collections.abc import Iterator
from decimal import Decimal
from pathlib import Path
from statistics import mean

import pytest
from django.contrib.auth import get_user_model
from django.core.management import CommandError, call_command
from django.db import transaction
from pytest_django import DjangoDbBlocker

from forecasts.demo import plan as planning
from forecasts.demo import seed as seeding
from forecasts.demo.plan import Behaviour
from forecasts.importer import questions_import
from forecasts.models import AggregatePoint, Forecast, Question, Score, ScoreType, SourceDocument
from forecasts.scores.selectors import user_calibration
from tests.factories import QuestionFactory, UserFactory, buy

NOW = dt.datetime(2026, 11, 20, 12, 0, tzinfo=dt.UTC)
ESSAY_FILE = Path(__file__).resolve().parents[2] / "forecasts" / "questionsets" / "essay.toml"
SEEDED = 30


def _seed(questions: int = 4, **options: object) -> str:
    out = io.StringIO()
    call_command("seed_demo", questions=questions, now=NOW, stdout=out, **options)
    return out.getvalue()


def _practice() -> dict[str, int]:
    questions = Question.objects.filter(source__key=planning.DEMO_SOURCE_KEY)
    return {
        "questions": questions.count(),
        "resolved": questions.exclude(resolution="").count(),
        "forecasts": Forecast.objects.filter(question__in=questions).count(),
        "users": get_user_model().objects.filter(username__in=planning.DEMO_USERNAMES).count(),
    }


# --- the plan (no database) -------------------------------------------------------------------


@functools.cache
def _many() -> tuple[planning.PlannedQuestion, ...]:
    """Enough planned questions for the law of large numbers (planned once, ~1 s)."""
    return planning.demo_plan(seed=1, questions=1000, now=NOW)


def test_the_plan_is_deterministic_and_depends_on_the_seed() -> None:
    first = planning.demo_plan(seed=7, questions=20, now=NOW)

    again = planning.demo_plan(seed=7, questions=20, now=NOW)
    other = planning.demo_plan(seed=8, questions=20, now=NOW)

    assert first == again
    assert [p.true_probability for p in first] != [p.true_probability for p in other]


def test_every_planned_question_is_forecast_while_open_and_resolved_in_the_past() -> None:
    plan = planning.demo_plan(seed=7, questions=120, now=NOW)

    for planned in plan:
        times = [f.at for f in planned.forecasts]
        counts = [sum(f.behaviour == b for f in planned.forecasts) for b in Behaviour]
        assert NOW - dt.timedelta(days=541) < planned.opens_at < NOW - dt.timedelta(days=59)
        assert 10 <= (planned.closes_at - planned.opens_at).days <= 60
        assert planned.closes_at < planned.resolves_at <= NOW
        assert planned.opens_at < times[0] and times[-1] < planned.closes_at
        assert times == sorted(times) and len(set(times)) == len(times)
        assert all(1 <= c <= 4 for c in counts)
        assert planned.forecasts[0].behaviour != Behaviour.HERDER  # a crowd to follow


def test_the_resolutions_spread_over_several_calendar_quarters() -> None:
    plan = planning.demo_plan(seed=7, questions=120, now=NOW)

    quarters = {(p.closes_at.year, (p.closes_at.month - 1) // 3) for p in plan}

    assert len(quarters) >= 5


def test_outcomes_follow_the_hidden_chance_and_the_signal_is_calibrated() -> None:
    plan = _many()

    yes = [p.outcome == "yes" for p in plan]
    likely = [p.outcome == "yes" for p in plan if p.true_probability > 0.7]
    unlikely = [p.outcome == "yes" for p in plan if p.true_probability < 0.3]
    signals = [(f.signal, p.outcome == "yes") for p in plan for f in p.forecasts]

    assert mean(yes) == pytest.approx(mean(p.true_probability for p in plan), abs=0.04)
    assert mean(likely) > 0.75 and mean(unlikely) < 0.25
    assert mean(s for s, _ in signals) == pytest.approx(mean(y for _, y in signals), abs=0.04)


def test_on_many_questions_the_planned_forecasts_rank_as_their_habits_predict() -> None:
    plan = _many()

    def brier(behaviour: Behaviour) -> float:
        return mean(
            (f.probability - (p.outcome == "yes")) ** 2
            for p in plan
            for f in p.forecasts
            if f.behaviour == behaviour and f.probability is not None
        )

    calibrated = brier(Behaviour.CALIBRATED)
    assert calibrated < brier(Behaviour.OVERCONFIDENT)
    assert calibrated < brier(Behaviour.UNDERCONFIDENT)
    assert calibrated + 0.02 < brier(Behaviour.NOISY)


def test_the_habits_distort_the_signal_as_specified() -> None:
    def report(behaviour: Behaviour, signal: float, crowd: float | None = None) -> float:
        return planning.reported_probability(
            behaviour, signal=signal, noise=0.0, crowd_median=crowd
        )

    assert report(Behaviour.CALIBRATED, 0.8) == 0.8
    assert report(Behaviour.OVERCONFIDENT, 0.8) == round(
        planning.sigmoid(2.5 * planning.logit(0.8)), 3
    )
    assert report(Behaviour.UNDERCONFIDENT, 0.8) == round(
        planning.sigmoid(0.4 * planning.logit(0.8)), 3
    )
    assert report(Behaviour.HERDER, 0.9, crowd=0.3) == 0.3
    assert report(Behaviour.OVERCONFIDENT, 0.9999) == 0.999  # within the accepted range
    with pytest.raises(ValueError, match="crowd"):
        report(Behaviour.HERDER, 0.9)


# --- the command ------------------------------------------------------------------------------


@pytest.mark.django_db
def test_seeding_makes_demo_users_and_resolved_practice_questions_apart_from_the_essay() -> None:
    essay = questions_import(path=ESSAY_FILE).source

    output = _seed(questions=4)

    practice = Question.objects.filter(source__key=planning.DEMO_SOURCE_KEY)
    counts = _practice()
    assert (counts["questions"], counts["resolved"], counts["users"]) == (4, 4, 5)
    assert counts["forecasts"] >= 4 * 5
    assert all(q.title.startswith("[Practice] ") and q.key.startswith("demo-") for q in practice)
    assert SourceDocument.objects.get(key="demo-practice").title == planning.DEMO_SOURCE_TITLE
    assert not essay.questions.filter(title__startswith="[Practice]").exists()
    assert not Forecast.objects.filter(question__source=essay).exists()
    assert "Created 4 resolved practice questions" in output
    assert "/users/demo-calibrated/" in output


@pytest.mark.django_db
def test_the_demo_users_are_labelled_and_cannot_sign_in() -> None:
    _seed(questions=1)

    users = get_user_model().objects.filter(username__in=planning.DEMO_USERNAMES)

    assert sorted(u.username for u in users) == sorted(
        [
            "demo-calibrated",
            "demo-overconfident",
            "demo-underconfident",
            "demo-herder",
            "demo-noisy",
        ]
    )
    assert all(u.first_name == "Demo" and not u.has_usable_password() for u in users)
    assert not any(u.email or u.is_staff for u in users)


@pytest.mark.django_db
def test_a_second_run_adds_nothing_and_says_so() -> None:
    _seed(questions=4)
    before = _practice()

    output = _seed(questions=4)

    assert _practice() == before
    assert "already present" in output


@pytest.mark.django_db
def test_an_interrupted_seed_is_completed_by_the_next_run_without_touching_the_rest() -> None:
    _seed(questions=2)
    kept = list(Forecast.objects.order_by("pk").values_list("pk", "probability"))

    _seed(questions=4)

    assert _practice()["resolved"] == 4
    assert (
        list(Forecast.objects.order_by("pk").values_list("pk", "probability"))[: len(kept)] == kept
    )


@pytest.mark.django_db
def test_reset_rebuilds_the_same_demo_data() -> None:
    _seed(questions=4)
    before = _practice()
    first_ids = set(Question.objects.values_list("pk", flat=True))

    output = _seed(questions=4, reset=True)

    assert _practice() == before
    assert first_ids.isdisjoint(Question.objects.values_list("pk", flat=True))
    assert "Deleted 4 practice questions and 5 demo users." in output


@pytest.mark.django_db
def test_delete_removes_only_the_demo_data() -> None:
    real, ada = QuestionFactory(), UserFactory()
    Forecast.objects.create(question=real, user=ada, probability=0.4, starts_at=real.opens_at)
    _seed(questions=2)

    _seed(delete=True)

    assert _practice() == {"questions": 0, "resolved": 0, "forecasts": 0, "users": 0}
    assert not SourceDocument.objects.filter(key=planning.DEMO_SOURCE_KEY).exists()
    assert list(Forecast.objects.values_list("user__username", flat=True)) == [ada.username]


@pytest.mark.django_db
def test_a_real_account_with_a_demo_username_is_never_adopted_or_deleted() -> None:
    real = UserFactory(username="demo-noisy")

    with pytest.raises(CommandError, match="demo-noisy"):
        _seed(questions=2)
    _seed(delete=True)

    assert get_user_model().objects.filter(pk=real.pk, first_name="").exists()
    assert not SourceDocument.objects.filter(key=planning.DEMO_SOURCE_KEY).exists()
    assert not get_user_model().objects.filter(username="demo-calibrated").exists()


# --- what the seeded data shows -----------------------------------------------------------------


@pytest.fixture(scope="class")
def seeded(django_db_setup: None, django_db_blocker: DjangoDbBlocker) -> Iterator[None]:
    """One seeding for the tests of a class, rolled back after them."""
    with django_db_blocker.unblock(), transaction.atomic():
        seeding.demo_seed(seed=planning.DEFAULT_SEED, questions=SEEDED, now=NOW)
        yield
        transaction.set_rollback(True)


def _mean_score(username: str, score_type: str = ScoreType.BRIER) -> float:
    return mean(
        Score.objects.filter(user__username=username, score_type=score_type).values_list(
            "value", flat=True
        )
    )


def _distance_from_half(username: str) -> float:
    probabilities = Forecast.objects.filter(user__username=username).values_list(
        "probability", flat=True
    )
    return mean(abs(p - 0.5) for p in probabilities)


def _distance_from_crowd_before(username: str) -> float:
    distances = []
    for forecast in Forecast.objects.filter(user__username=username):
        before = (
            AggregatePoint.objects.filter(question=forecast.question_id, at__lt=forecast.starts_at)
            .exclude(median=None)
            .order_by("-at")
            .first()
        )
        if before is not None:
            distances.append(abs(forecast.probability - before.median))
    return mean(distances)


@pytest.mark.django_db
@pytest.mark.usefixtures("seeded")
class TestTheSeededDemo:
    def test_every_practice_question_is_scored_for_every_demo_user(self) -> None:
        scored = Score.objects.filter(score_type=ScoreType.BRIER, forecaster="user")

        pairs = set(scored.values_list("question__key", "user__username"))

        assert len(pairs) == SEEDED * len(planning.DEMO_USERNAMES)
        assert Question.objects.filter(scores=None).count() == 0

    def test_the_calibrated_user_scores_better_than_the_noisy_one(self) -> None:
        calibrated = _mean_score("demo-calibrated")

        noisy = _mean_score("demo-noisy")

        assert calibrated + 0.01 < noisy
        assert _mean_score("demo-calibrated", ScoreType.LOG) > _mean_score(
            "demo-noisy", ScoreType.LOG
        )

    def test_the_overconfident_user_strays_further_from_half_than_the_underconfident(
        self,
    ) -> None:
        over = _distance_from_half("demo-overconfident")

        under = _distance_from_half("demo-underconfident")
        calibrated = _distance_from_half("demo-calibrated")

        assert under + 0.1 < calibrated < over - 0.05

    def test_the_herder_stays_close_to_the_crowd_median_it_saw(self) -> None:
        herder = _distance_from_crowd_before("demo-herder")

        noisy = _distance_from_crowd_before("demo-noisy")

        assert herder < 0.03
        assert herder * 4 < noisy

    def test_the_calibration_chart_has_resolutions_over_several_quarters(self) -> None:
        user = get_user_model().objects.get(username="demo-calibrated")

        report, crowd = user_calibration(user=user, now=NOW)

        assert report.n == SEEDED and crowd.n == SEEDED
        assert len(report.window_labels) >= 5


@pytest.mark.django_db
def test_practice_markets_follow_the_forecasters_settle_and_go_with_the_reset() -> None:

    from forecasts.scores.selectors import market_calibration
    from markets.audit import ledger_audit
    from markets.models import Account, LedgerEntry, Market, MarketStatus, Trade
    from markets.selectors import leaderboard
    from markets.services import market_create

    real = QuestionFactory(opens_at=NOW - dt.timedelta(days=1))
    real_market = market_create(question_id=real.pk, b=Decimal(100), now=NOW)
    buy(UserFactory(), real_market, outcome="yes", shares=5, now=NOW)

    _seed(questions=4)

    practice = Market.objects.filter(question__source__key=planning.DEMO_SOURCE_KEY)
    assert practice.count() == 4
    assert set(practice.values_list("status", flat=True)) <= {MarketStatus.RESOLVED}
    assert Trade.objects.filter(market__in=practice).count() >= 4
    assert market_calibration(now=NOW, include_practice=True).n == 4
    assert market_calibration(now=NOW).n == 0
    assert not [a for a in leaderboard() if a.user.username in planning.DEMO_USERNAMES]
    assert (
        len([a for a in leaderboard(include_practice=True) if a.user.username.startswith("demo-")])
        == 5
    )
    assert ledger_audit().ok

    call_command("seed_demo", delete=True, stdout=io.StringIO())

    assert list(Market.objects.values_list("pk", flat=True)) == [real_market.pk]
    assert not Account.objects.filter(user__username__in=planning.DEMO_USERNAMES).exists()
    assert Trade.objects.count() == 1
    assert LedgerEntry.objects.filter(market=real_market).count() == 3  # subsidy + trade pair
    assert ledger_audit().ok
