from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
import time_machine
from django.test import Client
from django.urls import reverse

from forecasts.models import Forecast
from forecasts.services import forecast_submit
from tests.factories import ForecastFactory, QuestionFactory, UserFactory, buy

pytestmark = pytest.mark.django_db

TODAY = dt.datetime(2026, 11, 29, 12, 0, tzinfo=dt.UTC)


@pytest.fixture(autouse=True)
def _today():
    with time_machine.travel(TODAY, tick=False):
        yield


def _detail(question) -> str:
    return reverse("forecasts:question_detail", args=[question.pk])


def _logged_in(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


def test_the_list_shows_open_questions_and_filters_by_status() -> None:
    open_q = QuestionFactory(title="Will the control be lifted by 2027?")
    due = QuestionFactory(
        title="Was it lifted by July?",
        closes_at=dt.datetime(2026, 7, 10, tzinfo=dt.UTC),
        resolves_at=dt.datetime(2026, 7, 11, tzinfo=dt.UTC),
    )
    client = Client()

    open_page = client.get(reverse("forecasts:question_list"))
    awaiting_page = client.get(reverse("forecasts:question_list"), {"status": "awaiting"})

    assert open_q.title in open_page.text and due.title not in open_page.text
    assert due.title in awaiting_page.text and open_q.title not in awaiting_page.text


def test_search_matches_titles_and_passages() -> None:
    QuestionFactory(title="Will other labs be hit?", passage="Other labs may be next.")
    QuestionFactory(title="Will Fable 5 return?")

    page = Client().get(reverse("forecasts:question_list"), {"status": "all", "q": "labs"})

    assert "Will other labs be hit?" in page.text
    assert "Will Fable 5 return?" not in page.text


def test_the_question_page_shows_passage_criteria_crowd_and_own_history(settings) -> None:
    settings.CROWD_MIN_FORECASTERS = 3
    question, ada = QuestionFactory(passage="within a few weeks"), UserFactory()
    an_hour_ago = TODAY - dt.timedelta(hours=1)
    for p in (0.2, 0.3):
        forecast_submit(user=UserFactory(), question_id=question.pk, probability=p, now=an_hour_ago)
    forecast_submit(user=ada, question_id=question.pk, probability=0.8, now=an_hour_ago)

    page = _logged_in(ada).get(_detail(question))

    assert "within a few weeks" in page.text
    assert question.resolution_criteria in page.text
    assert "data-forecaster-count>3<" in page.text
    assert "80.0%" in page.text  # own history
    assert "data-crowd-median>30.0%<" in page.text  # the median of 0.2, 0.3 and 0.8


def test_the_crowd_of_two_is_not_shown_but_their_number_is() -> None:
    question, ada = QuestionFactory(), UserFactory()
    an_hour_ago = TODAY - dt.timedelta(hours=1)
    forecast_submit(user=UserFactory(), question_id=question.pk, probability=0.2, now=an_hour_ago)
    forecast_submit(user=ada, question_id=question.pk, probability=0.8, now=an_hour_ago)

    page = _logged_in(ada).get(_detail(question))

    assert "data-forecaster-count>2<" in page.text
    assert "data-crowd-withheld" in page.text and "data-crowd-median" not in page.text
    assert "50.0%" not in page.text  # the median of two, from which ada would learn 0.2


def test_submitting_on_the_web_records_the_forecast() -> None:
    question, user = QuestionFactory(), UserFactory()

    response = _logged_in(user).post(
        _detail(question), {"probability": "0.65", "rationale": "Lindy."}
    )

    assert response.status_code == 302
    forecast = Forecast.objects.get(question=question, user=user)
    assert (forecast.probability, forecast.rationale, forecast.ends_at) == (0.65, "Lindy.", None)


@pytest.mark.parametrize("bad", ["0", "1", "-0.1", "1.5", "NaN", "abc", ""])
def test_the_form_refuses_bad_probabilities_naming_the_field(bad: str) -> None:
    question = QuestionFactory()
    standing = ForecastFactory(question=question, probability=0.4)

    response = _logged_in(standing.user).post(_detail(question), {"probability": bad})

    assert response.status_code == 400
    assert 'id="probability-errors"' in response.text
    assert "Probability:" in response.text
    assert list(Forecast.objects.values_list("probability", "ends_at")) == [(0.4, None)]


def test_the_form_refuses_a_forecast_after_close() -> None:
    question = QuestionFactory(
        closes_at=TODAY - dt.timedelta(days=1), resolves_at=TODAY + dt.timedelta(days=1)
    )

    response = _logged_in(UserFactory()).post(_detail(question), {"probability": "0.5"})

    assert response.status_code == 400
    assert "does not accept forecasts" in response.text
    assert not Forecast.objects.exists()


def test_anonymous_posts_are_sent_to_log_in_and_write_nothing() -> None:
    question = QuestionFactory()

    response = Client().post(_detail(question), {"probability": "0.5"})

    assert response.status_code == 302 and reverse("login") in response["Location"]
    assert not Forecast.objects.exists()


def test_a_user_cannot_change_or_withdraw_another_users_forecast() -> None:
    question = QuestionFactory()
    theirs = ForecastFactory(question=question, probability=0.9)
    intruder = _logged_in(UserFactory())

    intruder.post(_detail(question), {"probability": "0.1", "user": theirs.user.pk})
    intruder.post(reverse("forecasts:forecast_withdraw", args=[question.pk]))

    theirs.refresh_from_db()
    assert (theirs.probability, theirs.ends_at) == (0.9, None)
    assert Forecast.objects.filter(user=theirs.user).count() == 1


def test_csrf_is_enforced_on_the_forecast_form() -> None:
    question, user = QuestionFactory(), UserFactory()
    client = Client(enforce_csrf_checks=True)
    client.force_login(user)

    refused = client.post(_detail(question), {"probability": "0.5"})
    form_page = client.get(_detail(question))
    token = form_page.context["csrf_token"]
    accepted = client.post(_detail(question), {"probability": "0.5", "csrfmiddlewaretoken": token})

    assert refused.status_code == 403
    assert accepted.status_code == 302
    assert Forecast.objects.filter(user=user).count() == 1


def test_my_forecasts_lists_each_question_once_with_the_latest_value() -> None:
    question, user = QuestionFactory(title="Will it be lifted?"), UserFactory()
    client = _logged_in(user)
    client.post(_detail(question), {"probability": "0.3"})
    client.post(_detail(question), {"probability": "0.35"})

    page = client.get(reverse("forecasts:my_forecasts"))

    assert page.text.count("Will it be lifted?") == 1
    assert "35.0%" in page.text


def test_signup_logs_the_new_user_in() -> None:
    client = Client()

    response = client.post(
        reverse("signup"),
        {
            "username": "ada",
            "email": "ada@example.org",
            "password1": "a-long-pass-phrase-9",
            "password2": "a-long-pass-phrase-9",
        },
        follow=True,
    )

    assert response.context["user"].username == "ada"


def test_signup_never_redirects_off_site() -> None:
    response = Client().post(
        reverse("signup") + "?next=https://evil.example/",
        {
            "username": "bob",
            "email": "bob@example.org",
            "password1": "a-long-pass-phrase-9",
            "password2": "a-long-pass-phrase-9",
        },
    )

    assert response["Location"] == reverse("forecasts:question_list")


def test_tokens_are_created_shown_once_listed_and_revoked_on_the_settings_page() -> None:
    from forecasts.models import ApiToken

    ada = UserFactory()
    client = _logged_in(ada)

    created = client.post(reverse("forecasts:token_create"), {"name": "weekly script"})
    listed = client.get(reverse("forecasts:settings"))
    token = ApiToken.objects.get(user=ada)
    revoked = client.post(reverse("forecasts:token_revoke", args=[token.pk]))

    secret = created.context["new_secret"]
    assert secret.startswith("crux_") and secret in created.text
    assert secret not in listed.text and "weekly script" in listed.text
    assert revoked.status_code == 302
    token.refresh_from_db()
    assert token.revoked_at is not None


def test_a_user_cannot_revoke_another_users_token() -> None:
    from forecasts.models import ApiToken
    from forecasts.services import api_token_create

    token, _ = api_token_create(user=UserFactory(), name="theirs")

    response = _logged_in(UserFactory()).post(reverse("forecasts:token_revoke", args=[token.pk]))

    assert response.status_code == 404
    assert ApiToken.objects.get(pk=token.pk).revoked_at is None


def test_log_in_is_throttled_after_repeated_failures() -> None:
    from django.core.cache import cache

    cache.clear()
    UserFactory(username="ada")
    client = Client()
    url = reverse("login")

    failures = [client.post(url, {"login": "ada", "password": "wrong"}) for _ in range(5)]
    blocked = client.post(url, {"login": "ada", "password": "correct horse battery staple"})
    other = Client().post(url, {"login": "bob", "password": "wrong"}, REMOTE_ADDR="10.0.0.9")

    assert [f.status_code for f in failures] == [200] * 4 + [429]  # the fifth locks it
    assert "Too many failed log-ins" in blocked.text
    assert not blocked.wsgi_request.user.is_authenticated
    assert "Too many failed log-ins" not in other.text
    cache.clear()


def test_every_page_has_a_plain_text_title() -> None:
    import re

    from markets.services import market_create

    question = QuestionFactory()
    user = UserFactory(username="ada")
    market = market_create(question_id=question.pk, b=Decimal(100))
    buy(user, market, outcome="yes", shares=1)
    client = _logged_in(user)
    pages = [
        reverse("forecasts:question_list"),
        reverse("forecasts:question_detail", args=[question.pk]),
        reverse("forecasts:leaderboard"),
        reverse("forecasts:settings"),
        reverse("forecasts:my_forecasts"),
        reverse("forecasts:track_record", args=["ada"]),
        reverse("forecasts:source_detail", args=[question.source.key]),
        reverse("markets:market_detail", args=[market.pk]),
        reverse("markets:portfolio"),
        reverse("markets:leaderboard"),
        reverse("markets:market_list"),
    ]

    titles = [re.search(r"<title>(.*?)</title>", client.get(p).text, re.S).group(1) for p in pages]

    assert all("<" not in t and t.strip().endswith("· Crux") for t in titles), titles


def test_the_list_shows_each_market_price_beside_the_crowd_in_constant_queries() -> None:
    from decimal import Decimal

    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from markets.services import market_create

    def listed(count: int) -> tuple[str, int]:
        for i in range(count):
            question = QuestionFactory(title=f"Listed {i}?")
            if i % 2:
                market = market_create(question_id=question.pk, b=Decimal(100), now=TODAY)
                trader = UserFactory()
                buy(trader, market, outcome="yes", target_price="0.7")
        with CaptureQueriesContext(connection) as queries:
            page = Client().get(reverse("forecasts:question_list")).content.decode()
        return page, len(queries)

    _, few = listed(2)
    page, many = listed(6)

    rows = page.split('class="question-row"')[1:]
    priced = [r for r in rows if "data-market-price" in r]
    assert many == few
    assert len(rows) == 8 and len(priced) == 4
    assert all("market <strong>70.0%</strong>" in r for r in priced)


def test_the_history_chart_stays_when_every_forecast_is_withdrawn() -> None:
    from django.core.cache import cache

    from forecasts.services import forecast_withdraw
    from markets.services import market_create

    cache.clear()  # rendered charts are cached under the question's id
    question = QuestionFactory()
    market_create(question_id=question.pk, b=Decimal(100), now=TODAY - dt.timedelta(days=2))
    users = [UserFactory() for _ in range(5)]
    for k, user in enumerate(users):
        forecast_submit(user=user, question_id=question.pk, probability=0.2 + 0.1 * k, now=T_DAY)
    for user in users:
        forecast_withdraw(user=user, question_id=question.pk, now=T_DAY + dt.timedelta(hours=3))

    page = Client().get(_detail(question))
    svg = Client().get(reverse("forecasts:question_chart", args=[question.pk, "svg"])).text

    assert 'data-chart="history"' in page.text
    assert 'id="series-median"' in svg and 'id="series-market"' in svg


T_DAY = TODAY - dt.timedelta(days=1)
