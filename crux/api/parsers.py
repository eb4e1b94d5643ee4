"""The API's request parsers: DRF's JSON, with a bound on how deep a document nests.

A module of its own because DRF reads ``DEFAULT_PARSER_CLASSES`` while ``rest_framework.views``
is first imported, which ``api_support`` does: the parser must not depend on that import.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from rest_framework import exceptions, parsers

MAX_JSON_DEPTH = 32


def json_deeper_than(value: Any, limit: int) -> bool:
    """Whether parsed JSON nests containers more than ``limit`` deep (a flat object is 1).

    Walked with a stack, not recursion, so the measure itself cannot exhaust the stack.
    """
    stack = [(value, 1)]
    while stack:
        node, depth = stack.pop()
        if isinstance(node, dict):
            children: Iterable[Any] = node.values()
        elif isinstance(node, list):
            children = node
        else:
            continue
        if depth > limit:
            return True
        stack.extend((child, depth + 1) for child in children)
    return False


class JSONParser(parsers.JSONParser):
    """DRF's JSON parser, refusing documents nested deeper than ``MAX_JSON_DEPTH``.

    Python's decoder recurses once per level, so 2 KB of brackets exhausts the stack (a
    ``RecursionError``, a 500). No body Crux takes nests more than two levels; the limit leaves
    room and keeps anything deep from reaching a serializer at all.
    """

    max_depth = MAX_JSON_DEPTH

    def parse(self, stream: Any, media_type: Any = None, parser_context: Any = None) -> Any:
        too_deep = f"JSON parse error - nested more than {self.max_depth} levels deep."
        try:
            data = super().parse(stream, media_type, parser_context)
        except RecursionError:
            raise exceptions.ParseError(too_deep) from None
        if json_deeper_than(data, self.max_depth):
            raise exceptions.ParseError(too_deep)
        return data
