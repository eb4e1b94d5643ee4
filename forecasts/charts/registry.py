"""Every chart, once: its name, whose it is, how its data is gathered and drawn, how its cached
image is keyed, and so where it is served.

The web views, the API views and the cache read this table. A new chart is one entry here, a
gatherer in ``data`` and a renderer in ``calibration_charts`` or ``question_charts``: its
addresses follow from its kind and name.
"""

from __future__ import annotations

import datetime as dt
import enum
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Generic, TypeVar

from django.contrib.auth.models import User
from django.http import Http404, QueryDict
from django.urls import reverse

from forecasts.charts import calibration_charts, data, price_charts, question_charts
from forecasts.maths import score_types
from forecasts.models import Question
from forecasts.scores import selectors as score_selectors

# ``render_*(data, format, *, title) -> bytes``
Renderer = Callable[..., bytes]


class Kind(enum.StrEnum):
    """Whose chart it is. The kind sets the chart's addresses (``<name>`` is the chart's):

    - user: ``charts/users/<username>/<name>.<fmt>``, API ``users/<username>/charts/<name>/``
    - question: ``charts/questions/<id>/<name>.<fmt>``, API ``questions/<id>/charts/<name>/``
    - crowd: ``charts/crowd/<name>.<fmt>``, not in the API
    """

    USER = "user"
    QUESTION = "question"
    CROWD = "crowd"


# The URL names of each kind's addresses, on the web and in the API.
URL_NAMES: dict[Kind, tuple[str, str | None]] = {
    Kind.USER: ("forecasts:user_chart", "api:user-chart"),
    Kind.QUESTION: ("forecasts:question_chart", "api:question-chart"),
    Kind.CROWD: ("forecasts:crowd_chart", None),
}


@dataclass(frozen=True)
class UserSubject:
    user: User
    now: dt.datetime
    params: QueryDict  # the query string: a chart's options (``score``, ``kinds``)


@dataclass(frozen=True)
class QuestionSubject:
    question: Question
    viewer: User | None  # signed in: the chart shows the viewer's own forecasts too
    now: dt.datetime
    params: QueryDict


@dataclass(frozen=True)
class CrowdSubject:
    now: dt.datetime
    params: QueryDict  # ``practice=1`` counts the practice questions; ``kinds``


S = TypeVar("S")


@dataclass(frozen=True)
class Chart(Generic[S]):
    """One chart. Its functions take the subject of its kind: a ``UserSubject``,
    ``QuestionSubject`` or ``CrowdSubject``."""

    name: str  # in its addresses and its cache key; one per kind
    kind: Kind
    gather: Callable[[S], data.ChartData]
    render: Renderer
    # Whose chart, in the cache key and the CSV's file name; it may raise Http404 on bad options.
    cache_subject: Callable[[S], str]
    # What its data depends on, read without gathering it (see ``forecasts.charts.cache``).
    version: Callable[[S], str]

    def url(self, *subject: object, fmt: str) -> str:
        """Its web address, e.g. ``url("ada", fmt="png")`` for a user's chart."""
        return reverse(URL_NAMES[self.kind][0], args=[*subject, self.name, fmt])

    def api_url(self, *subject: object) -> str | None:
        """Its API address, or None where the kind has none."""
        name = URL_NAMES[self.kind][1]
        return None if name is None else reverse(name, args=[*subject, self.name])


def _score_type(params: QueryDict) -> str:
    """The ``score`` option's score type, baseline when absent; an unknown one is a 404."""
    try:
        return score_types.score_type(params.get("score", score_types.BASELINE.name)).name
    except score_types.UnknownScoreType:
        raise Http404("Unknown score type") from None


def _practice(params: QueryDict) -> bool:
    return params.get("practice") == "1"


def _kinds(params: QueryDict) -> score_selectors.CalibrationKinds:
    """The ``kinds`` option of a calibration chart: ``all`` when absent (multiple-choice
    questions one-vs-rest beside the binary ones) or ``binary``; anything else is a 404."""
    kinds = score_selectors.calibration_kinds(params.get("kinds"))
    if kinds is None:
        raise Http404("Unknown kinds of question")
    return kinds


def _kinds_key(params: QueryDict) -> str:
    """The cache key's part for ``kinds``: none for the default, so its keys are unchanged."""
    kinds = _kinds(params)
    return "" if kinds == score_selectors.DEFAULT_CALIBRATION_KINDS else f"-{kinds}"


def _user(subject: UserSubject) -> str:
    return f"u{subject.user.pk}"


def _scores_version(subject: UserSubject | CrowdSubject) -> str:
    return data.scores_charts_version(now=subject.now)


def _question(subject: QuestionSubject) -> str:
    viewer = subject.viewer
    return f"q{subject.question.pk}-" + (f"u{viewer.pk}" if viewer else "public")


def _question_version(subject: QuestionSubject) -> str:
    return data.question_chart_version(
        question=subject.question, user=subject.viewer, now=subject.now
    )


# The options chart draws the crowd only: every viewer gets the same one.
def _question_public(subject: QuestionSubject) -> str:
    return f"q{subject.question.pk}-public"


def _question_public_version(subject: QuestionSubject) -> str:
    return data.question_chart_version(question=subject.question, user=None, now=subject.now)


_CHARTS: list[Chart[Any]] = [
    Chart[UserSubject](
        name="calibration",
        kind=Kind.USER,
        gather=lambda s: data.user_calibration_chart(
            user=s.user, now=s.now, kinds=_kinds(s.params)
        ),
        render=calibration_charts.render_reliability,
        cache_subject=lambda s: f"{_user(s)}{_kinds_key(s.params)}",
        version=_scores_version,
    ),
    Chart[UserSubject](
        name="calibration-over-time",
        kind=Kind.USER,
        gather=lambda s: data.user_calibration_over_time_chart(
            user=s.user, now=s.now, kinds=_kinds(s.params)
        ),
        render=calibration_charts.render_calibration_over_time,
        cache_subject=lambda s: f"{_user(s)}{_kinds_key(s.params)}",
        version=_scores_version,
    ),
    Chart[UserSubject](
        name="pit-histogram",
        kind=Kind.USER,
        gather=lambda s: data.user_pit_histogram_chart(user=s.user, now=s.now),
        render=calibration_charts.render_pit_histogram,
        cache_subject=_user,
        version=_scores_version,
    ),
    Chart[UserSubject](
        name="interval-coverage",
        kind=Kind.USER,
        gather=lambda s: data.user_interval_coverage_chart(user=s.user, now=s.now),
        render=calibration_charts.render_interval_coverage,
        cache_subject=_user,
        version=_scores_version,
    ),
    Chart[UserSubject](
        name="scores",
        kind=Kind.USER,
        gather=lambda s: data.user_score_chart(user=s.user, score_type=_score_type(s.params)),
        render=question_charts.render_score_over_time,
        cache_subject=lambda s: f"{_user(s)}-{_score_type(s.params)}",
        version=_scores_version,
    ),
    Chart[CrowdSubject](
        name="calibration",
        kind=Kind.CROWD,
        gather=lambda s: data.crowd_calibration_chart(
            now=s.now, include_practice=_practice(s.params), kinds=_kinds(s.params)
        ),
        render=calibration_charts.render_reliability,
        cache_subject=lambda s: (
            ("crowd-practice" if _practice(s.params) else "crowd") + _kinds_key(s.params)
        ),
        version=_scores_version,
    ),
    Chart[QuestionSubject](
        name="history",
        kind=Kind.QUESTION,
        gather=lambda s: data.question_history_chart(question=s.question, user=s.viewer, now=s.now),
        render=question_charts.render_question_history,
        cache_subject=_question,
        version=_question_version,
    ),
    Chart[QuestionSubject](
        name="fan",
        kind=Kind.QUESTION,
        gather=lambda s: data.question_fan_chart(question=s.question, user=s.viewer, now=s.now),
        render=question_charts.render_question_fan,
        cache_subject=_question,
        version=_question_version,
    ),
    Chart[QuestionSubject](
        name="options",
        kind=Kind.QUESTION,
        gather=lambda s: data.question_options_chart(question=s.question, now=s.now),
        render=question_charts.render_question_options,
        cache_subject=_question_public,
        version=_question_public_version,
    ),
    # The market's prices: its tape is public, so every viewer gets the same chart.
    Chart[QuestionSubject](
        name="prices",
        kind=Kind.QUESTION,
        gather=lambda s: data.market_prices_chart(question=s.question, now=s.now),
        render=price_charts.render_market_prices,
        cache_subject=_question_public,
        version=_question_public_version,
    ),
]

CHARTS: dict[tuple[Kind, str], Chart[Any]] = {(c.kind, c.name): c for c in _CHARTS}


def chart(kind: Kind, name: str) -> Chart[Any]:
    """The chart of that kind and name; an unknown one is a 404, as an unknown address is."""
    try:
        return CHARTS[(kind, name)]
    except KeyError:
        raise Http404("No such chart") from None


def names(kind: Kind) -> list[str]:
    """The names of the charts of ``kind``, in the registry's order (the API schema's list)."""
    return [name for k, name in CHARTS if k == kind]
