"""Services take typed values parsed once at the edge: no parameter is a bare ``object``/``Any``."""

from __future__ import annotations

import inspect
import re
from types import FunctionType, ModuleType

import pytest

from forecasts import lifecycle
from forecasts import services as forecast_services
from markets import pricing
from markets import services as market_services

MODULES = [forecast_services, lifecycle, market_services, pricing]
UNTYPED = re.compile(r"\b(object|Any)\b")


def _public_functions(module: ModuleType) -> dict[str, FunctionType]:
    return {
        name: value
        for name, value in vars(module).items()
        if inspect.isfunction(value)
        and value.__module__ == module.__name__
        and not name.startswith("_")
    }


@pytest.mark.parametrize("module", MODULES, ids=lambda module: module.__name__)
def test_no_service_takes_an_untyped_parameter(module: ModuleType) -> None:
    functions = _public_functions(module)

    untyped = [
        f"{name}({parameter.name}: {parameter.annotation})"
        for name, function in functions.items()
        for parameter in inspect.signature(function).parameters.values()
        if parameter.annotation is inspect.Parameter.empty
        or UNTYPED.search(str(parameter.annotation))
    ]

    assert functions
    assert untyped == []


@pytest.mark.parametrize(
    "service",
    [
        market_services.market_create,
        market_services.market_settle,
        market_services.market_unsettle,
        lifecycle.question_aggregates_rebuild,
    ],
    ids=lambda service: service.__name__,
)
def test_services_that_lock_a_question_take_its_id(service: FunctionType) -> None:
    parameters = inspect.signature(service).parameters

    assert "question_id" in parameters and "question" not in parameters
    assert parameters["question_id"].annotation == "int"
