"""Multiple-choice questions over HTTP: created by staff, forecast with a vector, resolved by an
option's label; every bad input refused naming its field, with nothing written."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest

from forecasts.lifecycle import question_resolve
from forecasts.models import Forecast, Question, QuestionKind
from forecasts.services import forecast_submit
from tests.api.conftest import World
from tests.factories import T0, QuestionFactory, UserFactory

pytestmark = [pytest.mark.django_db(transaction=True)]

OPTIONS = ["Lifted", "Narrowed", "Set aside", "In force"]
VECTOR = [0.1, 0.2, 0.3, 0.4]
DAY = dt.timedelta(days=1)
NOW = dt.datetime.now(tz=dt.UTC)
OPENS, CLOSES = NOW - DAY, NOW + 300 * DAY


def _multiple_choice(world: World) -> Question:
    return QuestionFactory(
        kind=QuestionKind.MULTIPLE_CHOICE,
        options=OPTIONS,
        source=world.open_question.source,
        closes_at=world.open_question.closes_at,
    )


def _new_question(world: World, **changes: Any) -> dict[str, Any]:
    """A multiple-choice question as staff would send it."""
    return {
        "title": "How does the control on Fable 5 end?",
        "body": "Background.",
        "resolution_criteria": "The first of these reported by two major outlets.",
        "source": world.open_question.source.key,
        "passage": "Other labs may be next.",
        "kind": "multiple_choice",
        "options": OPTIONS,
        "opens_at": OPENS.isoformat(),
        "closes_at": CLOSES.isoformat(),
        "resolves_at": (CLOSES + DAY).isoformat(),
        "auto_outcome": "In force",
        **changes,
    }


def _written() -> tuple[list[tuple[Any, ...]], list[tuple[Any, ...]]]:
    forecasts = Forecast.objects.order_by("pk").values_list(
        "pk", "probability", "probabilities", "ends_at"
    )
    questions = Question.objects.order_by("pk").values_list("pk", "resolution", "resolved_option")
    return list(forecasts), list(questions)


# --- creating questions --------------------------------------------------------------------


def test_staff_create_a_multiple_choice_question(world: World, api) -> None:
    response = api("staff", world).post("/questions/", _new_question(world))

    body = response.json()
    assert response.status_code == 201, body
    assert (body["kind"], body["options"], body["status"]) == ("multiple_choice", OPTIONS, "open")
    assert (body["auto_outcome"], body["auto_option"]) == ("option", 3)
    assert body["key"] == "how-does-the-control-on-fable-5-end"
    stored = Question.objects.get(pk=body["id"])
    assert (stored.options, stored.auto_option, stored.passage) == (
        OPTIONS,
        3,
        "Other labs may be next.",
    )


def test_a_title_taken_gets_a_numbered_key_and_a_binary_question_too(world: World, api) -> None:
    staff = api("staff", world)

    first = staff.post("/questions/", _new_question(world)).json()
    second = staff.post(
        "/questions/", _new_question(world, kind="binary", options=[], auto_outcome="no")
    ).json()

    assert (first["key"], second["key"]) == (
        "how-does-the-control-on-fable-5-end",
        "how-does-the-control-on-fable-5-end-2",
    )
    assert (second["kind"], second["options"], second["auto_outcome"]) == (
        "binary",
        ["Yes", "No"],
        "no",
    )


@pytest.mark.parametrize(("role", "status"), [("user", 403), (None, 401)])
def test_only_staff_create_questions(world: World, api, role: str | None, status: int) -> None:
    before = Question.objects.count()

    response = api(role, world).post("/questions/", _new_question(world))

    assert response.status_code == status
    assert Question.objects.count() == before


@pytest.mark.parametrize(
    ("changes", "field"),
    [
        ({"passage": "The control will surely be lifted."}, "passage"),
        ({"source": "no-such-source"}, "source"),
        ({"options": ["Lifted"]}, "options"),
        ({"options": ["Lifted", "lifted"]}, "options"),
        ({"kind": "binary", "auto_outcome": ""}, "options"),
        ({"kind": "ranked"}, "kind"),
        ({"closes_at": (OPENS - DAY).isoformat()}, "closes_at"),
        ({"resolves_at": (CLOSES - DAY).isoformat()}, "resolves_at"),
        ({"auto_outcome": "Repealed"}, "auto_outcome"),
        ({"kind": "binary", "options": [], "auto_outcome": "Lifted"}, "auto_outcome"),
        ({"key": "Not a slug!"}, "key"),
        ({"colour": "red"}, "colour"),
    ],
)
def test_a_bad_question_is_refused_naming_the_field(
    world: World, api, changes: dict[str, Any], field: str
) -> None:
    before = _written()

    response = api("staff", world).post("/questions/", _new_question(world, **changes))

    assert response.status_code == 400
    assert field in response.json()["errors"], response.json()
    assert _written() == before


def test_a_key_in_use_is_refused_naming_the_key(world: World, api) -> None:
    before = _written()

    response = api("staff", world).post(
        "/questions/", _new_question(world, key=world.open_question.key)
    )

    assert response.status_code == 400
    assert "key" in response.json()["errors"]
    assert _written() == before


# --- forecasting ---------------------------------------------------------------------------


def test_a_forecast_of_each_option_is_taken_and_listed_with_its_vector(world: World, api) -> None:
    question = _multiple_choice(world)
    client = api("user", world)

    response = client.post("/forecasts/", {"question": question.pk, "probabilities": VECTOR})
    listed = client.get("/forecasts/", params={"question": question.pk}).json()["results"]

    assert response.status_code == 201, response.json()
    assert (response.json()["probability"], response.json()["probabilities"]) == (None, VECTOR)
    assert [(f["probabilities"], f["standing"]) for f in listed] == [(VECTOR, True)]
    assert Forecast.objects.get(pk=response.json()["id"]).probabilities == VECTOR


@pytest.mark.parametrize(
    ("payload", "field"),
    [
        ({"probabilities": [0.5, 0.5]}, "probabilities"),  # the wrong length
        ({"probabilities": [0.5, 0.3, 0.4, -0.2]}, "probabilities"),
        ({"probabilities": ["NaN", 0.2, 0.3, 0.4]}, "probabilities"),
        ({"probabilities": [0.1, 0.2, 0.3, 0.38]}, "probabilities"),  # sums to 0.98
        ({"probabilities": [0.1, 0.2, "x", 0.4]}, "probabilities"),
        ({"probabilities": "0.1, 0.2, 0.3, 0.4"}, "probabilities"),
        ({"probabilities": None}, "probabilities"),
        ({}, "probabilities"),
        ({"probability": 0.4}, "probability"),
        ({"probability": 0.4, "probabilities": VECTOR}, "probability"),
    ],
)
def test_a_bad_vector_is_refused_naming_the_field(
    world: World, api, payload: dict[str, Any], field: str
) -> None:
    question = _multiple_choice(world)
    before = _written()

    response = api("user", world).post("/forecasts/", {"question": question.pk, **payload})

    body = response.json()
    assert response.status_code == 400
    assert field in body["errors"] and field in body["message"], body
    assert _written() == before


def test_a_vector_on_a_binary_question_is_refused_naming_it(world: World, api) -> None:
    before = _written()

    response = api("user", world).post(
        "/forecasts/", {"question": world.open_question.pk, "probabilities": [0.3, 0.7]}
    )

    assert response.status_code == 400
    assert "probabilities" in response.json()["errors"]
    assert _written() == before


# --- resolving -----------------------------------------------------------------------------


def test_staff_resolve_by_the_label_of_the_option(world: World, api) -> None:
    question = _multiple_choice(world)

    response = api("staff", world).post(
        f"/questions/{question.pk}/resolve/", {"resolution": "Set aside"}
    )

    body = response.json()
    assert response.status_code == 200, body
    assert (body["resolution"], body["resolved_option"], body["resolved_option_label"]) == (
        "option",
        2,
        "Set aside",
    )
    assert Question.objects.get(pk=question.pk).resolved_option == 2


@pytest.mark.parametrize("resolution", ["Repealed", "set  aside", "yes", "option", ""])
def test_a_label_the_question_lacks_is_refused_naming_the_resolution(
    world: World, api, resolution: str
) -> None:
    question = _multiple_choice(world)
    before = _written()

    response = api("staff", world).post(
        f"/questions/{question.pk}/resolve/", {"resolution": resolution}
    )

    assert response.status_code == 400
    assert "resolution" in response.json()["errors"]
    assert _written() == before


def test_a_multiple_choice_question_may_be_annulled(world: World, api) -> None:
    question = _multiple_choice(world)

    body = (
        api("staff", world)
        .post(f"/questions/{question.pk}/resolve/", {"resolution": "annulled"})
        .json()
    )

    assert (body["resolution"], body["resolved_option"]) == ("annulled", None)


# --- binary, unchanged; and the crowd ------------------------------------------------------


def test_a_binary_question_reads_and_resolves_as_before(world: World, api) -> None:
    staff = api("staff", world)
    path = f"/questions/{world.open_question.pk}/"

    before = staff.get(path).json()
    forecast = staff.post("/forecasts/", {"question": world.open_question.pk, "probability": 0.6})
    resolved = staff.post(f"{path}resolve/", {"resolution": "no"}).json()

    assert (before["kind"], before["options"], before["crowd_medians"]) == (
        "binary",
        ["Yes", "No"],
        None,
    )
    assert forecast.status_code == 201
    assert (forecast.json()["probability"], forecast.json()["probabilities"]) == (0.6, None)
    assert (resolved["resolution"], resolved["resolved_option"]) == ("no", 1)
    assert resolved["resolved_option_label"] == "No"


def test_the_crowd_of_each_option_is_private_until_the_question_is_scored(
    world: World, api
) -> None:
    question = _multiple_choice(world)
    question.closes_at = question.resolves_at = T0 + dt.timedelta(days=10)
    question.save()
    for user, vector in ((world.user, VECTOR), (UserFactory(), [0.4, 0.3, 0.2, 0.1])):
        forecast_submit(user=user, question_id=question.pk, probabilities=vector, now=T0)
    client = api(None, world)
    path = f"/questions/{question.pk}/"

    hidden = client.get(path).json()
    listed = client.get("/questions/", params={"kind": "multiple_choice"}).json()["results"]
    question_resolve(question_id=question.pk, resolution="option", option=0, resolved_by=None)
    shown = client.get(path).json()
    history = client.get(f"{path}crowd-history/").json()["results"]

    assert (hidden["crowd_medians"], hidden["crowd"]["medians"]) == (None, None)
    assert [(q["id"], q["crowd_medians"]) for q in listed] == [(question.pk, None)]
    assert shown["crowd_medians"] == shown["crowd"]["medians"] == history[-1]["medians"]
    assert shown["crowd_medians"] == pytest.approx([0.25] * 4)  # a symmetric pair's medians
    assert len(shown["crowd"]["geometric_means"]) == 4


def test_the_crowd_of_each_option_shows_once_enough_forecasts_stand(
    world: World, api, settings
) -> None:
    question = _multiple_choice(world)
    for _ in range(settings.CROWD_MIN_FORECASTERS):
        forecast_submit(user=UserFactory(), question_id=question.pk, probabilities=VECTOR, now=T0)
    client = api(None, world)

    listed = client.get("/questions/", params={"kind": "multiple_choice"}).json()["results"]
    detail = client.get(f"/questions/{question.pk}/").json()

    assert listed[0]["crowd_medians"] == detail["crowd_medians"] == pytest.approx(VECTOR)
    assert detail["crowd"]["medians"] == pytest.approx(VECTOR)
    assert (detail["crowd_median"], detail["crowd"]["geometric_means"]) == (None, None)


def test_the_schema_documents_both_shapes_of_a_forecast(world: World, api) -> None:
    schemas = api(None, world).get("/schema/", params={"format": "json"}).json()
    schemas = schemas["components"]["schemas"]

    shapes = [ref["$ref"].rsplit("/", 1)[1] for ref in schemas["ForecastSubmitRequest"]["oneOf"]]

    assert [sorted(schemas[shape]["required"]) for shape in shapes] == [
        ["probability", "question"],
        ["probabilities", "question"],
        ["cdf", "question"],
        ["quantiles", "question"],
    ]
    assert {"kind", "options", "crowd_medians", "resolved_option_label"} <= set(
        schemas["Question"]["properties"]
    )
