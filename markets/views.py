"""Market web pages: thin views over the market services and selectors.

Trading happens on the question page (``markets/panel.html``): a trade or a no-JavaScript
preview posts here and is redirected back to that page. A refusal or a preview is kept in the
session for it (the input, the errors, the quote), so the panel shows them once, filled in as
the user left it. The JSON quote feeds the live preview as the user types.
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

from crux.users import AuthenticatedHttpRequest
from forecasts import selectors as forecast_selectors
from markets import selectors
from markets.forms import TradeForm
from markets.models import Market, Trade
from markets.panel import quote_summary, quote_warning
from markets.pricing import market_quote
from markets.services import market_trade, starting_grant

PAGE_SIZE = 50


def _market_or_404(market_id: int) -> Market:
    market = selectors.market_get(market_id=market_id)
    if market is None:
        raise Http404("No such market")
    return market


def _question_url(market: Market) -> str:
    return reverse("forecasts:question_detail", args=[market.question_id]) + "#market"


@require_POST
def trade(request: HttpRequest, market_id: int) -> HttpResponse:
    """Buy or sell (or, with ``preview``, only price it) from the question page's panel."""
    market = _market_or_404(market_id)
    if not request.user.is_authenticated:
        question_path = reverse("forecasts:question_detail", args=[market.question_id])
        return redirect(f"{reverse('login')}?next={question_path}")
    form = TradeForm(request.POST, labels=market.labels)
    preview = "preview" in request.POST
    quote_text = ""
    if form.is_valid():
        try:
            if preview:
                quote = market_quote(market=market, order=form.order)
                quote_text = quote_summary(quote, market=market)
            else:
                done = market_trade(user=request.user, market_id=market.pk, order=form.order)
        except ValidationError as error:
            form.add_refusal(error)
        else:
            if not preview:
                messages.success(request, _describe(done))
                return redirect(_question_url(market))
    # Posted, then redirected: a reload of the page that shows the refusal posts nothing again.
    form.keep(request.session, market_id=market.pk, quote_text=quote_text)
    return redirect(_question_url(market))


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
    """The market's whole price history: every trade, newest first, paginated."""
    market = _market_or_404(market_id)
    trades = selectors.market_tape(market=market)
    page = Paginator(trades, PAGE_SIZE).get_page(request.GET.get("page"))
    now = timezone.now()
    return render(
        request,
        "markets/market_detail.html",
        {
            "market": market,
            "question": market.question,
            "crowd": forecast_selectors.question_crowd_now(question=market.question, now=now),
            "page": page,
        },
    )


@login_required
def portfolio(request: AuthenticatedHttpRequest) -> HttpResponse:
    """The signed-in user's own money, positions and trades (there is no way to see another's)."""
    account = selectors.account_for(user=request.user)
    context: dict[str, object] = {"account": account, "starting_grant": starting_grant()}
    if account is not None:
        holdings = selectors.holdings(account=account)
        trades = selectors.account_trades(account=account)
        context.update(
            standing=selectors.account_standing(user=request.user),
            open_holdings=[h for h in holdings if not h.is_settled],
            settled_holdings=[h for h in holdings if h.is_settled],
            open_value=sum((h.value for h in holdings if not h.is_settled), 0.0),
            page=Paginator(trades, PAGE_SIZE).get_page(request.GET.get("page")),
        )
    return render(request, "markets/portfolio.html", context)


def market_list(request: HttpRequest) -> HttpResponse:
    """Every market's price beside the crowd's median on the same question (as the public
    may see it: see ``forecasts.selectors.with_public_crowd``)."""
    markets = forecast_selectors.with_public_crowd(
        selectors.market_overview(), now=timezone.now(), question="question"
    )
    page = Paginator(markets, PAGE_SIZE).get_page(request.GET.get("page"))
    rows = [(market, selectors.public_crowd_median(market)) for market in page.object_list]
    return render(request, "markets/market_list.html", {"page": page, "rows": rows})


def leaderboard(request: HttpRequest) -> HttpResponse:
    practice = request.GET.get("practice") == "1"
    accounts = selectors.leaderboard(include_practice=practice)
    page = Paginator(accounts, PAGE_SIZE).get_page(request.GET.get("page"))
    return render(request, "markets/leaderboard.html", {"page": page, "practice": practice})
