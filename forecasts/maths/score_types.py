"""The score types: one entry each, read by scoring, selectors, templates, charts and the API.

Each entry maps a column of the scorer's output (``forecasts.maths.ScoreTable``) to
the name its rows are stored under, and says how the score is read: its label, which way is
better, what an uninformed forecaster scores, how many decimals to show, and whether it is a
headline score (the track record and the resolution e-mail).

``forecasts.models.ScoreType`` holds the same names and labels in the same order, for the
database column's choices; a test keeps the two equal.
"""

from __future__ import annotations

import enum
import math
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from types import MappingProxyType

from forecasts.maths.intervals import FloatArray, ScoreTable


class Direction(enum.Enum):
    """Which way a score is better; the value reads well after a score's name."""

    LOWER = "lower is better"
    HIGHER = "higher is better"


class Kinds(enum.Enum):
    """Which questions a score type scores: Brier the discrete ones (binary, multiple choice),
    the CRPS, its continuous counterpart, the numeric and date ones; the rest every kind."""

    ALL = "all"
    DISCRETE = "discrete"
    CONTINUOUS = "continuous"

    def covers(self, *, continuous: bool) -> bool:
        if self is Kinds.ALL:
            return True
        return (self is Kinds.CONTINUOUS) == continuous


class Timing(enum.Enum):
    """Over the whole open period, or the forecast standing at close only."""

    TIME_AVERAGED = "time-averaged"
    AT_CLOSE = "at close"


@dataclass(frozen=True)
class ScoreTypeSpec:
    """One score type.

    ``name`` is the stored value (at most 20 characters, the column's width); ``uninformed``
    is what a forecast of 50 % on a binary question scores, in the score's own units, and is
    the prior of the leaderboard's adjusted mean; ``digits`` are the decimals shown;
    ``chart_reference`` is the level line the score-over-time chart draws (None: none);
    ``column`` reads this score's values, one per (question, forecaster) row, from the
    scorer's table (NaN where there is none); ``kinds`` says which questions it scores.
    """

    name: str
    label: str
    direction: Direction
    uninformed: float
    digits: int
    timing: Timing
    on_track_record: bool
    chart_reference: float | None
    column: Callable[[ScoreTable], FloatArray]
    kinds: Kinds = Kinds.ALL

    @property
    def lower_is_better(self) -> bool:
        return self.direction is Direction.LOWER


class UnknownScoreType(ValueError):
    """A name that is no score type's."""

    def __init__(self, name: object) -> None:
        known = ", ".join(BY_NAME)
        super().__init__(f"unknown score type {name!r}; the score types are: {known}")
        self.name = name


BRIER = ScoreTypeSpec(
    name="brier",
    label="Brier (time-averaged)",
    direction=Direction.LOWER,
    uninformed=0.25,
    digits=3,
    timing=Timing.TIME_AVERAGED,
    on_track_record=True,
    chart_reference=None,
    column=lambda table: table.brier,
    kinds=Kinds.DISCRETE,
)
LOG = ScoreTypeSpec(
    name="log",
    label="Log (time-averaged)",
    direction=Direction.HIGHER,
    uninformed=math.log(0.5),
    digits=3,
    timing=Timing.TIME_AVERAGED,
    on_track_record=True,
    chart_reference=None,
    column=lambda table: table.log,
)
BASELINE = ScoreTypeSpec(
    name="baseline",
    label="Baseline (time-averaged)",
    direction=Direction.HIGHER,
    uninformed=0.0,
    digits=1,
    timing=Timing.TIME_AVERAGED,
    on_track_record=True,
    chart_reference=0.0,
    column=lambda table: table.baseline,
)
PEER = ScoreTypeSpec(
    name="peer",
    label="Peer (time-averaged)",
    direction=Direction.HIGHER,
    uninformed=0.0,
    digits=1,
    timing=Timing.TIME_AVERAGED,
    on_track_record=True,
    chart_reference=0.0,
    column=lambda table: table.peer,
)
BRIER_AT_CLOSE = ScoreTypeSpec(
    name="brier_at_close",
    label="Brier at close",
    direction=Direction.LOWER,
    uninformed=0.25,
    digits=3,
    timing=Timing.AT_CLOSE,
    on_track_record=False,
    chart_reference=None,
    column=lambda table: table.brier_at_close,
    kinds=Kinds.DISCRETE,
)
LOG_AT_CLOSE = ScoreTypeSpec(
    name="log_at_close",
    label="Log at close",
    direction=Direction.HIGHER,
    uninformed=math.log(0.5),
    digits=3,
    timing=Timing.AT_CLOSE,
    on_track_record=False,
    chart_reference=None,
    column=lambda table: table.log_at_close,
)
BASELINE_AT_CLOSE = ScoreTypeSpec(
    name="baseline_at_close",
    label="Baseline at close",
    direction=Direction.HIGHER,
    uninformed=0.0,
    digits=1,
    timing=Timing.AT_CLOSE,
    on_track_record=False,
    chart_reference=0.0,
    column=lambda table: table.baseline_at_close,
)
PEER_AT_CLOSE = ScoreTypeSpec(
    name="peer_at_close",
    label="Peer at close",
    direction=Direction.HIGHER,
    uninformed=0.0,
    digits=1,
    timing=Timing.AT_CLOSE,
    on_track_record=False,
    chart_reference=0.0,
    column=lambda table: table.peer_at_close,
)

# The CRPS of a numeric or date question's CDF, in units of its (scaled) range: the scorer's
# quadratic column, which holds Brier on the other kinds. A uniform CDF's mean CRPS, the
# outcome uniform over the range, is 1/6.
CRPS = ScoreTypeSpec(
    name="crps",
    label="CRPS (time-averaged)",
    direction=Direction.LOWER,
    uninformed=1 / 6,
    digits=3,
    timing=Timing.TIME_AVERAGED,
    on_track_record=False,
    chart_reference=None,
    column=lambda table: table.brier,
    kinds=Kinds.CONTINUOUS,
)
CRPS_AT_CLOSE = ScoreTypeSpec(
    name="crps_at_close",
    label="CRPS at close",
    direction=Direction.LOWER,
    uninformed=1 / 6,
    digits=3,
    timing=Timing.AT_CLOSE,
    on_track_record=False,
    chart_reference=None,
    column=lambda table: table.brier_at_close,
    kinds=Kinds.CONTINUOUS,
)

# The order of the leaderboard's menu, the API's enum and the database column's choices.
SCORE_TYPES: tuple[ScoreTypeSpec, ...] = (
    BRIER,
    LOG,
    BASELINE,
    PEER,
    BRIER_AT_CLOSE,
    LOG_AT_CLOSE,
    BASELINE_AT_CLOSE,
    PEER_AT_CLOSE,
    CRPS,
    CRPS_AT_CLOSE,
)
BY_NAME: Mapping[str, ScoreTypeSpec] = MappingProxyType({t.name: t for t in SCORE_TYPES})
NAMES: tuple[str, ...] = tuple(BY_NAME)
CHOICES: tuple[tuple[str, str], ...] = tuple((t.name, t.label) for t in SCORE_TYPES)
TRACK_RECORD: tuple[ScoreTypeSpec, ...] = tuple(t for t in SCORE_TYPES if t.on_track_record)


def score_type(name: str) -> ScoreTypeSpec:
    """The entry stored under ``name``; UnknownScoreType (a ValueError) names the known ones."""
    try:
        return BY_NAME[name]
    except (KeyError, TypeError):
        raise UnknownScoreType(name) from None
