"""factory_boy factories for the whole suite, in one place."""

from __future__ import annotations

import datetime as dt

import factory
from django.contrib.auth import get_user_model
from django.contrib.auth.models import User

from forecasts.models import Forecast, Question, QuestionKind, SourceDocument
from markets.models import Market, Trade
from markets.money import Order
from markets.services import market_trade

T0 = dt.datetime(2026, 6, 12, 12, 0, tzinfo=dt.UTC)


class UserFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = get_user_model()
        django_get_or_create = ("username",)

    username = factory.Sequence(lambda n: f"forecaster{n}")
    password = factory.django.Password("correct horse battery staple")


class SourceDocumentFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = SourceDocument

    key = factory.Sequence(lambda n: f"source-{n}")
    title = factory.Sequence(lambda n: f"Source {n}")
    author = "A. Writer"
    published_on = T0.date()
    text = "The control may be lifted within a few weeks. Other labs may be next."


class QuestionFactory(factory.django.DjangoModelFactory):
    """An open question by default: opened at T0, closing a year later."""

    class Meta:
        model = Question

    key = factory.Sequence(lambda n: f"question-{n}")
    source = factory.SubFactory(SourceDocumentFactory)
    title = factory.Sequence(lambda n: f"Will event {n} happen by 2027?")
    body = "Background."
    resolution_criteria = "YES if the event is announced officially before the deadline."
    passage = "The control may be lifted within a few weeks."
    opens_at = T0
    closes_at = factory.LazyAttribute(lambda q: q.opens_at + dt.timedelta(days=365))
    resolves_at = factory.LazyAttribute(lambda q: q.closes_at + dt.timedelta(days=1))


class ForecastFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Forecast

    question = factory.SubFactory(QuestionFactory)
    user = factory.SubFactory(UserFactory)
    probability = 0.5
    starts_at = factory.LazyAttribute(lambda f: f.question.opens_at + dt.timedelta(hours=1))


def buy(
    user: User,
    market: Market,
    *,
    outcome: object = "yes",
    now: dt.datetime | None = None,
    **size: object,
) -> Trade:
    """A buy given as a request gives it (``outcome="no", amount="25"``): parsed by the edge's
    ``Order.parse`` among the market's outcomes, then traded by ``market_trade``."""
    order = Order.parse(outcome=outcome, action="buy", labels=market.labels, **size)
    return market_trade(user=user, market_id=market.pk, order=order, now=now)


def sell(
    user: User,
    market: Market,
    *,
    outcome: object = "yes",
    shares: object,
    now: dt.datetime | None = None,
) -> Trade:
    """A sale given as a request gives it, parsed by ``Order.parse``, traded by ``market_trade``."""
    order = Order.parse(outcome=outcome, action="sell", shares=shares, labels=market.labels)
    return market_trade(user=user, market_id=market.pk, order=order, now=now)


OPTIONS3 = ("Lifted", "Narrowed", "Still in force")


class MultipleChoiceQuestionFactory(QuestionFactory):
    """An open multiple-choice question, with ``OPTIONS3`` unless given ``options``."""

    kind = QuestionKind.MULTIPLE_CHOICE
    options = factory.LazyFunction(lambda: list(OPTIONS3))


def options_question(n: int, **fields: object) -> Question:
    """An open multiple-choice question of ``n`` options (binary when ``n`` is 2, as a market
    of two outcomes on a yes/no question)."""
    if n == 2:
        return QuestionFactory(**fields)
    return MultipleChoiceQuestionFactory(
        options=[f"Outcome {i}" for i in range(1, n + 1)], **fields
    )
