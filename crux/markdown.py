"""User-written text as safe HTML: a small Markdown subset, then an HTML allow-list.

Two layers, each enough on its own for the common attacks, so that a slip in one is caught by
the other. markdown-it-py parses CommonMark with raw HTML off, so ``<script>`` or ``<img
onerror=...>`` typed into a comment is text, escaped, never markup; it also refuses
``javascript:``, ``vbscript:``, ``file:`` and ``data:`` link targets however they are spelled
(entities, case). nh3 (ammonia) then keeps only the tags and attributes listed here, only
absolute ``http``, ``https`` and ``mailto`` addresses (a relative or protocol-relative one is
dropped: a comment names no page of the site by accident), and gives every link
``rel="nofollow noopener ugc"``: a search engine credits nothing a visitor wrote, and the
page a link opens cannot reach back into this one.

What is kept: paragraphs and line breaks, emphasis, links, lists, inline code and code
blocks, block quotes and rules. Headings and images are not parsed at all (a heading would
break the page's outline; an image would load from anywhere), so ``# x`` stays ``# x``.
"""

from __future__ import annotations

import nh3
from django.utils.safestring import SafeString, mark_safe
from markdown_it import MarkdownIt

ALLOWED_TAGS = frozenset(
    {"p", "br", "em", "strong", "a", "ul", "ol", "li", "code", "pre", "blockquote", "hr"}
)
ALLOWED_ATTRIBUTES = {"a": {"href", "title"}, "ol": {"start"}}
URL_SCHEMES = frozenset({"http", "https", "mailto"})
LINK_REL = "nofollow noopener ugc"

_parser = MarkdownIt("commonmark", {"html": False, "linkify": False, "typographer": False}).disable(
    ["heading", "lheading", "image", "html_block", "html_inline"]
)


def render_markdown(text: str) -> SafeString:
    """``text`` (Markdown, as a person typed it) as HTML that is safe to put in a page."""
    html = _parser.render(text)
    cleaned = nh3.clean(
        html,
        tags=set(ALLOWED_TAGS),
        attributes={tag: set(names) for tag, names in ALLOWED_ATTRIBUTES.items()},
        url_schemes=set(URL_SCHEMES),
        url_relative="deny",
        link_rel=LINK_REL,
        strip_comments=True,
    )
    return mark_safe(cleaned)  # noqa: S308 - the allow-list above is what makes it safe
