"""Discussion on a question: comments (Markdown, moderated by staff), followers told of new
comments by e-mail, and each forecaster's rationale once the question is scored."""
