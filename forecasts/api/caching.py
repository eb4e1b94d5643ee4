"""Answers that change only when scores change, cached under the scores' version."""

from __future__ import annotations

from collections import OrderedDict
from typing import Any
from weakref import WeakKeyDictionary

from django.core.cache import cache, caches
from django.http import HttpResponse
from rest_framework import status
from rest_framework.renderers import JSONRenderer
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from crux.api.caching import etag_for, not_modified
from crux.api.throttling import WindowThrottle
from crux.cache import COUNTS, CountingRedisCache
from forecasts.scores.versions import REDIS_KEY as SCORES_VERSION_KEY
from forecasts.scores.versions import scores_version

CACHE_SECONDS = 3600


# Rendered bodies are immutable under their key (the scores' version is in it), so each
# process keeps the most recent ones too and skips the shared cache's round trip.
_rendered: OrderedDict[str, bytes] = OrderedDict()

LOCAL_ENTRIES = 256


def _remember(key: str, body: bytes) -> None:
    _rendered[key] = body
    _rendered.move_to_end(key)
    while len(_rendered) > LOCAL_ENTRIES:
        _rendered.popitem(last=False)


# The scores' version read with a request's throttle counts, for ``cached_by_scores``.
_versions_read: WeakKeyDictionary[Request, int | None] = WeakKeyDictionary()


class ScoresCacheThrottling(APIView):
    """For views that answer from the cache keyed on the scores' version.

    On Redis, the throttles' counts and the version travel together (``BatchedCounts``): the
    version is kept for the request (None when Redis has no copy) for ``cached_by_scores``.
    Elsewhere, or when Redis is unreachable, DRF's throttling as usual.
    """

    def check_throttles(self, request: Request) -> None:
        backend = caches["default"]
        if not isinstance(backend, CountingRedisCache):
            super().check_throttles(request)
            return
        throttles = self.get_throttles()
        windows = [
            (throttle, window)
            for throttle in throttles
            if isinstance(throttle, WindowThrottle) and (window := throttle.window(request))
        ]
        counted = COUNTS.count(
            backend, [(*w, t.limit) for t, w in windows], number_key=SCORES_VERSION_KEY
        )
        if counted is None:  # unreachable: throttling lets requests through, as elsewhere
            counted = [0] * len(windows), None
        counts, _versions_read[request] = counted
        waits = [t.wait() for (t, _), n in zip(windows, counts, strict=True) if not t.allows(n)]
        waits += [
            t.wait()
            for t in throttles
            if not isinstance(t, WindowThrottle) and not t.allow_request(request, self)
        ]
        if waits:
            # DRF takes None ("try again later"); its stubs want a float.
            wait = max((w for w in waits if w is not None), default=None)
            self.throttled(request, wait)  # type: ignore[arg-type]


def scores_etag(request: Request, name: str) -> str:
    """The ETag of data that changes only when scores change: their version and the query."""
    version = _versions_read.get(request)
    if version is None:
        version = scores_version()
    return etag_for(name, version, sorted(request.query_params.lists()))


def cached_by_scores(request: Request, name: str, build: Any) -> Response | HttpResponse:
    """Serve data that changes only when scores change from a cache keyed on their version.

    JSON, the common case, is cached as the rendered bytes, so a hit costs one primary-key
    read (the version) and no serialisation; other formats cache the data.
    """
    etag = scores_etag(request, name)
    headers = {"ETag": etag, "Cache-Control": "no-cache"}
    if not_modified(request, etag):
        return Response(status=status.HTTP_304_NOT_MODIFIED, headers=headers)
    key = f"api:{name}:{etag}"
    if type(request.accepted_renderer) is JSONRenderer:
        body = _rendered.get(key) or cache.get(f"{key}:json")
        if body is None:
            body = JSONRenderer().render(build())
            cache.set(f"{key}:json", body, CACHE_SECONDS)
        _remember(key, body)
        return HttpResponse(body, content_type="application/json", headers=headers)
    data = cache.get(key)
    if data is None:
        data = build()
        cache.set(key, data, CACHE_SECONDS)
    return Response(data, headers=headers)
