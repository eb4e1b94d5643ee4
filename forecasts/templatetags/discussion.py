"""``{% discussion_section question %}``: the question page's Discussion, as its own views
render it (``forecasts.discussion.views``), so the page needs nothing from its view."""

from __future__ import annotations

from typing import Any

from django import template

from forecasts.discussion.views import TEMPLATE, discussion_context, discussion_of
from forecasts.models import Question

register = template.Library()


@register.inclusion_tag(TEMPLATE, takes_context=True)
def discussion_section(context: template.Context, question: Question) -> dict[str, Any]:
    request = context["request"]
    return discussion_context(request, discussion_of(request, question))
