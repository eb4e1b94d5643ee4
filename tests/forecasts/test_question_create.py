"""question_create: a question drawn verbatim from its source, under a key no other has."""

from __future__ import annotations

import datetime as dt

import pytest
from django.core.exceptions import ValidationError

from forecasts.models import Question
from forecasts.services import question_create
from tests.factories import T0, QuestionFactory, SourceDocumentFactory

pytestmark = pytest.mark.django_db

DAY = dt.timedelta(days=1)


def _create(source_id: int, **changes: object) -> Question:
    values: dict = {
        "source_id": source_id,
        "title": "Will the control be lifted?",
        "resolution_criteria": "YES if it is lifted.",
        "passage": "The control may be lifted within a few weeks.",
        "opens_at": T0,
        "closes_at": T0 + 10 * DAY,
        "resolves_at": T0 + 11 * DAY,
        "now": T0,
        **changes,
    }
    return question_create(**values)


def test_a_long_title_taken_twice_gets_a_numbered_key_within_the_column() -> None:
    source = SourceDocumentFactory()
    title = ("Will " + "the control be lifted " * 8).strip()  # 180 characters: a 100-character key

    keys = [_create(source.pk, title=title).key for _ in range(3)]

    assert keys[1:] == [f"{keys[0][:92]}-2", f"{keys[0][:92]}-3"]
    assert len(keys[0]) == 100 and len(set(keys)) == 3


def test_a_passage_not_in_the_source_or_a_key_in_use_is_refused_naming_it() -> None:
    source = SourceDocumentFactory()
    taken = QuestionFactory().key

    with pytest.raises(ValidationError) as passage:
        _create(source.pk, passage="The control will surely be lifted.")
    with pytest.raises(ValidationError) as key:
        _create(source.pk, key=taken)

    assert list(passage.value.message_dict) == ["passage"]
    assert list(key.value.message_dict) == ["key"]
    assert Question.objects.count() == 1


def test_a_question_whose_close_has_passed_is_recorded_closed() -> None:
    source = SourceDocumentFactory()

    closed = _create(source.pk, now=T0 + 20 * DAY)
    still_open = _create(source.pk, now=T0 + DAY)

    assert (closed.closed_at, still_open.closed_at) == (T0 + 10 * DAY, None)
