"""The market panel (``markets/panel.html``): its context, and the wording of a trade preview.

The panel sits on the question page and on the market's own page. A trade posts to
``markets.views``; with htmx the view answers with the panel alone (``fragment_context``),
otherwise it comes back to the page by a redirect, with a refusal or a preview kept in the
session (``markets.forms.kept``), so the market views never render a page of forecasts.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from decimal import Decimal

from django.conf import settings
from django.http import HttpRequest
from django.utils import dateformat

from crux.formatting import fixed
from forecasts import selectors as forecast_selectors
from forecasts.models import Question, QuestionStatus, Resolution
from markets import selectors
from markets.forms import KeptTrade, TradeForm, kept
from markets.models import Account, Market, MarketStatus, Trade, takes_a_market
from markets.pricing import Quote
from markets.services import starting_grant, winning_outcome

RECENT_TRADES = 5
# Where a panel sits: its form says so, and a trade comes back there.
QUESTION_PAGE, MARKET_PAGE = "question", "market"


@dataclass(frozen=True)
class MarketPanel:
    """Everything the panel template shows; ``market`` is None when the question has none."""

    market: Market | None
    price_yes: float | None = None  # binary markets
    outcomes: list[tuple[int, str, float]] = field(default_factory=list)  # (index, name, price)
    trading: bool = False
    status: str = ""  # why trading is not possible, when it is not
    form: TradeForm | None = None
    errors: list[tuple[str, str]] = field(default_factory=list)
    quote_text: str = ""
    quote_warning: str = ""
    notice: str = ""  # the trade just made, when the panel is answered in place
    page: str = QUESTION_PAGE
    account: Account | None = None
    balance: Decimal | None = None
    holding: selectors.Holding | None = None
    recent: list[Trade] = field(default_factory=list)
    trade_count: int = 0
    can_open: bool = False  # no market yet, and one may open (staff see a link)


def panel_context(
    request: HttpRequest,
    question: Question,
    *,
    now: dt.datetime,
    page: str = QUESTION_PAGE,
    last: KeptTrade | None = None,
    notice: str = "",
) -> dict[str, MarketPanel]:
    """``{"market_panel": ...}`` for the page (``QUESTION_PAGE`` or ``MARKET_PAGE``), with
    ``last``, the submission just answered in place, or else the user's last refused or
    previewed trade on this market (kept through a redirect) filled in again."""
    market = selectors.market_for_question(question=question)
    if market is None:
        return {"market_panel": MarketPanel(market=None, can_open=takes_a_market(question, now))}
    account = holding = None
    if request.user.is_authenticated:
        account = selectors.account_for(user=request.user)
        if last is None:
            last = kept(request.session, market_id=market.pk, labels=market.labels)
    if account is not None:
        holding = next(iter(selectors.holdings(account=account, market=market)), None)
    trades = selectors.market_tape(market=market)
    return {
        "market_panel": MarketPanel(
            market=market,
            price_yes=market.price_yes,
            outcomes=[(i, market.outcome_name(i), p) for i, _, p in market.outcomes()],
            trading=market.is_trading(now, question=question),
            status=_status(market, question, now),
            form=_described(last) if last else TradeForm(labels=market.labels),
            errors=last.errors if last else [],
            quote_text=last.quote_text if last else "",
            quote_warning=last.quote_warning if last else "",
            notice=notice,
            page=page,
            account=account,
            balance=account.balance if account else starting_grant(),
            holding=holding,
            recent=list(trades[:RECENT_TRADES]),
            trade_count=trades.count(),
        )
    }


def _described(last: KeptTrade) -> TradeForm:
    """The form, its size field pointing at the errors shown beside it."""
    if last.errors:
        last.form.fields["size"].widget.attrs.update(
            {"aria-invalid": "true", "aria-describedby": "trade-errors"}
        )
    return last.form


def fragment_context(
    request: HttpRequest,
    question: Question,
    *,
    now: dt.datetime,
    page: str,
    last: KeptTrade | None = None,
    notice: str = "",
) -> dict[str, object]:
    """Everything ``markets/panel.html`` reads besides the request: the panel, and the crowd
    it shows beside the price (as the question page has it)."""
    return {
        "question": question,
        "crowd": forecast_selectors.question_crowd_now(question=question, now=now),
        "crowd_min_forecasters": settings.CROWD_MIN_FORECASTERS,
        "has_history": question.aggregates.exists(),
        **panel_context(request, question, now=now, page=page, last=last, notice=notice),
    }


def _status(market: Market, question: Question, now: dt.datetime) -> str:
    if market.status == MarketStatus.RESOLVED:
        winner = question.get_resolution_display().upper()
        index = (
            question.outcome_index
            if question.resolution == Resolution.OPTION
            else winning_outcome(resolution=question.resolution, labels=market.labels)
        )
        if not market.is_binary and index is not None:
            winner = market.outcome_name(index)
        return (
            f"Resolved {winner}: each winning share bought by "
            "the effective time paid 1; trades after it were unwound."
        )
    if market.status == MarketStatus.ANNULLED:
        return (
            f"{question.get_resolution_display()}: every trade was unwound (net costs refunded, "
            "profits taken back); no share paid out."
        )
    status = question.status(now)
    if status == QuestionStatus.UPCOMING:
        opens = dateformat.format(question.opens_at, "j M Y, H:i")
        return f"Trading opens with the question, {opens}."
    if status == QuestionStatus.OPEN:
        return ""
    return "Trading is closed; the market pays out when the question resolves."


def quote_summary(quote: Quote, *, market: Market) -> str:
    """One sentence a person can check before trading; the JSON preview sends the same.

    Binary: how YES moves, whichever side is traded; otherwise how the traded outcome moves
    (the others scale with it)."""
    side = market.outcome_name(quote.outcome)
    shares = plain_shares(abs(quote.shares))
    if quote.shares > 0:
        deal = f"Buy {shares} {side} shares for {fixed(quote.cost, 2, grouping=True)}"
    else:
        deal = f"Sell {shares} {side} shares for {fixed(-quote.cost, 2, grouping=True)}"
    moved, before, after = side, quote.price_before, quote.price_after
    if market.price_yes is not None and quote.yes_price_after is not None:
        moved, before, after = "YES", market.price_yes, quote.yes_price_after
    return (
        f"{deal} (average {fixed(abs(quote.average_price), 4)} each). "
        f"{moved} moves from {fixed(before * 100, 1)}% to {fixed(after * 100, 1)}%."
    )


def quote_warning(quote: Quote, *, account: Account | None, market: Market) -> str:
    """What would stop the trade that the quote alone does not check: balance, holdings."""
    balance = account.balance if account else starting_grant()
    if quote.cost > 0 and quote.cost > balance:
        return f"That costs more than your balance ({fixed(balance, 2, grouping=True)})."
    if quote.shares < 0:
        held = Decimal(0)
        if account is not None:
            holding = next(iter(selectors.holdings(account=account, market=market)), None)
            if holding is not None:
                held = holding.shares[quote.outcome]
        if -quote.shares > held:
            side = market.outcome_name(quote.outcome)
            return f"You hold {plain_shares(held)} {side} shares."
    return ""


def plain_shares(value: Decimal) -> str:
    """12.5000 -> "12.5": exact, no exponent, no thousands separator (it may be typed back)."""
    text = format(value, "f")
    return text.rstrip("0").rstrip(".") if "." in text else text
