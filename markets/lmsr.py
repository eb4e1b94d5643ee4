"""Hanson's logarithmic market scoring rule (LMSR): pure maths, no Django.

A market on n >= 2 mutually exclusive outcomes (binary: ``YES = 0``, ``NO = 1``) is the vector q
of outstanding shares, one number per outcome, plus the liquidity b > 0 (in money, which is also
shares). A share of outcome i pays 1 money when i happens. Money is play money.

- Cost C(q) = b ln(sum_i exp(q_i / b)), in money; the maker has collected C(q) - C(0) for q.
- Price p_i = softmax(q / b)_i in (0, 1), summing to 1: money per share at the margin.
- A trade of s shares of outcome i (s < 0 sells) costs C(q + s e_i) - C(q)
  = b ln(1 + p_i (e^(s/b) - 1)).
- The maker's worst-case loss, the subsidy, is b ln n: C(0) = b ln n and C(q) >= max_i q_i.

Two layers
----------
*Real*: ``cost``, ``prices``, ``trade_cost``, ``shares_to_price``, ``worst_case_loss`` take and
return float64, the exact real numbers up to float error. *Ledger*: ``charge_for``,
``shares_for_amount`` and ``to_shares`` speak ``Decimal`` on a grid of 0.0001, what accounts and
trades record. ``q`` may be floats or Decimals in both; it is converted to float64 (relative error
1e-16, far below a tick at any sensible scale).

Representation
--------------
Money is ``Decimal`` quantised to 0.0001 (``MONEY_QUANTUM``). It maps one to one onto
``DecimalField(decimal_places=4)`` and onto JSON decimal strings, sums and differences of grid
values are exact in Python, and the rounding direction is an explicit argument a reader can check.
Integer micro-units would be as exact but would put a scale factor into every model, serializer
and template; Decimal keeps the unit visible.

Shares are ``Decimal`` on the same 0.0001 grid (``SHARE_QUANTUM``), not floats: a share pays
exactly 1 money, so payouts, refunds and the market's q (a sum of trades) stay exact, while a
trader can still hold fractions (what 10 money buys is rarely a whole number of shares).
``shares_to_price`` returns the real float answer (it must hit the price to 1e-9, finer than the
grid allows); ``to_shares`` puts it on the grid before it is traded.

Rounding
--------
``charge_for`` rounds the exact real cost towards +infinity to 0.0001: a buyer pays the cost
rounded up, a seller receives the proceeds rounded down. Every rounding error goes to the maker,
so the b ln n bound holds for the ledger as well. The float cost is first raised by a bound on its
own float error (``_FLOAT_ERROR``), so that a true cost just above a tick, which floats computed
just below it, is still rounded up; that bound stays under 1e-5 money while
b (n + max|q/b| + |s/b|) < 1e9, i.e. in every market a person would run.

Stability
---------
Everything is computed from x = q / b through log-sum-exp and the log-odds of the traded outcome,
z_i = x_i - ln sum_{j != i} exp(x_j), never by subtracting two large costs, so cost, prices and
trade costs stay finite and accurate for |q/b| and |s/b| up to 1e4 and beyond.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from decimal import ROUND_CEILING, ROUND_HALF_EVEN, Context, Decimal

import numpy as np
from numpy.typing import NDArray

YES = 0
NO = 1

MONEY_QUANTUM = Decimal("0.0001")
SHARE_QUANTUM = Decimal("0.0001")

# Bound on trade_cost's float error, in units of b (n + max|q/b| + |s/b|): x = q / b, its
# log-sum-exp, the log-odds and r = s / b each carry a few ulps of the largest term, and 1e-14 is
# about 45 ulps. tests/markets/test_lmsr.py checks trade_cost against 80-digit arithmetic with
# this very bound; the worst error seen there is a few per cent of it.
_FLOAT_ERROR = 1e-14

# Decimal(float) is exact and can carry ~50 digits; quantising it needs more precision than the
# default 28 digits for large amounts.
_CONTEXT = Context(prec=80)

Quantity = float | int | Decimal
FloatArray = NDArray[np.float64]


# --- real layer -------------------------------------------------------------------------------


def cost(q: Sequence[Quantity], b: float) -> float:
    """C(q) = b ln(sum_i exp(q_i / b)) in money, for shares ``q`` and liquidity ``b`` > 0."""
    x, b = _scaled(q, b)
    return b * _logsumexp(x)


def prices(q: Sequence[Quantity], b: float) -> tuple[float, ...]:
    """Prices softmax(q / b), money per share, summing to 1.

    Each lies in (0, 1) in exact arithmetic; in floats a price rounds to 0 or 1 once the spread
    of q / b passes about 36 (e^-36 is below float64's resolution near 1).
    """
    x, _ = _scaled(q, b)
    e = np.exp(x - x.max())
    return tuple(float(v) for v in e / e.sum())


def trade_cost(q: Sequence[Quantity], b: float, outcome: int, shares: Quantity) -> float:
    """Exact real cost C(q + shares e_outcome) - C(q) in money; negative when ``shares`` < 0.

    Lies between shares * p_outcome before and after the trade, so |cost| <= |shares|.
    """
    x, b = _scaled(q, b)
    i = _check_outcome(outcome, len(x))
    r = _finite_ratio(shares, b, "shares")
    return b * _log_cost_ratio(_log_odds(x, i), r)


def shares_to_price(q: Sequence[Quantity], b: float, outcome: int, target: float) -> float:
    """Shares of ``outcome`` to buy (> 0) or sell (< 0) so that its price becomes ``target``.

    ``target`` in (0, 1). The other outcomes' shares stay put, so their prices scale together.
    After the trade the log-odds of the outcome are logit(target), hence
    shares = b (logit(target) - z), z its log-odds now; binary: q_yes - q_no = b ln(p / (1 - p)).
    Returns the real (float) number of shares; ``to_shares`` puts it on the trading grid.
    """
    x, b = _scaled(q, b)
    i = _check_outcome(outcome, len(x))
    t = float(target)
    if not (math.isfinite(t) and 0.0 < t < 1.0):
        raise ValueError(f"target price must lie strictly between 0 and 1, got {target!r}")
    return b * (math.log(t) - math.log1p(-t) - _log_odds(x, i))


def worst_case_loss(b: float, n: int) -> float:
    """The maker's maximum loss b ln n in money (the subsidy), for ``n`` >= 2 outcomes."""
    b = _check_liquidity(b)
    if n < 2:
        raise ValueError(f"a market needs at least 2 outcomes, got {n}")
    return b * math.log(n)


def worst_case_loss_money(b: Decimal, n: int) -> Decimal:
    """b ln n rounded up to the money grid: the subsidy a maker is paid up front, and so the
    most a settled maker may have lost. The float's own error (about 1e-16 relative) is covered
    by the margin before rounding up."""
    real = worst_case_loss(float(b), n) * (1 + 1e-12)
    return Decimal(real).quantize(MONEY_QUANTUM, rounding=ROUND_CEILING, context=_CONTEXT)


# --- ledger layer -----------------------------------------------------------------------------


def charge_for(q: Sequence[Quantity], b: float, outcome: int, shares: Decimal | int) -> Decimal:
    """What a trader pays for ``shares`` of ``outcome``, in money on the 0.0001 grid.

    ``shares`` is a multiple of 0.0001; positive buys, negative sells. The result is positive when
    the trader pays, negative when they receive, and is the exact cost rounded towards +infinity
    (the maker's favour both ways). Whether a seller holds the shares is the caller's business.
    """
    x, b = _scaled(q, b)
    i = _check_outcome(outcome, len(x))
    return _charge(x, b, _log_odds(x, i), _check_grid_shares(shares))


def shares_for_amount(
    q: Sequence[Quantity], b: float, outcome: int, amount: Decimal | int
) -> Decimal:
    """The most shares of ``outcome`` (on the 0.0001 grid, >= 0) whose charge is <= ``amount``.

    ``amount`` is money >= 0. The real answer solves b ln(1 + p (e^(s/b) - 1)) = amount:
    s = b ln(1 + (e^(amount/b) - 1) / p), computed in logs; then the grid is searched around it so
    that the result is exact for ``charge_for`` and its rounding.
    """
    x, b = _scaled(q, b)
    i = _check_outcome(outcome, len(x))
    money = _check_money(amount)
    z = _log_odds(x, i)
    a = _finite_ratio(money, b, "amount")
    if a == 0.0:
        return Decimal(0).quantize(SHARE_QUANTUM)
    # ln(e^a - 1) without overflow or cancellation, then s/b = ln(1 + e^(that - ln p)).
    log_expm1_a = a + math.log(-math.expm1(-a))
    log_p = -_softplus(-z)
    estimate = b * _softplus(log_expm1_a - log_p)

    def fits(ticks: int) -> bool:
        return _charge(x, b, z, Decimal(ticks) * SHARE_QUANTUM) <= money

    return Decimal(_last_true(fits, _ticks_floor(estimate))) * SHARE_QUANTUM


def to_shares(value: float) -> Decimal:
    """``value`` shares rounded to the nearest multiple of 0.0001 (what can be traded)."""
    v = float(value)
    if not math.isfinite(v):
        raise ValueError(f"shares must be finite, got {value!r}")
    return Decimal(v).quantize(SHARE_QUANTUM, rounding=ROUND_HALF_EVEN, context=_CONTEXT)


# --- helpers ----------------------------------------------------------------------------------


def _charge(x: FloatArray, b: float, z: float, shares: Decimal) -> Decimal:
    if shares == 0:
        return Decimal(0).quantize(MONEY_QUANTUM)
    r = float(shares) / b
    real = b * _log_cost_ratio(z, r)
    guard = _FLOAT_ERROR * b * (len(x) + float(np.abs(x).max()) + abs(r))
    return Decimal(real + guard).quantize(MONEY_QUANTUM, rounding=ROUND_CEILING, context=_CONTEXT)


def _log_cost_ratio(z: float, r: float) -> float:
    """(C(q') - C(q)) / b = ln(1 + p (e^r - 1)) for r = s / b shares of an outcome of log-odds z."""
    if abs(r) <= 1.0:
        # Small trades: log1p/expm1 keep full relative precision where the cost is tiny.
        return math.log1p(_sigmoid(z) * math.expm1(r))
    # Large trades: ln((1 - p) + p e^r) from log-probabilities, which neither overflows (e^r)
    # nor loses 1 - p when p rounds to 1 (selling out of a near-certain outcome).
    log_p, log_not_p = -_softplus(-z), -_softplus(z)
    return float(np.logaddexp(log_not_p, log_p + r))


def _log_odds(x: FloatArray, i: int) -> float:
    """z_i = x_i - ln sum_{j != i} exp(x_j), the log-odds ln(p_i / (1 - p_i)), never rounded to
    +-inf the way a ratio of underflowing prices would be."""
    return float(x[i]) - _logsumexp(np.delete(x, i))


def _logsumexp(x: FloatArray) -> float:
    m = float(x.max())
    return m + math.log(float(np.exp(x - m).sum()))


def _softplus(v: float) -> float:
    """ln(1 + e^v) without overflow."""
    return float(np.logaddexp(0.0, v))


def _sigmoid(z: float) -> float:
    if z >= 0:
        return 1.0 / (1.0 + math.exp(-z))
    e = math.exp(z)
    return e / (1.0 + e)


def _last_true(fits: Callable[[int], bool], start: int) -> int:
    """Largest integer k >= 0 with fits(k), for fits monotone (true then false) and fits(0).

    Gallops from ``start``, which is within a tick or two of the answer in practice, then bisects;
    the galloping only matters if float error ever put ``start`` further off.
    """
    lo, hi = max(start, 0), None  # hi: the least k known not to fit, once found
    step = 1
    while not fits(lo):
        hi, lo = lo, max(lo - step, 0)
        step *= 2
    if hi is None:
        step = 1
        hi = lo + step
        while fits(hi):
            lo, hi = hi, hi + step
            step *= 2
    while hi - lo > 1:
        mid = (lo + hi) // 2
        lo, hi = (mid, hi) if fits(mid) else (lo, mid)
    return lo


def _ticks_floor(shares: float) -> int:
    """A starting point for the grid search; its own float rounding is corrected there."""
    return math.floor(shares / float(SHARE_QUANTUM))


def _scaled(q: Sequence[Quantity], b: float) -> tuple[FloatArray, float]:
    """x = q / b as float64, and b as a float, after validating both."""
    b = _check_liquidity(b)
    if len(q) < 2:
        raise ValueError(f"a market needs at least 2 outcomes, got {len(q)}")
    shares = np.array([float(v) for v in q], dtype=np.float64)
    if not np.isfinite(shares).all():
        raise ValueError(f"outstanding shares must be finite, got {tuple(q)!r}")
    x = shares / b
    if not np.isfinite(x).all():
        raise ValueError(f"q / b overflows for b={b!r}")
    return x, b


def _check_liquidity(b: float) -> float:
    value = float(b)
    if not (math.isfinite(value) and value > 0.0):
        raise ValueError(f"liquidity b must be a positive finite number, got {b!r}")
    return value


def _check_outcome(outcome: int, n: int) -> int:
    if isinstance(outcome, bool) or not isinstance(outcome, int | np.integer):
        raise ValueError(f"outcome must be an integer index, got {outcome!r}")
    if not 0 <= outcome < n:
        raise ValueError(f"unknown outcome {outcome}: this market has outcomes 0..{n - 1}")
    return int(outcome)


def _finite_ratio(value: Quantity, b: float, name: str) -> float:
    v = float(value)
    if not math.isfinite(v):
        raise ValueError(f"{name} must be finite, got {value!r}")
    r = v / b
    if not math.isfinite(r):
        raise ValueError(f"{name} / b overflows for {name}={value!r}, b={b!r}")
    return r


def _check_grid_shares(shares: Decimal | int) -> Decimal:
    s = _to_decimal(shares, "shares")
    if s != s.quantize(SHARE_QUANTUM, context=_CONTEXT):
        raise ValueError(f"shares must be a multiple of {SHARE_QUANTUM} (see to_shares), got {s}")
    return s


def _check_money(amount: Decimal | int) -> Decimal:
    money = _to_decimal(amount, "amount")
    if money < 0:
        raise ValueError(f"amount must be >= 0, got {money}")
    return money


def _to_decimal(value: Decimal | int, name: str) -> Decimal:
    if isinstance(value, bool) or not isinstance(value, Decimal | int):
        raise ValueError(f"{name} must be a Decimal or an int, got {value!r}")
    d = Decimal(value)
    if not d.is_finite():
        raise ValueError(f"{name} must be finite, got {value!r}")
    return d
