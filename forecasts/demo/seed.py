"""Writing the demo's plan through the ordinary services, and removing it again."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from django.contrib.auth import get_user_model
from django.contrib.auth.models import User
from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import Q, QuerySet
from django.utils import timezone

from forecasts.demo.plan import (
    DEFAULT_QUESTIONS,
    DEFAULT_SEED,
    DEMO_FIRST_NAME,
    DEMO_GRANT,
    DEMO_LIQUIDITY,
    DEMO_SOURCE_KEY,
    DEMO_SOURCE_TITLE,
    DEMO_USERNAMES,
    Behaviour,
    PlannedQuestion,
    demo_plan,
    reported_probability,
)
from forecasts.lifecycle import question_resolve
from forecasts.models import (
    Question,
    SourceDocument,
)
from forecasts.scores.services import scores_version_bump
from forecasts.services import forecast_submit
from markets.models import Account, LedgerEntry, Market, Outcome, Trade
from markets.money import Order
from markets.services import account_grant, market_create, market_trade

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
    market = market_create(question_id=question.pk, b=DEMO_LIQUIDITY, now=planned.opens_at)
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
    market.refresh_from_db(fields=["q"])
    price = market.prices()[Outcome.YES]
    if abs(price - probability) < 0.005:
        return
    if probability > price:
        outcome, target = "yes", probability
    else:
        outcome, target = "no", 1 - probability
    order = Order.parse(outcome=outcome, action="buy", target_price=target)
    market_trade(user=user, market_id=market.pk, order=order, now=at)


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
