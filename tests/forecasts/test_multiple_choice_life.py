"""A multiple-choice question's whole life, each step through the way people and jobs do it:
created from a question file with its market, forecast and traded over the API (an outcome by
its index and one by its label), resolved by the sweep's automatic option when due, then
scored, paid, charted and exported."""

from __future__ import annotations

import csv
import datetime as dt
import io
import json
from decimal import Decimal
from pathlib import Path

import pytest
import time_machine
from django.test import Client
from rest_framework.test import APIClient

from forecasts.importer import questions_import
from forecasts.lifecycle import lifecycle_sweep_task
from forecasts.models import Forecaster, Question, Score
from forecasts.services import api_token_create
from markets.audit import ledger_audit
from markets.models import LedgerEntry, Market, MarketStatus
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db

OPEN = dt.datetime(2026, 12, 1, 12, tzinfo=dt.UTC)
CLOSE = OPEN + dt.timedelta(days=10)
DUE = CLOSE + dt.timedelta(days=1)
OPTIONS = ["Lifted", "Narrowed", "Set aside by a court", "Still in force"]

SOURCE_TEXT = "They could walk this back. They could double down and really mean it."
QUESTION_FILE = f"""
[source]
key = "tiny"
title = "Tiny"
published_on = "2026-06-12"
text_file = "text.txt"

[[questions]]
key = "control-status"
title = "How will the control stand on 11 December 2026?"
kind = "multiple_choice"
options = {json.dumps(OPTIONS)}
resolution_criteria = "The option that describes the control at the deadline."
passage = "They could walk this back."
opens_at = "{OPEN.isoformat()}"
closes_at = "{CLOSE.isoformat()}"
resolves_at = "{DUE.isoformat()}"
auto_outcome = "Still in force"
"""


def _client(user) -> APIClient:
    _, secret = api_token_create(user=user, name="script")
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {secret}")
    return client


def test_a_multiple_choice_question_lives_from_its_file_to_its_payout(
    tmp_path: Path, django_capture_on_commit_callbacks
) -> None:
    (tmp_path / "text.txt").write_text(SOURCE_TEXT, encoding="utf-8")
    (tmp_path / "set.toml").write_text(QUESTION_FILE, encoding="utf-8")
    ada, bob = UserFactory(username="ada"), UserFactory(username="bob")

    with time_machine.travel(OPEN + dt.timedelta(hours=1), tick=False):
        imported = questions_import(path=tmp_path / "set.toml")
        question = Question.objects.get(key="control-status")
        market = Market.objects.get(question=question)
        forecasts = [
            _client(ada).post(
                "/api/v1/forecasts/",
                {"question": question.pk, "probabilities": [0.1, 0.2, 0.1, 0.6]},
                format="json",
            ),
            _client(bob).post(
                "/api/v1/forecasts/",
                {"question": question.pk, "probabilities": [0.4, 0.3, 0.2, 0.1]},
                format="json",
            ),
        ]
        trades = [
            _client(ada).post(
                f"/api/v1/markets/{market.pk}/trades/",
                {"outcome": 3, "action": "buy", "shares": "20"},
                format="json",
            ),
            _client(bob).post(
                f"/api/v1/markets/{market.pk}/trades/",
                {"outcome": "lifted", "action": "buy", "amount": "15"},
                format="json",
            ),
        ]

    with (
        time_machine.travel(DUE + dt.timedelta(minutes=1), tick=False),
        django_capture_on_commit_callbacks(execute=True),
    ):
        lifecycle_sweep_task.apply().get()

    assert imported.markets_opened == 1 and market.labels == tuple(OPTIONS)
    assert [r.status_code for r in forecasts + trades] == [201] * 4
    question.refresh_from_db()
    assert (question.resolution, question.resolved_option) == ("option", 3)
    assert question.resolved_automatically and question.resolution_label == "Still in force"
    # Scored: each forecaster and the crowd; ada put more on what happened.
    peer = dict(
        Score.objects.filter(question=question, score_type="peer", forecaster="user").values_list(
            "user__username", "value"
        )
    )
    assert peer["ada"] > 0 > peer["bob"] and peer["ada"] + peer["bob"] == pytest.approx(0)
    assert Score.objects.filter(question=question, forecaster=Forecaster.CROWD_MEDIAN).exists()
    # Paid: 1 per share of the option that happened; bob's shares of "Lifted" pay nothing.
    market.refresh_from_db()
    payouts = LedgerEntry.objects.filter(market=market, kind="payout", account__isnull=False)
    assert market.status == MarketStatus.RESOLVED
    assert {e.account.user.username: e.amount for e in payouts} == {"ada": Decimal("20.0000")}
    assert ledger_audit().ok
    # Charted: the crowd per option, with the resolution marked.
    with time_machine.travel(DUE + dt.timedelta(hours=1), tick=False):
        chart = Client().get(f"/charts/questions/{question.pk}/options.svg")
    assert chart.status_code == 200
    svg = chart.content.decode()
    assert all(f'id="series-option-{i}"' in svg for i in range(4))
    assert 'id="marker-resolution"' in svg
    # Exported: the forecast's vector in one cell, the score with the option's label.
    export = _client(ada).get("/api/v1/forecasts/", {"format": "csv", "question": question.pk})
    text = b"".join(export.streaming_content).decode()
    rows = list(csv.DictReader(io.StringIO(text)))
    assert [json.loads(r["probabilities"]) for r in rows] == [[0.1, 0.2, 0.1, 0.6]]
    scores = APIClient().get("/api/v1/scores/", {"question": question.pk}).json()["results"]
    assert {s["resolved_option_label"] for s in scores} == {"Still in force"}
