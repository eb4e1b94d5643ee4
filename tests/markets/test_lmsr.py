from __future__ import annotations

import math
from decimal import Context, Decimal, localcontext

import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st

from markets.lmsr import (
    _FLOAT_ERROR,
    MONEY_QUANTUM,
    NO,
    SHARE_QUANTUM,
    YES,
    charge_for,
    cost,
    prices,
    shares_for_amount,
    shares_to_price,
    to_shares,
    trade_cost,
    worst_case_loss,
)

TICK = MONEY_QUANTUM
STABLE = 1e4  # |q/b| and |s/b| up to which everything must stay finite and accurate

Position = tuple[Decimal, ...]
Trade = tuple[Position, float, int, Decimal]


@st.composite
def markets(draw: st.DrawFn, max_x: float = STABLE, max_n: int = 5) -> tuple[Position, float]:
    """(q, b): 2 to max_n outcomes, b in [0.1, 1e4], |q_i / b| <= max_x, q on the share grid."""
    b = draw(st.floats(0.1, 1e4))
    xs = draw(st.lists(st.floats(-max_x, max_x), min_size=2, max_size=max_n))
    return tuple(to_shares(x * b) for x in xs), b


@st.composite
def trades(draw: st.DrawFn, max_x: float = STABLE, max_r: float = STABLE) -> Trade:
    """(q, b, outcome, shares): shares on the grid with |shares / b| <= max_r, either sign."""
    q, b = draw(markets(max_x))
    limit = int(max_r * b / float(SHARE_QUANTUM))
    return q, b, draw(st.integers(0, len(q) - 1)), draw(st.integers(-limit, limit)) * SHARE_QUANTUM


@st.composite
def purchases(draw: st.DrawFn) -> tuple[Position, float, int, Decimal]:
    """(q, b, outcome, amount): an amount of money on the grid, up to 1e4 b."""
    q, b = draw(markets())
    ticks = draw(st.integers(0, int(STABLE * b / float(MONEY_QUANTUM))))
    return q, b, draw(st.integers(0, len(q) - 1)), ticks * MONEY_QUANTUM


def after(q: Position, outcome: int, shares: Decimal) -> Position:
    return tuple(v + shares if j == outcome else v for j, v in enumerate(q))


def exact_cost(q: Position, b: float) -> Decimal:
    """C(q) in 80-digit decimal arithmetic: the reference for the float maths."""
    with localcontext(Context(prec=80)):
        x = [v / Decimal(b) for v in q]
        top = max(x)  # keeps exp() in range for any position, even far past |q/b| = 1e4
        return Decimal(b) * (top + sum(((v - top).exp() for v in x), Decimal(0)).ln())


def exact_trade_cost(q: Position, b: float, outcome: int, shares: Decimal) -> Decimal:
    with localcontext(Context(prec=80)):
        return exact_cost(after(q, outcome, shares), b) - exact_cost(q, b)


def float_error_bound(q: Position, b: float, shares: Decimal) -> float:
    """The bound on trade_cost's float error that charge_for adds before rounding up."""
    return _FLOAT_ERROR * b * (len(q) + max(abs(float(v)) for v in q) / b + abs(float(shares)) / b)


# --- hand-computed examples (b = 100) ----------------------------------------------------------


def test_an_even_binary_market_prices_one_half_and_costs_b_ln_2() -> None:
    q = (0, 0)

    p, c = prices(q, 100), cost(q, 100)

    assert p == (0.5, 0.5)
    assert c == pytest.approx(69.3147, abs=1e-4)  # 100 ln(e^0 + e^0) = 100 ln 2


def test_ten_yes_from_even_cost_5_1249_and_are_charged_5_1250() -> None:
    q = (0, 0)

    real, charged = trade_cost(q, 100, YES, 10), charge_for(q, 100, YES, 10)

    # 100 ln((e^0.1 + e^0) / 2) = 100 ln(2.1051709 / 2) = 100 * 0.051249480 = 5.1249480
    assert real == pytest.approx(5.1249480, abs=1e-7)
    assert charged == Decimal("5.1250")  # rounded up for the buyer


def test_selling_the_ten_yes_back_pays_5_1249() -> None:
    q = (Decimal(10), Decimal(0))

    charged = charge_for(q, 100, YES, -10)

    # 100 ln(2 / (e^0.1 + 1)) = -5.1249480, the proceeds rounded down for the seller
    assert charged == Decimal("-5.1249")


def test_an_even_binary_market_reaches_75_percent_after_100_ln_3_yes() -> None:
    q = (0, 0)

    shares = shares_to_price(q, 100, YES, 0.75)

    # q_yes - q_no = 100 ln(0.75 / 0.25) = 100 ln 3 = 109.8612
    assert shares == pytest.approx(109.8612, abs=1e-4)
    assert prices((shares, 0), 100)[YES] == pytest.approx(0.75, abs=1e-12)


def test_fifty_money_buys_83_1796_yes_in_an_even_market() -> None:
    q = (0, 0)

    shares = shares_for_amount(q, 100, YES, 50)

    # 100 ln(1 + (e^0.5 - 1) / 0.5) = 100 ln(2 e^0.5 - 1) = 100 ln 2.2974425 = 83.179657
    assert shares == Decimal("83.1796")
    assert charge_for(q, 100, YES, shares) == Decimal("50.0000")


def test_three_outcomes_have_subsidy_b_ln_3_and_reach_one_half_after_b_ln_2() -> None:
    q = (0, 0, 0)

    subsidy, shares = worst_case_loss(100, 3), shares_to_price(q, 100, 0, 0.5)

    assert subsidy == pytest.approx(109.8612, abs=1e-4)  # 100 ln 3
    assert shares == pytest.approx(69.3147, abs=1e-4)  # e^(s/100) / (e^(s/100) + 2) = 1/2


def test_buying_out_one_outcome_nearly_spends_the_subsidy() -> None:
    q = (Decimal(0), Decimal(0))

    collected = charge_for(q, 100, NO, 5000)

    # 100 ln((1 + e^50) / 2) = 5000 - 100 ln 2 + 4e-20, rounded up; NO then pays out 5000
    assert Decimal(5000) - collected == Decimal("69.3147")
    assert Decimal(5000) - collected <= Decimal(worst_case_loss(100, 2))


def test_selling_out_of_a_near_certainty_keeps_the_cost_exact() -> None:
    q = (Decimal(10_000), Decimal(0))

    real = trade_cost(q, 1, YES, -20_000)

    # ln(e^-10000 + 1) - ln(e^10000 + 1) = -10000 to 4e-4343; 1 - p rounds to 0 in floats
    assert real == -10_000.0


# --- prices and cost ---------------------------------------------------------------------------


# |x_i - x_j| <= 30 keeps every price above e^-30 / 5 and below 1 - e^-30, both representable;
# beyond about 37 the largest price rounds to 1.0.
@given(markets(max_x=15.0))
def test_prices_sum_to_one_and_lie_strictly_between_zero_and_one(market) -> None:
    q, b = market

    p = prices(q, b)

    assert math.fsum(p) == pytest.approx(1.0, abs=1e-12)
    assert all(0.0 < v < 1.0 for v in p)


@given(markets())
@example(((Decimal(10_000), Decimal(-10_000), Decimal(0)), 1.0))
def test_prices_and_cost_stay_finite_for_extreme_positions(market) -> None:
    q, b = market

    p, c = prices(q, b), cost(q, b)

    assert all(0.0 <= v <= 1.0 for v in p)
    assert math.fsum(p) == pytest.approx(1.0, abs=1e-12)
    assert math.isfinite(c)


@given(markets())
def test_cost_matches_80_digit_arithmetic(market) -> None:
    q, b = market

    c = cost(q, b)

    assert c == pytest.approx(float(exact_cost(q, b)), rel=1e-14, abs=1e-14 * b)


# --- trade cost --------------------------------------------------------------------------------


@settings(max_examples=300)
@given(trades())
@example(((Decimal(10_000), Decimal(0)), 1.0, YES, Decimal(-20_000)))
@example(((Decimal(0), Decimal(10_000)), 1.0, YES, Decimal(20_000)))
@example(((Decimal(0), Decimal(0)), 100.0, YES, Decimal("0.0001")))
def test_trade_cost_is_finite_and_within_its_error_bound_of_80_digit_arithmetic(trade) -> None:
    q, b, outcome, shares = trade

    real = trade_cost(q, b, outcome, shares)

    assert math.isfinite(real)
    exact = float(exact_trade_cost(q, b, outcome, shares))
    assert abs(real - exact) <= float_error_bound(q, b, shares)


@given(trades(), st.integers(0, 10**8))
def test_cost_increases_with_shares(trade, extra_ticks) -> None:
    q, b, outcome, shares = trade
    more = shares + extra_ticks * SHARE_QUANTUM

    low, high = trade_cost(q, b, outcome, shares), trade_cost(q, b, outcome, more)

    assert low <= high
    assert charge_for(q, b, outcome, shares) <= charge_for(q, b, outcome, more)


@given(trades(max_x=20.0, max_r=20.0))
def test_each_share_costs_between_the_prices_before_and_after(trade) -> None:
    q, b, outcome, shares = trade
    before, later = prices(q, b)[outcome], prices(after(q, outcome, shares), b)[outcome]

    per_share = trade_cost(q, b, outcome, shares) / float(shares) if shares else before

    # The price is the marginal cost and rises along the trade: cost is strictly increasing.
    slack = 1e-9 * max(before, later)
    assert min(before, later) - slack <= per_share <= max(before, later) + slack


# --- charges: rounding in the maker's favour ---------------------------------------------------


@given(trades())
def test_the_charge_is_the_exact_cost_rounded_up(trade) -> None:
    q, b, outcome, shares = trade

    charged = charge_for(q, b, outcome, shares)

    exact = exact_trade_cost(q, b, outcome, shares)
    assert charged == charged.quantize(TICK)
    assert exact <= charged < exact + TICK + Decimal(float_error_bound(q, b, shares))


@given(trades())
def test_buying_then_selling_never_leaves_the_trader_ahead(trade) -> None:
    q, b, outcome, shares = trade

    paid = charge_for(q, b, outcome, shares)
    paid += charge_for(after(q, outcome, shares), b, outcome, -shares)

    assert 0 <= paid <= 2 * TICK


@given(markets(max_x=0.0), st.lists(st.tuples(st.integers(0, 4), st.integers(-(10**9), 10**9))))
def test_the_maker_never_loses_more_than_b_ln_n(market, moves) -> None:
    q, b = market
    collected = Decimal(0)

    for outcome, ticks in moves:
        shares = ticks * SHARE_QUANTUM
        collected += charge_for(q, b, outcome % len(q), shares)
        q = after(q, outcome % len(q), shares)

    # At most b ln n whichever outcome happens (to the float error of b ln n itself), and never
    # less than the exact LMSR collects.
    bound = Decimal(worst_case_loss(b, len(q))) * (1 + Decimal("1e-15"))
    assert min(collected - payout for payout in q) >= -bound
    assert collected >= exact_cost(q, b) - exact_cost(market[0], b)


# --- shares for an amount ----------------------------------------------------------------------


@given(purchases())
@example(((Decimal(0), Decimal(10_000)), 1.0, YES, Decimal(1)))  # e^-10000 a share
@example(((Decimal(10_000), Decimal(0)), 1.0, YES, Decimal(1)))  # 1 a share
def test_shares_for_amount_are_the_most_the_amount_pays_for(purchase) -> None:
    q, b, outcome, amount = purchase

    shares = shares_for_amount(q, b, outcome, amount)

    assert shares >= 0 and shares == shares.quantize(SHARE_QUANTUM)
    assert charge_for(q, b, outcome, shares) <= amount
    assert charge_for(q, b, outcome, shares + SHARE_QUANTUM) > amount


# --- shares to a target price ------------------------------------------------------------------


targets = st.floats(0.0, 1.0, exclude_min=True, exclude_max=True)


@given(markets(), st.data(), targets)
def test_shares_to_price_reaches_the_target(market, data, target) -> None:
    q, b = market
    outcome = data.draw(st.integers(0, len(q) - 1))

    shares = shares_to_price(q, b, outcome, target)

    moved = tuple(float(v) + (shares if j == outcome else 0.0) for j, v in enumerate(q))
    assert prices(moved, b)[outcome] == pytest.approx(target, abs=1e-9)


@given(markets(max_x=30.0), st.data(), st.floats(0.01, 0.99))
def test_a_target_price_moves_the_other_outcomes_in_proportion(market, data, target) -> None:
    q, b = market
    outcome = data.draw(st.integers(0, len(q) - 1))
    before = prices(q, b)

    shares = shares_to_price(q, b, outcome, target)

    moved = prices(tuple(float(v) + (shares if j == outcome else 0.0) for j, v in enumerate(q)), b)
    # Buying one outcome leaves the others' shares alone, so every other price is scaled by
    # one factor: they keep their ratios and share what the traded outcome gave up or took.
    scales = [moved[j] / before[j] for j in range(len(q)) if j != outcome]
    assert scales == pytest.approx([scales[0]] * len(scales), rel=1e-9)
    assert moved[outcome] == pytest.approx(target, abs=1e-9)


@given(markets(max_n=2), targets)
def test_binary_price_targeting_sets_q_yes_minus_q_no_to_b_logit_p(market, target) -> None:
    ((q_yes, q_no), b) = market

    shares = shares_to_price((q_yes, q_no), b, YES, target)

    logit = math.log(target) - math.log1p(-target)
    gap = float(q_yes) + shares - float(q_no)
    # float error is relative to the largest term in play
    scale = b * (1 + abs(logit)) + abs(float(q_yes)) + abs(float(q_no))
    assert gap == pytest.approx(b * logit, abs=1e-14 * scale)


@given(markets(max_x=30.0), st.data(), st.floats(0.01, 0.99))
def test_shares_to_price_on_the_grid_lands_within_half_a_tick(market, data, target) -> None:
    q, b = market
    outcome = data.draw(st.integers(0, len(q) - 1))

    shares = to_shares(shares_to_price(q, b, outcome, target))

    # dp/ds = p (1 - p) / b <= 1 / (4 b), and the grid is at most half a tick off
    reached = prices(after(q, outcome, shares), b)[outcome]
    assert abs(reached - target) <= float(SHARE_QUANTUM) / 2 / (4 * b) + 1e-12


# --- validation --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("call", "message"),
    [
        (lambda: cost((0, 0), 0), "liquidity b"),
        (lambda: prices((0, 0), -1), "liquidity b"),
        (lambda: cost((0, 0), math.inf), "liquidity b"),
        (lambda: cost((0,), 100), "at least 2 outcomes"),
        (lambda: prices((0, math.nan), 100), "outstanding shares must be finite"),
        (lambda: cost((Decimal("Infinity"), 0), 100), "outstanding shares must be finite"),
        (lambda: trade_cost((0, 0), 100, 2, 1), "unknown outcome 2"),
        (lambda: trade_cost((0, 0), 100, -1, 1), "unknown outcome -1"),
        (lambda: trade_cost((0, 0), 100, YES, math.inf), "shares must be finite"),
        (lambda: charge_for((0, 0), 100, YES, Decimal("NaN")), "shares must be finite"),
        (lambda: charge_for((0, 0), 100, YES, Decimal("0.00001")), "multiple of 0.0001"),
        (lambda: charge_for((0, 0), 100, YES, 0.5), "Decimal or an int"),  # type: ignore[arg-type]
        (lambda: shares_for_amount((0, 0), 100, YES, Decimal(-1)), "amount must be >= 0"),
        (lambda: shares_for_amount((0, 0), 100, YES, Decimal("NaN")), "amount must be finite"),
        (lambda: shares_to_price((0, 0), 100, YES, 1.0), "strictly between 0 and 1"),
        (lambda: shares_to_price((0, 0), 100, YES, 0.0), "strictly between 0 and 1"),
        (lambda: shares_to_price((0, 0), 100, YES, math.nan), "strictly between 0 and 1"),
        (lambda: to_shares(math.inf), "shares must be finite"),
        (lambda: worst_case_loss(100, 1), "at least 2 outcomes"),
    ],
)
def test_invalid_input_raises_a_clear_value_error(call, message) -> None:
    with pytest.raises(ValueError, match=message):
        call()
