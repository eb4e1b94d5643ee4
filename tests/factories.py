"""factory_boy factories for the whole suite, in one place."""

from __future__ import annotations

import datetime as dt

import factory
from django.contrib.auth import get_user_model

from forecasts.models import Forecast, Question, SourceDocument

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
