"""The trade form and the admin's forms: parsed once here into the typed values the services
take (an ``Order``, a ``Decimal``), with the parsing of ``markets.money``."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from typing import Any

from django import forms
from django.contrib.sessions.backends.base import SessionBase
from django.core.exceptions import ValidationError

from forecasts.models import Question
from markets.models import BINARY_LABELS, outcome_name
from markets.money import Order, parse_money

SIZE_BY = {"shares": "Shares", "amount": "Amount", "target_price": "Target price"}
# The service's own bounds on a target price (0.001 to 0.999), as the percentages typed here.
TARGET_MIN, TARGET_MAX = Decimal("0.1"), Decimal("99.9")
# A refused or previewed trade, carried in the session through the redirect to the question page.
KEPT_KEY = "markets.kept_trade"
KEPT_LENGTH = 100  # per field: longer input is refused anyway, and the session stays small


class TradeForm(forms.Form):
    """Outcome, buy or sell, and a size given in shares, in money to spend, or as a price in %.

    ``labels``: the market's outcomes (binary: yes, no), offered by label. Fields are prefixed
    ``trade_`` in the page so that they never clash with the forecast form.
    """

    outcome = forms.ChoiceField(label="Outcome", widget=forms.RadioSelect)
    action = forms.ChoiceField(
        label="Action", choices=[("buy", "Buy"), ("sell", "Sell")], widget=forms.RadioSelect
    )
    size_by = forms.ChoiceField(
        label="Size by",
        choices=[
            ("shares", "Shares"),
            ("amount", "Amount to spend"),
            ("target_price", "Move its price to (%)"),
        ],
        widget=forms.RadioSelect,
    )
    size = forms.CharField(
        label="Size",
        max_length=40,
        widget=forms.NumberInput(
            attrs={"min": "0", "step": "any", "inputmode": "decimal", "data-trade-size": ""}
        ),
        error_messages={"required": "A size is required."},
    )

    INITIAL = {"action": "buy", "size_by": "shares"}

    def __init__(self, *args: Any, labels: Sequence[str] = BINARY_LABELS, **kwargs: Any) -> None:
        self.labels = tuple(labels)
        kwargs.setdefault("auto_id", "trade_%s")
        kwargs["initial"] = {"outcome": self.labels[0], **kwargs.get("initial", self.INITIAL)}
        super().__init__(*args, **kwargs)
        outcome = self.fields["outcome"]
        assert isinstance(outcome, forms.ChoiceField)
        outcome.choices = [
            (label, outcome_name(self.labels, i)) for i, label in enumerate(self.labels)
        ]

    def clean(self) -> dict[str, Any]:
        super().clean()
        data = self.cleaned_data
        size_by, size = data.get("size_by"), data.get("size")
        if size is None or size_by is None:
            return data
        if data.get("action") == "sell" and size_by != "shares":
            self.add_error("size", "A sale is given in shares.")
            return data
        if size_by == "target_price":
            size = _percent(size)
        if "outcome" in data and "action" in data:
            try:
                data["order"] = Order.parse(
                    outcome=data["outcome"],
                    action=data["action"],
                    labels=self.labels,
                    **{size_by: size},
                )
            except ValidationError as error:
                self.add_refusal(error)
        return data

    @property
    def size_label(self) -> str:
        """What the size field means as submitted: Shares, Amount or Target price."""
        size_by = self.data.get("size_by") if self.is_bound else None
        return SIZE_BY.get(str(size_by), "Size")

    @property
    def order(self) -> Order:
        """The order for ``market_quote``/``market_trade``, once the form is valid."""
        order = self.cleaned_data["order"]
        assert isinstance(order, Order)
        return order

    def add_refusal(self, error: ValidationError) -> None:
        """A refused order (by its parsing or by a service), under the field it names (the
        size, whatever it was given as)."""
        for name, messages in error.message_dict.items():
            if name in SIZE_BY:
                self.add_error("size", messages)
            elif name in self.fields:
                self.add_error(name, messages)
            else:
                self.add_error(None, messages)

    def named_errors(self) -> list[tuple[str, str]]:
        """Every error with the name of its field, as the page shows them ("Shares: ...")."""
        labels = {name: str(field.label) for name, field in self.fields.items()}
        labels.update({"size": self.size_label, "__all__": "Market"})
        return [
            (labels[name], " ".join(str(error) for error in errors))
            for name, errors in self.errors.items()
        ]

    def keep(
        self, session: SessionBase, *, market_id: int, quote_text: str = "", warning: str = ""
    ) -> None:
        """Keep this submission for the page the trade view redirects to: the input as typed,
        its errors as the page names them, and a preview's quote and warning (see ``kept``)."""
        session[KEPT_KEY] = {
            "market": market_id,
            "input": {name: str(self.data.get(name, ""))[:KEPT_LENGTH] for name in self.fields},
            "errors": self.named_errors(),
            "quote": quote_text,
            "warning": warning,
        }

    def answered(self, *, quote_text: str = "", warning: str = "") -> KeptTrade:
        """This submission as the panel shows it when answered in place: as typed, with its
        errors, or its preview's quote and warning."""
        return KeptTrade(
            form=self,
            errors=self.named_errors(),
            quote_text=quote_text,
            quote_warning=warning,
        )

    def again(self) -> TradeForm:
        """A fresh form after a trade: the same outcome, action and way of sizing, no size."""
        typed = {name: self.data.get(name) for name in ("outcome", "action", "size_by")}
        initial = {**self.INITIAL, **{name: value for name, value in typed.items() if value}}
        return TradeForm(initial=initial, labels=self.labels)


@dataclass(frozen=True)
class KeptTrade:
    """A submission that did not trade, as the panel shows it again: the form filled in as
    the user left it, the errors, and the quote with its warning."""

    form: TradeForm
    errors: list[tuple[str, str]]
    quote_text: str
    quote_warning: str = ""


def kept(
    session: SessionBase, *, market_id: int, labels: Sequence[str] = BINARY_LABELS
) -> KeptTrade | None:
    """The submission kept for ``market_id``'s panel (its outcomes ``labels``), if any. Shown
    once: it is forgotten here, as is one kept for another market (the user went elsewhere)."""
    state = session.pop(KEPT_KEY, None)
    if not isinstance(state, dict) or state.get("market") != market_id:
        return None
    typed = {name: value for name, value in state["input"].items() if value}
    return KeptTrade(
        form=TradeForm(initial={**TradeForm.INITIAL, **typed}, labels=labels),
        errors=[(label, text) for label, text in state["errors"]],
        quote_text=state["quote"],
        quote_warning=str(state.get("warning", "")),
    )


def _percent(raw: str) -> Decimal:
    """A target price typed in percent, as the probability the services take."""
    try:
        value = Decimal(raw.strip())
    except InvalidOperation:
        raise ValidationError({"size": "The value must be a number."}) from None
    if not value.is_finite():
        raise ValidationError({"size": "The number must be finite."})
    if not TARGET_MIN <= value <= TARGET_MAX:
        raise ValidationError({"size": f"Give a price between {TARGET_MIN}% and {TARGET_MAX}%."})
    return value / 100


class MarketOpenForm(forms.Form):
    """The admin's "open a market" form: the service checks the question and the liquidity."""

    question = forms.ModelChoiceField(
        queryset=Question.objects.filter(market__isnull=True).order_by("-opens_at", "id"),
        help_text="Questions without a market.",
    )
    b = forms.CharField(
        label="Liquidity b",
        max_length=40,
        help_text="In play money: the maker can lose at most b ln 2; larger b, steadier prices.",
    )

    def clean_b(self) -> Decimal:
        return _money(self.cleaned_data["b"], "b")


class GrantForm(forms.Form):
    amount = forms.CharField(label="Amount to grant each", max_length=40)

    def clean_amount(self) -> Decimal:
        return _money(self.cleaned_data["amount"], "amount")


def _money(raw: str, field: str) -> Decimal:
    """``raw`` as money, or the field's own error."""
    try:
        return parse_money(raw, field)
    except ValidationError as error:
        raise ValidationError(error.message_dict[field]) from None
