"""The comment form: the text only (the service checks what a comment may hold)."""

from __future__ import annotations

from django import forms

from forecasts.discussion.models import COMMENT_MAX_LENGTH

# What a refused body keeps for the form to show again: enough to fix, never megabytes.
KEPT_MAX = COMMENT_MAX_LENGTH + 1000


class CommentForm(forms.Form):
    body = forms.CharField(
        label="Your comment",
        max_length=COMMENT_MAX_LENGTH,
        widget=forms.Textarea(attrs={"rows": 4}),
        help_text="Markdown: *emphasis*, **bold**, [a link](https://example.org), lists, "
        "`code` and > quotes. Everyone can read it.",
        error_messages={
            "required": "Write something: a comment cannot be empty.",
            "max_length": "A comment has at most %(limit_value)d characters "
            "(this one has %(show_value)d).",
        },
    )
