"""The API's comments: a question's (anyone reads them, the signed-in post), one comment (its
author edits and deletes it) and staff moderation (hide, unhide)."""

from __future__ import annotations

from typing import Any

from django.db.models import QuerySet
from drf_spectacular.utils import extend_schema, extend_schema_field
from rest_framework import exceptions, generics, permissions, serializers, status
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from crux.api.errors import ERRORS
from crux.api.pagination import WindowCountPagination
from crux.api.validation import StrictSerializer, parse_query
from crux.markdown import render_markdown
from crux.users import signed_in_user
from forecasts.discussion import selectors, services
from forecasts.discussion.models import COMMENT_MAX_LENGTH, Comment
from forecasts.models import Question

# --- what it is sent and what it answers ---------------------------------------------------


class CommentWriteSerializer(StrictSerializer):
    body = serializers.CharField(
        max_length=COMMENT_MAX_LENGTH,
        help_text="Markdown (paragraphs, emphasis, links, lists, code, quotes); raw HTML is "
        "shown as text. Not empty.",
    )


class CommentQuery(StrictSerializer):
    page = serializers.IntegerField(required=False, min_value=1)
    page_size = serializers.IntegerField(required=False, min_value=1, max_value=500)
    format = serializers.CharField(required=False)


class CommentSerializer(serializers.ModelSerializer):
    """A comment. ``body`` and ``body_html`` are null once it is deleted, and while it is
    hidden by a moderator (except to staff)."""

    author = serializers.CharField(source="author.username", read_only=True)
    body = serializers.SerializerMethodField()
    body_html = serializers.SerializerMethodField()
    hidden = serializers.BooleanField(source="is_hidden", read_only=True)
    deleted = serializers.BooleanField(source="is_deleted", read_only=True)

    class Meta:
        model = Comment
        fields = [
            "id",
            "question",
            "author",
            "body",
            "body_html",
            "created_at",
            "edited_at",
            "hidden",
            "deleted",
        ]
        read_only_fields = fields

    def _shown(self, comment: Comment) -> bool:
        moderator = bool(self.context.get("moderator"))
        return not comment.is_deleted and (moderator or not comment.is_hidden)

    @extend_schema_field(serializers.CharField(allow_null=True))
    def get_body(self, comment: Comment) -> str | None:
        return comment.body if self._shown(comment) else None

    @extend_schema_field(
        serializers.CharField(allow_null=True, help_text="The body rendered as safe HTML.")
    )
    def get_body_html(self, comment: Comment) -> str | None:
        return str(render_markdown(comment.body)) if self._shown(comment) else None


def _moderator(request: Request) -> bool:
    return bool(request.user and request.user.is_authenticated and request.user.is_staff)


# --- views -------------------------------------------------------------------------------------


@extend_schema(tags=["comments"])
class QuestionCommentsView(generics.ListCreateAPIView):
    """A question's comments, oldest first; the signed-in post one (and follow the question:
    its followers are e-mailed each new comment)."""

    serializer_class = CommentSerializer
    pagination_class = WindowCountPagination
    permission_classes = [permissions.IsAuthenticatedOrReadOnly]

    def get_queryset(self) -> QuerySet[Comment]:
        if getattr(self, "swagger_fake_view", False):
            return Comment.objects.none()
        return selectors.question_comments(question_id=self.kwargs["question_id"])

    def get_serializer_context(self) -> dict[str, Any]:
        return {**super().get_serializer_context(), "moderator": _moderator(self.request)}

    @extend_schema(
        responses={200: CommentSerializer(many=True), 400: ERRORS[400], 404: ERRORS[404]}
    )
    def list(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        parse_query(CommentQuery, request)
        if not Question.objects.filter(pk=kwargs["question_id"]).exists():
            raise exceptions.NotFound("No such question.")
        return super().list(request, *args, **kwargs)

    @extend_schema(request=CommentWriteSerializer, responses={201: CommentSerializer, **ERRORS})
    def create(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        data = CommentWriteSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        comment = services.comment_post(
            user=signed_in_user(request),
            question_id=kwargs["question_id"],
            body=data.validated_data["body"],
        )
        body = CommentSerializer(comment, context=self.get_serializer_context()).data
        return Response(body, status=status.HTTP_201_CREATED)


@extend_schema(tags=["comments"])
class CommentView(generics.RetrieveUpdateDestroyAPIView):
    """One comment: anyone reads it; its author edits its body or deletes it (the text is
    erased, the comment stays in its place as deleted)."""

    serializer_class = CommentSerializer
    permission_classes = [permissions.IsAuthenticatedOrReadOnly]
    http_method_names = ["get", "patch", "delete", "head", "options"]
    lookup_url_kwarg = "comment_id"

    def get_queryset(self) -> QuerySet[Comment]:
        return Comment.objects.select_related("author", "hidden_by")

    def get_serializer_context(self) -> dict[str, Any]:
        return {**super().get_serializer_context(), "moderator": _moderator(self.request)}

    @extend_schema(request=CommentWriteSerializer, responses={200: CommentSerializer, **ERRORS})
    def patch(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        """Replace the body of your own comment (not of one deleted, or hidden by staff)."""
        comment = self.get_object()
        data = CommentWriteSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        edited = services.comment_edit(
            user=signed_in_user(request), comment_id=comment.pk, body=data.validated_data["body"]
        )
        return Response(CommentSerializer(edited, context=self.get_serializer_context()).data)

    @extend_schema(responses={204: None, 401: ERRORS[401], 403: ERRORS[403], 404: ERRORS[404]})
    def delete(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        """Delete your own comment; deleting it again changes nothing."""
        comment = self.get_object()
        services.comment_delete(user=signed_in_user(request), comment_id=comment.pk)
        return Response(status=status.HTTP_204_NO_CONTENT)


class _Moderation(APIView):
    permission_classes = [permissions.IsAdminUser]

    def _answer(self, request: Request, comment: Comment) -> Response:
        fresh = selectors.comment_get(comment_id=comment.pk)
        return Response(CommentSerializer(fresh, context={"moderator": True}).data)


@extend_schema(
    tags=["comments (staff)"], request=None, responses={200: CommentSerializer, **ERRORS}
)
class CommentHideView(_Moderation):
    def post(self, request: Request, comment_id: int) -> Response:
        """Hide a comment from everyone but staff ("removed by a moderator"); its text is
        kept, to show it again."""
        comment = services.comment_hide(user=signed_in_user(request), comment_id=comment_id)
        return self._answer(request, comment)


@extend_schema(
    tags=["comments (staff)"], request=None, responses={200: CommentSerializer, **ERRORS}
)
class CommentUnhideView(_Moderation):
    def post(self, request: Request, comment_id: int) -> Response:
        """Show a hidden comment again."""
        comment = services.comment_unhide(user=signed_in_user(request), comment_id=comment_id)
        return self._answer(request, comment)
