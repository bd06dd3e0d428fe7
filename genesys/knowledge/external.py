"""arXiv and Semantic Scholar search clients: on-disk response cache, rate limiting, injectable transport.

Every failure (no network, timeout, HTTP error, unparsable body, offline mode without a cached answer) becomes an
`ExternalSearchError`; the engine logs it and keeps answering from the local library.
"""
from __future__ import annotations

import abc
import hashlib
import json
import logging
import os
import threading
import time
import xml.etree.ElementTree as ET
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any, Callable, Mapping, Protocol

log = logging.getLogger(__name__)

ARXIV_URL = "https://export.arxiv.org/api/query"
S2_URL = "https://api.semanticscholar.org/graph/v1/paper/search"
_ATOM = "{http://www.w3.org/2005/Atom}"
_ARXIV_NS = "{http://arxiv.org/schemas/atom}"


class ExternalSearchError(RuntimeError):
    """An external search could not produce results (the message says why)."""


@dataclass(frozen=True)
class Paper:
    source: str          # "arxiv" | "semantic_scholar"
    id: str
    title: str
    abstract: str = ""
    year: int | None = None
    authors: tuple[str, ...] = ()
    url: str = ""
    arxiv: str | None = None
    extra: Mapping[str, Any] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        d = asdict(self)
        d["authors"] = list(self.authors)
        d["extra"] = dict(self.extra)
        return d


class Transport(Protocol):
    def get(self, url: str, params: Mapping[str, Any], headers: Mapping[str, str], timeout: float) -> tuple[int, str]:
        """(HTTP status, body text); raises OSError-like exceptions on network failure."""


class RequestsTransport:
    def __init__(self, session=None):
        import requests

        self.session = session or requests.Session()

    def get(self, url, params, headers, timeout):
        import requests

        try:
            r = self.session.get(url, params=dict(params), headers=dict(headers), timeout=timeout)
        except requests.RequestException as exc:
            raise ExternalSearchError(f"network error for {url}: {exc}") from exc
        return r.status_code, r.text


class RateLimiter:
    """At most one call per `min_interval` seconds (thread-safe); clock and sleep injectable for tests."""

    def __init__(self, min_interval: float, clock: Callable[[], float] = time.monotonic,
                 sleep: Callable[[float], None] = time.sleep):
        self.min_interval = float(min_interval)
        self.clock, self.sleep = clock, sleep
        self._next = -float("inf")
        self._lock = threading.Lock()

    def wait(self) -> float:
        """Block until a call is allowed; returns the time slept."""
        with self._lock:
            now = self.clock()
            delay = max(0.0, self._next - now)
            if delay > 0:
                self.sleep(delay)
            self._next = max(now, self._next) + self.min_interval if delay > 0 else now + self.min_interval
            return delay


class ResponseCache:
    """Raw response bodies on disk, keyed by URL and parameters, with a time-to-live (<= 0: never expires)."""

    def __init__(self, folder: Path | str, ttl_s: float = 7 * 24 * 3600, clock: Callable[[], float] = time.time):
        self.folder = Path(folder)
        self.ttl_s = ttl_s
        self.clock = clock

    def _path(self, url: str, params: Mapping[str, Any]) -> Path:
        key = json.dumps([url, sorted((str(k), str(v)) for k, v in params.items())])
        return self.folder / (hashlib.sha256(key.encode()).hexdigest()[:32] + ".json")

    def get(self, url: str, params: Mapping[str, Any], allow_stale: bool = False) -> str | None:
        path = self._path(url, params)
        try:
            rec = json.loads(path.read_text())
        except (OSError, ValueError):
            return None
        if not allow_stale and self.ttl_s > 0 and self.clock() - rec["time"] > self.ttl_s:
            return None
        return rec["body"]

    def put(self, url: str, params: Mapping[str, Any], body: str) -> None:
        path = self._path(url, params)
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_suffix(".tmp")
        tmp.write_text(json.dumps({"time": self.clock(), "url": url, "params": dict(params), "body": body}))
        tmp.replace(path)


class _Client(abc.ABC):
    source = ""

    def __init__(self, base_url: str, transport: Transport | None = None, cache: ResponseCache | None = None,
                 min_interval_s: float = 3.0, timeout_s: float = 10.0, offline: bool = False,
                 limiter: RateLimiter | None = None, retries: int = 1):
        self.base_url = base_url
        self._transport = transport
        self.cache = cache
        self.limiter = limiter or RateLimiter(min_interval_s)
        self.timeout_s = timeout_s
        self.offline = offline
        self.retries = retries

    @property
    def transport(self) -> Transport:
        if self._transport is None:
            self._transport = RequestsTransport()
        return self._transport

    def headers(self) -> dict[str, str]:
        return {"User-Agent": "genesys-knowledge/0.1 (research; https://github.com/)"}

    def _fetch(self, params: Mapping[str, Any]) -> str:
        if self.cache is not None:
            body = self.cache.get(self.base_url, params)
            if body is not None:
                return body
        if self.offline:
            stale = self.cache.get(self.base_url, params, allow_stale=True) if self.cache else None
            if stale is not None:
                return stale
            raise ExternalSearchError(f"{self.source}: offline and no cached response")
        last = "no attempt"
        for attempt in range(self.retries + 1):
            self.limiter.wait()
            try:
                status, body = self.transport.get(self.base_url, params, self.headers(), self.timeout_s)
            except ExternalSearchError as exc:
                last = str(exc)
                continue
            except OSError as exc:  # sockets, DNS, refused connections from custom transports
                last = f"network error: {exc}"
                continue
            if status == 200:
                if self.cache is not None:
                    self.cache.put(self.base_url, params, body)
                return body
            last = f"HTTP {status}"
            if status not in (429, 500, 502, 503, 504):
                break
            if attempt < self.retries:
                time.sleep(min(2.0 * (attempt + 1), 5.0) if status == 429 else 0.5)
        raise ExternalSearchError(f"{self.source}: {last}")

    def search(self, query: str, k: int = 5) -> list[Paper]:
        if not query.strip():
            return []
        body = self._fetch(self.params(query, k))
        try:
            return self.parse(body)[:k]
        except (ET.ParseError, ValueError, KeyError, TypeError, AttributeError) as exc:
            raise ExternalSearchError(f"{self.source}: unparsable response: {exc}") from exc

    @abc.abstractmethod
    def params(self, query: str, k: int) -> dict[str, Any]:
        """The service's query parameters for `query`, asking for `k` results."""

    @abc.abstractmethod
    def parse(self, body: str) -> list[Paper]:
        """Papers from one raw response body."""


def _clean(text: str | None) -> str:
    return " ".join((text or "").split())


class ArxivClient(_Client):
    """arXiv export API (Atom). arXiv asks for at most one request every three seconds."""

    source = "arxiv"

    def __init__(self, base_url: str = ARXIV_URL, **kw):
        kw.setdefault("min_interval_s", 3.0)
        super().__init__(base_url, **kw)

    def params(self, query, k):
        terms = " AND ".join(f"all:{w}" for w in query.split() if w.isalnum()) or f'all:"{query}"'
        return {"search_query": terms, "start": 0, "max_results": k, "sortBy": "relevance"}

    def parse(self, body: str) -> list[Paper]:
        root = ET.fromstring(body)
        if root.tag != f"{_ATOM}feed":
            raise ValueError(f"not an Atom feed: {root.tag}")
        papers = []
        for entry in root.findall(f"{_ATOM}entry"):
            raw_id = _clean(entry.findtext(f"{_ATOM}id"))
            if "/api/errors" in raw_id:
                raise ValueError(_clean(entry.findtext(f"{_ATOM}summary")) or "arXiv API error")
            arxiv_id = raw_id.rsplit("/abs/", 1)[-1]
            base_id = arxiv_id.split("v")[0] if "v" in arxiv_id and arxiv_id[0].isdigit() else arxiv_id
            published = _clean(entry.findtext(f"{_ATOM}published"))
            papers.append(Paper(
                source="arxiv", id=base_id, title=_clean(entry.findtext(f"{_ATOM}title")),
                abstract=_clean(entry.findtext(f"{_ATOM}summary")),
                year=int(published[:4]) if published[:4].isdigit() else None,
                authors=tuple(_clean(a.findtext(f"{_ATOM}name")) for a in entry.findall(f"{_ATOM}author")),
                url=f"https://arxiv.org/abs/{base_id}", arxiv=base_id,
                extra={"primary_category": (entry.find(f"{_ARXIV_NS}primary_category").get("term")
                                            if entry.find(f"{_ARXIV_NS}primary_category") is not None else None)}))
        return papers


class SemanticScholarClient(_Client):
    """Semantic Scholar Graph API paper search. Without a key the shared pool allows about one request/second;
    set the key's environment variable (default S2_API_KEY) to send it."""

    source = "semantic_scholar"
    FIELDS = "title,abstract,year,authors,externalIds,url,citationCount,venue"

    def __init__(self, base_url: str = S2_URL, api_key_env: str = "S2_API_KEY", **kw):
        kw.setdefault("min_interval_s", 1.0)
        super().__init__(base_url, **kw)
        self.api_key_env = api_key_env

    def headers(self):
        h = super().headers()
        key = os.environ.get(self.api_key_env or "", "")
        if key:
            h["x-api-key"] = key
        return h

    def params(self, query, k):
        return {"query": query, "limit": k, "fields": self.FIELDS}

    def parse(self, body: str) -> list[Paper]:
        data = json.loads(body)
        if not isinstance(data, dict) or "data" not in data:
            raise ValueError(f"unexpected Semantic Scholar response: {str(data)[:200]}")
        papers = []
        for item in data["data"] or []:
            ext = item.get("externalIds") or {}
            arxiv = ext.get("ArXiv")
            papers.append(Paper(
                source="semantic_scholar", id=item["paperId"], title=_clean(item.get("title")),
                abstract=_clean(item.get("abstract")), year=item.get("year"),
                authors=tuple(a.get("name", "") for a in item.get("authors") or []),
                url=item.get("url") or f"https://www.semanticscholar.org/paper/{item['paperId']}", arxiv=arxiv,
                extra={"citations": item.get("citationCount"), "venue": item.get("venue")}))
        return papers
