"""Demo data: resolved practice questions and simulated forecasters, for a fresh install.

Fetch, then compute: ``demo_plan`` is pure (no database) and turns a seed and a moment into
every practice question, its hidden chance, its outcome and its forecasts; ``demo_seed`` writes
the plan through the ordinary services (``forecast_submit``, ``question_resolve``), so the
scores, crowd history and calibration are the ones real forecasts would get.

The practice questions live on their own source document (key ``demo-practice``), their keys
start with ``demo-`` and their titles with ``[Practice]``; they are all resolved, so the open
list keeps showing only real questions.

The simulated world. A question's hidden chance ``q`` of YES is drawn from Beta(1.2, 1.2).
News arrives as a Brownian motion W over the open period (t from 0 to 1) and a residual E ~
N(0, RESIDUAL_VARIANCE) stays unknown until after the close; the outcome is YES when
mu + W(1) + E > 0, with mu chosen so that P(YES) = q. The well-informed probability at t is

    signal(t) = Phi((mu + W(t)) / sqrt(1 - t + RESIDUAL_VARIANCE)),

a martingale: calibrated at every moment, equal to q at the open and sharper as the close
nears. Each demo forecaster reports a distortion of that signal (see ``Behaviour``).
"""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from decimal import Decimal
from enum import StrEnum
from statistics import NormalDist

import numpy as np
from django.contrib.auth import get_user_model
from django.contrib.auth.models import User
from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import Q, QuerySet
from django.utils import timezone

from forecasts.models import (
    PRACTICE_SOURCE_KEY,
    PROBABILITY_MAX,
    PROBABILITY_MIN,
    Question,
    SourceDocument,
)
from forecasts.resolution import question_resolve
from forecasts.score_services import scores_version_bump
from forecasts.services import forecast_submit
from markets.models import Account, LedgerEntry, Market, Trade
from markets.services import account_grant, market_buy, market_create

DEMO_SOURCE_KEY = PRACTICE_SOURCE_KEY
DEMO_SOURCE_TITLE = "Practice questions (demo data)"
QUESTION_KEY_PREFIX = "demo-practice-"
TITLE_PREFIX = "[Practice] "
DEMO_FIRST_NAME = "Demo"

# Each practice question has a market; the simulated forecasters trade its price to their own
# forecasts, so the market's line and its calibration show beside the crowd's. They are given
# enough play money never to run dry (their market profits are practice, like their scores).
DEMO_LIQUIDITY = Decimal(50)
DEMO_GRANT = Decimal(100_000)
DEFAULT_SEED = 7
DEFAULT_QUESTIONS = 120

# Opened between 540 and 60 days before now, open 10 to 60 days, resolved a day after the
# close: resolutions spread over some six calendar quarters, all in the past.
OPENS_DAYS_AGO = (60.0, 540.0)
OPEN_DAYS = (10.0, 60.0)
RESOLVE_AFTER_CLOSE = dt.timedelta(days=1)
BETA_SHAPE = 1.2
# Half of what decides the outcome is still unknown at the close: the final forecasts are
# sharp but not certain, so the calibration charts use every bin.
RESIDUAL_VARIANCE = 1.0
FORECASTS_PER_USER = (1, 4)
# Forecasts fall in this share of the open period (never on the open or the close).
FORECAST_WINDOW = (0.02, 0.98)


class Behaviour(StrEnum):
    """How a simulated forecaster turns the well-informed signal into a forecast."""

    CALIBRATED = "calibrated"  # the signal, with small noise
    OVERCONFIDENT = "overconfident"  # sigmoid(2.5 logit(signal)): towards 0 and 1
    UNDERCONFIDENT = "underconfident"  # sigmoid(0.4 logit(signal)): towards 0.5
    HERDER = "herder"  # the crowd's current median, nudged a little
    NOISY = "noisy"  # the signal, with large noise

    @property
    def username(self) -> str:
        return f"demo-{self.value}"


# Standard deviation of the noise added in log-odds space.
NOISE_SD: dict[Behaviour, float] = {
    Behaviour.CALIBRATED: 0.15,
    Behaviour.OVERCONFIDENT: 0.15,
    Behaviour.UNDERCONFIDENT: 0.15,
    Behaviour.HERDER: 0.15,
    Behaviour.NOISY: 1.5,
}
CONFIDENCE_FACTOR: dict[Behaviour, float] = {
    Behaviour.OVERCONFIDENT: 2.5,
    Behaviour.UNDERCONFIDENT: 0.4,
}
DEMO_USERNAMES: tuple[str, ...] = tuple(b.username for b in Behaviour)

_NORMAL = NormalDist()


# --- the plan (pure) --------------------------------------------------------------------------


def logit(p: float) -> float:
    """Log-odds of ``p``, which is clipped to [1e-9, 1 - 1e-9] (a signal can round to 1)."""
    p = min(1.0 - 1e-9, max(1e-9, p))
    return math.log(p / (1.0 - p))


def sigmoid(x: float) -> float:
    if x >= 0:
        return 1.0 / (1.0 + math.exp(-x))
    e = math.exp(x)
    return e / (1.0 + e)


def as_forecast(p: float) -> float:
    """A probability as a person would enter it: three decimals, within [0.001, 0.999]."""
    return min(PROBABILITY_MAX, max(PROBABILITY_MIN, round(p, 3)))


def reported_probability(
    behaviour: Behaviour, *, signal: float, noise: float, crowd_median: float | None = None
) -> float:
    """The forecast a demo user enters, given the signal and its noise in log-odds.

    The herder needs the crowd's median (it ignores the signal); the others ignore the crowd.
    """
    if behaviour == Behaviour.HERDER:
        if crowd_median is None:
            raise ValueError("the herder needs the crowd's median")
        centre = logit(crowd_median)
    else:
        centre = CONFIDENCE_FACTOR.get(behaviour, 1.0) * logit(signal)
    return as_forecast(sigmoid(centre + noise))


@dataclass(frozen=True)
class PlannedForecast:
    behaviour: Behaviour
    at: dt.datetime
    signal: float  # the well-informed probability at ``at``
    noise: float  # log-odds noise of this forecast
    probability: float | None  # None for the herder: it reads the crowd when it forecasts


@dataclass(frozen=True)
class PlannedQuestion:
    index: int
    true_probability: float
    outcome: str  # "yes" or "no"
    opens_at: dt.datetime
    closes_at: dt.datetime
    resolves_at: dt.datetime
    forecasts: tuple[PlannedForecast, ...]  # in time order

    @property
    def key(self) -> str:
        return f"{QUESTION_KEY_PREFIX}{self.index:03d}"

    @property
    def title(self) -> str:
        return f"{TITLE_PREFIX}Will simulated event {self.index:03d} happen?"

    @property
    def body(self) -> str:
        return (
            "A practice question about a made-up event, forecast by simulated demo users so "
            "that scores and calibration charts have something to show. It is not drawn from "
            f"any real source. Its hidden chance of YES was {self.true_probability:.0%}; it "
            f"resolved {self.outcome.upper()}."
        )


def _times(rng: np.random.Generator, count: int, low: float) -> list[float]:
    return sorted(rng.uniform(low, FORECAST_WINDOW[1], count).tolist())


def question_plan(*, seed: int, index: int, now: dt.datetime) -> PlannedQuestion:
    """One practice question: a function of (seed, index, now) alone, so that a partial seed
    can be completed and every question is the same whichever others exist."""
    rng = np.random.default_rng([seed, index])
    q = float(np.clip(rng.beta(BETA_SHAPE, BETA_SHAPE), 0.01, 0.99))
    days_ago = float(rng.uniform(*OPENS_DAYS_AGO))
    open_days = float(rng.uniform(OPEN_DAYS[0], min(OPEN_DAYS[1], days_ago - 2.0)))
    opens_at = (now - dt.timedelta(days=days_ago)).replace(second=0, microsecond=0)
    closes_at = opens_at + dt.timedelta(days=round(open_days * 24) / 24)

    low, high = FORECASTS_PER_USER
    moments: list[tuple[float, Behaviour]] = []
    for behaviour in Behaviour:
        if behaviour == Behaviour.HERDER:
            continue
        count = int(rng.integers(low, high + 1))
        moments += [(t, behaviour) for t in _times(rng, count, FORECAST_WINDOW[0])]
    # The herder forecasts only once someone else has: there is a crowd to follow.
    first = min(t for t, _ in moments)
    count = int(rng.integers(low, high + 1))
    herder_from = min(first + 1e-3, FORECAST_WINDOW[1])
    moments += [(t, Behaviour.HERDER) for t in _times(rng, count, herder_from)]
    moments.sort()

    mu = _NORMAL.inv_cdf(q) * math.sqrt(1.0 + RESIDUAL_VARIANCE)
    walk, last_t = 0.0, 0.0
    forecasts: list[PlannedForecast] = []
    for t, behaviour in moments:
        walk += float(rng.normal(0.0, math.sqrt(t - last_t)))
        last_t = t
        signal = _NORMAL.cdf((mu + walk) / math.sqrt(1.0 - t + RESIDUAL_VARIANCE))
        noise = float(rng.normal(0.0, NOISE_SD[behaviour]))
        forecasts.append(
            PlannedForecast(
                behaviour=behaviour,
                at=opens_at + (closes_at - opens_at) * t,
                signal=signal,
                noise=noise,
                probability=None
                if behaviour == Behaviour.HERDER
                else reported_probability(behaviour, signal=signal, noise=noise),
            )
        )
    walk += float(rng.normal(0.0, math.sqrt(1.0 - last_t)))
    residual = float(rng.normal(0.0, math.sqrt(RESIDUAL_VARIANCE)))
    return PlannedQuestion(
        index=index,
        true_probability=q,
        outcome="yes" if mu + walk + residual > 0 else "no",
        opens_at=opens_at,
        closes_at=closes_at,
        resolves_at=closes_at + RESOLVE_AFTER_CLOSE,
        forecasts=tuple(forecasts),
    )


def demo_plan(*, seed: int, questions: int, now: dt.datetime) -> tuple[PlannedQuestion, ...]:
    """Every practice question, numbered from 1."""
    return tuple(question_plan(seed=seed, index=i, now=now) for i in range(1, questions + 1))


# --- writing it -------------------------------------------------------------------------------

SOURCE_TEXT = (
    "Practice questions (demo data). These questions are not drawn from any real text. "
    "Each is a made-up event with a hidden chance of happening, forecast by simulated demo "
    "users with distinct habits (calibrated, overconfident, underconfident, following the "
    "crowd, noisy) and resolved by a simulated draw. They exist so that a fresh install shows "
    "scores, leaderboards and calibration charts. Remove them, with the demo users, by "
    "`manage.py seed_demo --delete`."
)
PASSAGE = "Each is a made-up event with a hidden chance of happening"
CRITERIA = "Resolved by a simulated draw: YES with the hidden chance given in the background."


@dataclass(frozen=True)
class SeedResult:
    created: int  # practice questions created by this run
    existing: int  # practice questions of the plan that were already there
    forecasts: int  # forecasts created by this run
    users_created: int
    usernames: tuple[str, ...]


@dataclass(frozen=True)
class ResetResult:
    questions: int
    users: int


def _is_demo_account(user: User) -> bool:
    return user.first_name == DEMO_FIRST_NAME and not user.has_usable_password()


@transaction.atomic
def demo_users_ensure() -> tuple[dict[Behaviour, User], int]:
    """The demo users, created if missing; refuses to adopt a real account of the same name."""
    model = get_user_model()
    existing = {u.username: u for u in model.objects.filter(username__in=DEMO_USERNAMES)}
    taken = [name for name, user in existing.items() if not _is_demo_account(user)]
    if taken:
        raise ValidationError(
            f"These usernames belong to real accounts, not demo ones: {', '.join(taken)}."
        )
    users: dict[Behaviour, User] = {}
    for behaviour in Behaviour:
        user = existing.get(behaviour.username)
        if user is None:
            user = model(
                username=behaviour.username,
                first_name=DEMO_FIRST_NAME,
                last_name=f"({behaviour.value})",
            )
            user.set_unusable_password()
            user.save()
            account_grant(user=user, amount=DEMO_GRANT)
        users[behaviour] = user
    return users, len(users) - len(existing)


def demo_source_ensure(*, now: dt.datetime) -> SourceDocument:
    source, _ = SourceDocument.objects.get_or_create(
        key=DEMO_SOURCE_KEY,
        defaults={"title": DEMO_SOURCE_TITLE, "published_on": now.date(), "text": SOURCE_TEXT},
    )
    return source


@transaction.atomic
def practice_question_create(
    *, planned: PlannedQuestion, source: SourceDocument, users: dict[Behaviour, User]
) -> Question:
    """Create one practice question, place its forecasts at their times, resolve it at close."""
    question = Question.objects.create(
        key=planned.key,
        source=source,
        title=planned.title,
        body=planned.body,
        resolution_criteria=CRITERIA,
        passage=PASSAGE,
        opens_at=planned.opens_at,
        closes_at=planned.closes_at,
        resolves_at=planned.resolves_at,
        auto_outcome=planned.outcome,
    )
    market = market_create(question=question, b=DEMO_LIQUIDITY, now=planned.opens_at)
    for forecast in planned.forecasts:
        probability = forecast.probability
        if probability is None:
            crowd = Question.objects.values_list("crowd_median", flat=True).get(pk=question.pk)
            probability = reported_probability(
                forecast.behaviour, signal=forecast.signal, noise=forecast.noise, crowd_median=crowd
            )
        forecast_submit(
            user=users[forecast.behaviour],
            question_id=question.pk,
            probability=probability,
            now=forecast.at,
        )
        _trade_towards(users[forecast.behaviour], market, probability, at=forecast.at)
    return question_resolve(
        question_id=question.pk,
        resolution=planned.outcome,
        resolved_by=None,
        effective_at=planned.closes_at,
        note="Practice question: resolved by its simulated draw.",
        now=planned.resolves_at,
    )


def _trade_towards(user: User, market: Market, probability: float, at: dt.datetime) -> None:
    """The forecaster buys whichever side moves the market's price of YES to its forecast."""
    market.refresh_from_db(fields=["q_yes", "q_no"])
    price = market.price_yes
    if abs(price - probability) < 0.005:
        return
    if probability > price:
        outcome, target = "yes", probability
    else:
        outcome, target = "no", 1 - probability
    market_buy(user=user, market_id=market.pk, outcome=outcome, target_price=target, now=at)


def _check_keys(plan: Sequence[PlannedQuestion], source: SourceDocument) -> set[str]:
    keys = [p.key for p in plan]
    clashes = list(
        Question.objects.filter(key__in=keys).exclude(source=source).values_list("key", flat=True)
    )
    if clashes:
        raise ValidationError(
            f"Question keys used by another source: {', '.join(sorted(clashes)[:5])}."
        )
    return set(Question.objects.filter(key__in=keys).values_list("key", flat=True))


def demo_seed(
    *,
    seed: int = DEFAULT_SEED,
    questions: int = DEFAULT_QUESTIONS,
    now: dt.datetime | None = None,
) -> SeedResult:
    """Create whatever of the demo data is missing; a second run creates nothing.

    Each question (creation, forecasts, resolution) is one transaction, so an interrupted run
    leaves whole questions behind and the next run completes the rest.
    """
    if questions < 1:
        raise ValidationError("Seed at least one practice question.")
    now = now or timezone.now()
    plan = demo_plan(seed=seed, questions=questions, now=now)
    with transaction.atomic():  # a refusal leaves no demo users or source behind
        users, users_created = demo_users_ensure()
        source = demo_source_ensure(now=now)
        existing = _check_keys(plan, source)
    created = forecasts = 0
    for planned in plan:
        if planned.key in existing:
            continue
        practice_question_create(planned=planned, source=source, users=users)
        created += 1
        forecasts += len(planned.forecasts)
    return SeedResult(
        created=created,
        existing=len(existing),
        forecasts=forecasts,
        users_created=users_created,
        usernames=DEMO_USERNAMES,
    )


def _demo_users(usernames: Iterable[str]) -> list[int]:
    users = get_user_model().objects.filter(username__in=list(usernames))
    return [u.pk for u in users if _is_demo_account(u)]


@transaction.atomic
def demo_reset(*, now: dt.datetime | None = None) -> ResetResult:
    """Delete the practice questions (their forecasts and scores go with them), their markets,
    their source and the demo users with their market accounts. Accounts that merely share a
    demo username are left alone.

    Only demo users trade on practice markets (they are settled as they are created), so the
    ledger entries removed are whole pairs and the ledger still balances afterwards.
    """
    now = now or timezone.now()
    practice = Question.objects.filter(source__key=DEMO_SOURCE_KEY)
    question_count = practice.count()
    user_ids = _demo_users(DEMO_USERNAMES)
    _markets_delete(
        markets=Market.objects.filter(question__in=practice),
        accounts=Account.objects.filter(user_id__in=user_ids),
    )
    _, deleted = practice.delete()
    SourceDocument.objects.filter(key=DEMO_SOURCE_KEY).delete()
    _, deleted_by_users = get_user_model().objects.filter(pk__in=user_ids).delete()
    if deleted.get("forecasts.Score") or deleted_by_users.get("forecasts.Score"):
        scores_version_bump(now=now)  # leaderboards and score caches must not show them
    return ResetResult(questions=question_count, users=len(user_ids))


def _markets_delete(*, markets: QuerySet[Market], accounts: QuerySet[Account]) -> None:
    """Delete markets and accounts with their trades and ledger entries (reversals first:
    every reference between them is protected)."""
    entries = LedgerEntry.objects.filter(Q(market__in=markets) | Q(account__in=accounts))
    entries.filter(reverses__isnull=False).delete()
    entries.delete()
    Trade.objects.filter(Q(market__in=markets) | Q(account__in=accounts)).delete()
    markets.delete()
    accounts.delete()
