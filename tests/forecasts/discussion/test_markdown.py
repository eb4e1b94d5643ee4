"""Comments are Markdown rendered safely: every payload stays text or is stripped."""

from __future__ import annotations

from html.parser import HTMLParser

import pytest

from crux.markdown import ALLOWED_ATTRIBUTES, ALLOWED_TAGS, LINK_REL, render_markdown

PAYLOADS = [
    "<script>alert(1)</script>",
    "<SCRIPT SRC=https://evil.example/x.js></SCRIPT>",
    "<img src=x onerror=alert(1)>",
    '<a href="javascript:alert(1)">click</a>',
    "<iframe src=https://evil.example></iframe>",
    "<svg onload=alert(1)>",
    "<style>body{display:none}</style>",
    '<div style="position:fixed">x</div>',
    "<!-- <script>alert(1)</script> -->",
    "[click](javascript:alert(1))",
    "[click](JaVaScRiPt:alert(1))",
    "[click](&#106;avascript:alert(1))",
    "[click](java&#x09;script:alert(1))",
    "[click](  javascript:alert(1)  )",
    "[click](vbscript:msgbox(1))",
    "[click](data:text/html;base64,PHNjcmlwdD5hbGVydCgxKTwvc2NyaXB0Pg==)",
    "[click](file:///etc/passwd)",
    "<javascript:alert(1)>",
    "[ref][x]\n\n[x]: javascript:alert(1)",
    '[t](https://ok.example "a" onmouseover="alert(1)")',
    '[t](https://ok.example "\\" onmouseover=\\"alert(1)")',
    "![img](https://evil.example/track.png)",
    "![img](javascript:alert(1))",
    "[relative](/admin/)",
    "[protocol-relative](//evil.example/)",
    "``<script>alert(1)</script>``",
    "```\n</code></pre><script>alert(1)</script>\n```",
    "> <img src=x onerror=alert(1)>",
    "* [x](javascript:alert(1))",
    "<a href=https://ok.example onclick=alert(1)>x</a>",
]


class _Collect(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.tags: list[tuple[str, list[tuple[str, str | None]]]] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append((tag, attrs))


def _tags(html: str) -> list[tuple[str, list[tuple[str, str | None]]]]:
    parser = _Collect()
    parser.feed(html)
    return parser.tags


@pytest.mark.parametrize("payload", PAYLOADS)
def test_a_payload_stays_text_or_is_stripped(payload: str) -> None:
    html = render_markdown(payload)

    for tag, attrs in _tags(html):
        assert tag in ALLOWED_TAGS, (tag, html)
        for name, value in attrs:
            assert name in ALLOWED_ATTRIBUTES.get(tag, set()) | {"rel"}, (tag, name, html)
            if name == "href":
                assert (value or "").startswith(("http://", "https://", "mailto:")), html
    assert "<script" not in html.lower()


def test_raw_html_is_shown_as_text() -> None:
    html = render_markdown("<b>bold?</b> <script>alert(1)</script>")

    assert html == "<p>&lt;b&gt;bold?&lt;/b&gt; &lt;script&gt;alert(1)&lt;/script&gt;</p>\n"


def test_a_javascript_link_is_left_as_its_text() -> None:
    html = render_markdown("[click](javascript:alert(1))")

    assert "<a" not in html
    assert "[click](javascript:alert(1))" in html


def test_a_link_gets_rel_and_keeps_an_http_address() -> None:
    html = render_markdown("See [the essay](https://example.org/essay?a=1&b=2).")

    assert html == (
        f'<p>See <a href="https://example.org/essay?a=1&amp;b=2" rel="{LINK_REL}">'
        "the essay</a>.</p>\n"
    )


def test_a_relative_link_loses_its_address() -> None:
    html = render_markdown("[admin](/admin/) and [other](//evil.example/)")

    assert "href" not in html
    assert html.count(f'<a rel="{LINK_REL}">') == 2


def test_the_subset_renders() -> None:
    html = render_markdown("*em* **strong** `code`\n\n> quoted\n\n1. one\n2. two\n\n- item")

    assert "<em>em</em> <strong>strong</strong> <code>code</code>" in html
    assert "<blockquote>\n<p>quoted</p>\n</blockquote>" in html
    assert "<ol>\n<li>one</li>\n<li>two</li>\n</ol>" in html
    assert "<ul>\n<li>item</li>\n</ul>" in html


def test_headings_and_images_are_not_markup() -> None:
    html = render_markdown("# Big\n\n![alt](https://example.org/a.png)")

    assert "<h1" not in html and "<img" not in html
    assert "# Big" in html


def test_mailto_links_are_kept() -> None:
    html = render_markdown("<mailto:ada@example.org>")

    assert 'href="mailto:ada@example.org"' in html
