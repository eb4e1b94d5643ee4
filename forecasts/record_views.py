"""The forecasters' records (the leaderboard, a forecaster's track record): thin views that
parse input once and call selectors."""

from __future__ import annotations

import datetime as dt

from django.contrib.auth import get_user_model
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, render
from django.utils import timezone

from forecasts.maths import score_types
from forecasts.scores import selectors as score_selectors
from forecasts.scores.distribution_calibration import user_distribution_calibration


def _parse_day(raw: str | None) -> dt.datetime | None:
    try:
        day = dt.date.fromisoformat(raw or "")
    except ValueError:
        return None
    return dt.datetime(day.year, day.month, day.day, tzinfo=dt.UTC)


def leaderboard(request: HttpRequest) -> HttpResponse:
    score_type = score_types.BY_NAME.get(request.GET.get("score", ""), score_types.PEER)
    since = _parse_day(request.GET.get("since"))
    until = _parse_day(request.GET.get("until"))
    practice = request.GET.get("practice") == "1"
    board = score_selectors.leaderboard(
        score_type=score_type.name, since=since, until=until, include_practice=practice
    )
    return render(
        request,
        "forecasts/leaderboard.html",
        {
            "board": board,
            "practice": practice,
            "score_types": score_types.CHOICES,
            "since": since,
            "until": until,
            "prior_questions": score_selectors.PRIOR_QUESTIONS,
            "uninformed": score_type.uninformed,
        },
    )


# The calibration section's tabs (``?kinds=``): which questions it counts, by name.
CALIBRATION_TABS: dict[score_selectors.CalibrationKinds, str] = {
    "all": "All questions",
    "binary": "Binary questions only",
}


def track_record(request: HttpRequest, username: str) -> HttpResponse:
    user = get_object_or_404(get_user_model(), username=username)
    now = timezone.now()
    # A link with an unknown ``kinds`` still shows the page, as the default would.
    kinds = (
        score_selectors.calibration_kinds(request.GET.get("kinds"))
        or score_selectors.DEFAULT_CALIBRATION_KINDS
    )
    record = score_selectors.user_track_record(user=user)
    mine, crowd = score_selectors.user_calibration(user=user, now=now, kinds=kinds)
    market = score_selectors.user_market_calibration(user=user, now=now, kinds=kinds)
    waiting = score_selectors.user_calibration_waiting(user=user, now=now, kinds=kinds)
    distributions, crowd_distributions = user_distribution_calibration(user=user, now=now)
    return render(
        request,
        "forecasts/track_record.html",
        {
            "subject": user,
            "record": record,
            "kinds": kinds,
            "kinds_tabs": CALIBRATION_TABS.items(),
            "calibration": mine,
            "crowd_calibration": crowd,
            "market_calibration": market,
            "calibration_waiting": waiting,
            "windows": list(zip(mine.window_labels, mine.windows, strict=False)),
            "score_types": score_types.TRACK_RECORD,
            "min_n": score_selectors.CALIBRATION_MIN_N,
            "distributions": distributions,
            # Per level (50%, 80%): the user's coverage and the crowd's on the same questions.
            "coverage": list(
                zip(distributions.coverage, crowd_distributions.coverage, strict=True)
            ),
        },
    )
