"""The demo's plan, pure (no database): a seed and a moment give every practice question,
its hidden chance, its outcome and its forecasts."""

from __future__ import annotations

import datetime as dt
import math
from dataclasses import dataclass
from decimal import Decimal
from enum import StrEnum
from statistics import NormalDist

import numpy as np

from forecasts.models import (
    PRACTICE_SOURCE_KEY,
    PROBABILITY_MAX,
    PROBABILITY_MIN,
)

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
