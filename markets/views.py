"""Market web pages: thin views over the market services and selectors.

Trading happens in the market panel (``markets/panel.html``), on the question page and on the
market's own page. A trade or a preview posts here. With htmx the answer is the panel alone,
swapped in place: the preview's quote, the refusal beside the field (status 400) or what the
trade did. Without JavaScript it is redirected back to the page it came from, a refusal or a
preview kept in the session for it (the input, the errors, the quote), so the panel shows them
once, filled in as the user left it. The JSON quote feeds the live preview as the user types.
"""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.core.paginator import Paginator
from django.http import Http404, HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.http import require_GET, require_POST
from django_htmx.http import HttpResponseClientRedirect
from django_htmx.middleware import HtmxDetails

from crux.users import AuthenticatedHttpRequest
from forecasts import selectors as forecast_selectors
from markets import selectors
from markets.forms import KeptTrade, TradeForm
from markets.models import Market, Trade
from markets.panel import (
    MARKET_PAGE,
    QUESTION_PAGE,
    MarketPanel,
    fragment_context,
    quote_summary,
    quote_warning,
)
from markets.pricing import market_quote
from markets.services import market_trade, starting_grant

PAGE_SIZE = 50


class HtmxHttpRequest(HttpRequest):
    """A request through django-htmx's middleware: ``htmx`` is truthy when htmx sent it."""

    htmx: HtmxDetails


def _market_or_404(market_id: int) -> Market:
    market = selectors.market_get(market_id=market_id)
    if market is None:
        raise Http404("No such market")
    return market


def _page_path(market: Market, page: str) -> str:
    """The page a panel sits on: the market's own or its question's."""
    if page == MARKET_PAGE:
        return reverse("markets:market_detail", args=[market.pk])
    return reverse("forecasts:question_detail", args=[market.question_id])


@require_POST
def trade(request: HtmxHttpRequest, market_id: int) -> HttpResponse:
    """Buy or sell (or, with ``preview``, only price it) from a market panel."""
    market = _market_or_404(market_id)
    page = MARKET_PAGE if request.POST.get("page") == MARKET_PAGE else QUESTION_PAGE
    if not request.user.is_authenticated:
        login = f"{reverse('login')}?next={_page_path(market, page)}"
        return HttpResponseClientRedirect(login) if request.htmx else redirect(login)
    form = TradeForm(request.POST, labels=market.labels)
    preview = "preview" in request.POST
    quote_text = warning = ""
    done = None
    if form.is_valid():
        try:
            if preview:
                quote = market_quote(market=market, order=form.order)
                quote_text = quote_summary(quote, market=market)
                account = selectors.account_for(user=request.user)
                warning = quote_warning(quote, account=account, market=market)
            else:
                done = market_trade(user=request.user, market_id=market.pk, order=form.order)
        except ValidationError as error:
            form.add_refusal(error)
    if request.htmx:
        if done is not None:
            answered = KeptTrade(form=form.again(), errors=[], quote_text="")
        else:
            answered = form.answered(quote_text=quote_text, warning=warning)
        return _panel(request, market, page, answered, notice=_describe(done) if done else "")
    if done is not None:
        messages.success(request, _describe(done))
    else:
        # Posted, then redirected: a reload of the page that shows the refusal posts nothing.
        form.keep(request.session, market_id=market.pk, quote_text=quote_text, warning=warning)
    return redirect(_page_path(market, page) + "#market")


def _panel(
    request: HttpRequest, market: Market, page: str, answered: KeptTrade, *, notice: str
) -> HttpResponse:
    """The panel alone, as an in-place answer: a refusal is a 400 (the page's script swaps
    it in all the same); on the market's own page its facts and its chart are swapped too,
    out of band."""
    context = fragment_context(
        request, market.question, now=timezone.now(), page=page, last=answered, notice=notice
    )
    status = 400 if answered.errors else 200
    response = render(request, "markets/panel.html", context, status=status)
    panel = context["market_panel"]
    if page == MARKET_PAGE and isinstance(panel, MarketPanel):
        facts = {**context, "market": panel.market, "out_of_band": True}
        for part in ("markets/_market_facts.html", "markets/_price_chart.html"):
            response.content += render(request, part, facts).content
    return response


def _describe(trade: Trade) -> str:
    """What the trade did: binary, where YES stands now; otherwise, the traded outcome."""
    side = trade.market.outcome_name(trade.outcome)
    verb = "Bought" if trade.shares > 0 else "Sold"
    moved, price = side, trade.price_after
    yes = selectors.yes_price_after(trade)
    if yes is not None:
        moved, price = "YES", yes
    return (
        f"{verb} {abs(trade.shares).normalize():f} {side} shares for {abs(trade.cost):,.2f}; "
        f"{moved} is now {price * 100:.1f}%."
    )


@require_GET
def quote(request: HttpRequest, market_id: int) -> JsonResponse:
    """The live preview: what the trade in the query string would cost now, as JSON."""
    market = _market_or_404(market_id)
    form = TradeForm(request.GET, labels=market.labels)
    result = None
    if form.is_valid():
        try:
            result = market_quote(market=market, order=form.order)
        except ValidationError as error:
            form.add_refusal(error)
    if result is None:
        errors = form.named_errors()
        return JsonResponse(
            {
                "ok": False,
                "errors": form.errors.get_json_data(),
                "message": " ".join(f"{label}: {text}" for label, text in errors),
            },
            status=400,
        )
    account = None
    if request.user.is_authenticated:
        account = selectors.account_for(user=request.user)
    return JsonResponse(
        {
            "ok": True,
            "outcome": market.labels[result.outcome],
            "shares": str(result.shares),
            "cost": str(result.cost),
            "average_price": str(result.average_price),
            "price_before": result.price_before,
            "price_after": result.price_after,
            "prices_after": list(result.prices_after),
            "yes_price_after": result.yes_price_after,
            "summary": quote_summary(result, market=market),
            "warning": quote_warning(result, account=account, market=market),
        }
    )


def market_detail(request: HttpRequest, market_id: int) -> HttpResponse:
    """The market: its prices beside the crowd, the trade panel, the price chart and every
    trade, newest first, paginated."""
    market = _market_or_404(market_id)
    trades = selectors.market_tape(market=market)
    page = Paginator(trades, PAGE_SIZE).get_page(request.GET.get("page"))
    return render(
        request,
        "markets/market_detail.html",
        {
            **fragment_context(request, market.question, now=timezone.now(), page=MARKET_PAGE),
            "market": market,
            "page": page,
        },
    )


@login_required
def portfolio(request: AuthenticatedHttpRequest) -> HttpResponse:
    """The signed-in user's own money, positions and trades (there is no way to see another's)."""
    account = selectors.account_for(user=request.user)
    context: dict[str, object] = {"account": account, "starting_grant": starting_grant()}
    if account is not None:
        folio = selectors.portfolio(account=account)
        trades = selectors.account_trades(account=account)
        context.update(
            portfolio=folio,
            standing=selectors.account_standing(user=request.user),
            open_holdings=folio.open_holdings,
            settled_holdings=folio.settled_holdings,
            page=Paginator(trades, PAGE_SIZE).get_page(request.GET.get("page")),
        )
    return render(request, "markets/portfolio.html", context)


def market_list(request: HttpRequest) -> HttpResponse:
    """Every market's price beside the crowd's median on the same question (as the public
    may see it: see ``forecasts.selectors.with_public_crowd``); the demo's practice markets
    only with ``practice=1``."""
    practice = request.GET.get("practice") == "1"
    markets = forecast_selectors.with_public_crowd(
        selectors.market_overview(include_practice=practice),
        now=timezone.now(),
        question="question",
    )
    page = Paginator(markets, PAGE_SIZE).get_page(request.GET.get("page"))
    rows = [(market, selectors.public_crowd_median(market)) for market in page.object_list]
    return render(
        request, "markets/market_list.html", {"page": page, "rows": rows, "practice": practice}
    )


def leaderboard(request: HttpRequest) -> HttpResponse:
    practice = request.GET.get("practice") == "1"
    accounts = selectors.leaderboard(include_practice=practice)
    page = Paginator(accounts, PAGE_SIZE).get_page(request.GET.get("page"))
    return render(request, "markets/leaderboard.html", {"page": page, "practice": practice})
