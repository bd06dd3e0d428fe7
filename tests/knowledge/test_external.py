"""External search clients on recorded responses (tests/knowledge/data): never the real network."""
from __future__ import annotations

import http.server
import logging
import socket
import threading
from pathlib import Path

import pytest

from genesys.knowledge import KnowledgeEngine
from genesys.knowledge.external import (ArxivClient, ExternalSearchError, RateLimiter, RequestsTransport,
                                        ResponseCache, SemanticScholarClient)

DATA = Path(__file__).parent / "data"


class Recorded:
    """Transport that serves recorded bodies and remembers every request."""

    def __init__(self, *responses):
        self.responses = list(responses)
        self.calls = []

    def get(self, url, params, headers, timeout):
        self.calls.append((url, dict(params), dict(headers)))
        item = self.responses.pop(0) if len(self.responses) > 1 else self.responses[0]
        if isinstance(item, Exception):
            raise item
        return item


class FakeClock:
    def __init__(self):
        self.t = 100.0
        self.slept = []

    def __call__(self):
        return self.t

    def sleep(self, s):
        self.slept.append(s)
        self.t += s


def _limiter(interval=0.0):
    clock = FakeClock()
    return RateLimiter(interval, clock=clock, sleep=clock.sleep), clock


def test_arxiv_parses_recorded_atom(tmp_path):
    body = (DATA / "arxiv_mamba.xml").read_text()
    t = Recorded((200, body))
    client = ArxivClient(transport=t, cache=ResponseCache(tmp_path), limiter=_limiter()[0])
    papers = client.search("selective state space", k=5)
    assert [p.arxiv for p in papers] == ["2312.00752", "2405.21060", "2407.09941"]
    p = papers[0]
    assert p.title == "Mamba: Linear-Time Sequence Modeling with Selective State Spaces"
    assert p.year == 2023 and p.authors == ("Albert Gu", "Tri Dao") and p.url == "https://arxiv.org/abs/2312.00752"
    assert p.extra["primary_category"] == "cs.LG"
    url, params, headers = t.calls[0]
    assert params["search_query"] == "all:selective AND all:state AND all:space" and params["max_results"] == 5
    assert "User-Agent" in headers
    assert client.search("selective state space", k=1)[0].arxiv == "2312.00752"


def test_semantic_scholar_parses_recorded_json(tmp_path, monkeypatch):
    monkeypatch.setenv("S2_TEST_KEY", "secret")
    t = Recorded((200, (DATA / "s2_linear_rnn.json").read_text()))
    client = SemanticScholarClient(transport=t, cache=ResponseCache(tmp_path), limiter=_limiter()[0],
                                   api_key_env="S2_TEST_KEY")
    papers = client.search("data-dependent decay linear rnn", k=2)
    assert [p.arxiv for p in papers][:2] == ["2404.05892", "2312.06635"]
    assert papers[1].url.endswith("62b18cc55dcc7ffe52c28e1086aee893b7bc4334") and papers[1].abstract == ""
    assert papers[0].extra["citations"] == 100
    assert t.calls[0][2]["x-api-key"] == "secret"
    assert t.calls[0][1]["limit"] == 2


def test_disk_cache_avoids_second_request_and_expires(tmp_path):
    clock = FakeClock()
    t = Recorded((200, (DATA / "arxiv_mamba.xml").read_text()))
    cache = ResponseCache(tmp_path, ttl_s=60, clock=clock)
    client = ArxivClient(transport=t, cache=cache, limiter=_limiter()[0])
    client.search("mamba", k=2)
    client.search("mamba", k=2)
    assert len(t.calls) == 1
    fresh = ArxivClient(transport=t, cache=ResponseCache(tmp_path, ttl_s=60, clock=clock), limiter=_limiter()[0])
    fresh.search("mamba", k=2)
    assert len(t.calls) == 1  # the cache is on disk
    clock.t += 120
    fresh.search("mamba", k=2)
    assert len(t.calls) == 2  # expired


def test_rate_limiter_spaces_calls():
    limiter, clock = _limiter(3.0)
    assert limiter.wait() == 0.0
    assert limiter.wait() == pytest.approx(3.0)
    clock.t += 10
    assert limiter.wait() == 0.0
    t = Recorded((200, (DATA / "arxiv_mamba.xml").read_text()))
    client = ArxivClient(transport=t, limiter=limiter)
    client.search("a", k=1)
    client.search("b", k=1)
    assert clock.slept == [pytest.approx(3.0)] * 3  # the third wait above reserved the next slot


def test_offline_mode_never_calls_transport_but_serves_cache(tmp_path):
    body = (DATA / "arxiv_mamba.xml").read_text()
    t = Recorded((200, body))
    cache = ResponseCache(tmp_path, ttl_s=1)
    ArxivClient(transport=t, cache=cache, limiter=_limiter()[0]).search("mamba", k=2)
    offline = ArxivClient(transport=t, cache=ResponseCache(tmp_path, ttl_s=1, clock=lambda: 1e12), offline=True)
    assert offline.search("mamba", k=2)[0].arxiv == "2312.00752"  # stale but served offline
    with pytest.raises(ExternalSearchError, match="offline"):
        offline.search("something else", k=1)
    assert len(t.calls) == 1


@pytest.mark.parametrize("response, match", [
    ((429, (DATA / "s2_rate_limited.json").read_text()), "HTTP 429"),
    ((500, "oops"), "HTTP 500"),
    ((404, "not here"), "HTTP 404"),
    ((200, "{not json"), "unparsable"),
    ((200, '{"message": "x"}'), "unparsable"),
    (ConnectionRefusedError("refused"), "network error"),
])
def test_failures_become_external_search_errors(response, match, monkeypatch):
    monkeypatch.setattr("genesys.knowledge.external.time.sleep", lambda s: None)
    client = SemanticScholarClient(transport=Recorded(response), limiter=_limiter()[0], retries=1)
    with pytest.raises(ExternalSearchError, match=match):
        client.search("query", k=3)


def test_arxiv_error_feed_is_an_error():
    client = ArxivClient(transport=Recorded((200, (DATA / "arxiv_error.xml").read_text())), limiter=_limiter()[0])
    with pytest.raises(ExternalSearchError, match="incorrect id format"):
        client.search("x", k=1)


def test_retry_after_transient_error(monkeypatch):
    monkeypatch.setattr("genesys.knowledge.external.time.sleep", lambda s: None)
    t = Recorded((503, "busy"), (200, (DATA / "s2_linear_rnn.json").read_text()))
    assert len(SemanticScholarClient(transport=t, limiter=_limiter()[0], retries=1).search("q", k=2)) == 2
    assert len(t.calls) == 2


class _Handler(http.server.BaseHTTPRequestHandler):
    def do_GET(self):
        body = (DATA / "arxiv_mamba.xml").read_bytes()
        self.send_response(200)
        self.send_header("Content-Type", "application/atom+xml")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args):
        pass


def test_requests_transport_against_local_server(tmp_path):
    server = http.server.HTTPServer(("127.0.0.1", 0), _Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        url = f"http://127.0.0.1:{server.server_address[1]}/api/query"
        client = ArxivClient(url, transport=RequestsTransport(), limiter=_limiter()[0], timeout_s=5)
        assert client.search("selective", k=2)[1].arxiv == "2405.21060"
    finally:
        server.shutdown()
        server.server_close()


def _closed_port():
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port


def test_engine_falls_back_to_library_when_services_are_down(tmp_path, caplog, engine):
    port = _closed_port()
    cfg = {**engine.cfg.__dict__, "mode": "online", "unit_dirs": [],
           "external": {**engine.cfg.external.__dict__, "enabled": True, "timeout_s": 2, "retries": 0,
                        "arxiv_url": f"http://127.0.0.1:{port}/api/query", "arxiv_min_interval_s": 0,
                        "semantic_scholar_url": f"http://127.0.0.1:{port}/graph", "semantic_scholar_min_interval_s": 0}}
    online = KnowledgeEngine(cfg)
    with caplog.at_level(logging.WARNING, logger="genesys.knowledge.engine"):
        results = online.search("selective state space model with input-dependent step size", k=5,
                                sources=["arxiv", "semantic_scholar"])
    assert results and all(r.source == "library" for r in results)
    assert "mamba" in [r.id for r in results]
    assert "arxiv unavailable" in caplog.text and "semantic_scholar unavailable" in caplog.text


def test_engine_offline_mode_skips_network_and_answers_locally(engine, caplog):
    class Boom:
        def get(self, *a, **k):
            raise AssertionError("network used in offline mode")

    offline = KnowledgeEngine({**engine.cfg.__dict__, "unit_dirs": [], "external": engine.cfg.external.__dict__},
                              transports={"arxiv": Boom(), "semantic_scholar": Boom()})
    with caplog.at_level(logging.WARNING):
        results = offline.search("data-dependent decay in a linear RNN", k=5, sources="library,arxiv,s2")
    assert [r.source for r in results] == ["library"] * 5
    assert "offline" in caplog.text


def test_engine_mixes_external_results_with_library(engine, tmp_path):
    transports = {"arxiv": Recorded((200, (DATA / "arxiv_mamba.xml").read_text())),
                  "semantic_scholar": Recorded((200, (DATA / "s2_linear_rnn.json").read_text()))}
    cfg = {**engine.cfg.__dict__, "mode": "online", "unit_dirs": [], "cache_dir": str(tmp_path),
           "external": {**engine.cfg.external.__dict__, "enabled": True, "arxiv_min_interval_s": 0,
                        "semantic_scholar_min_interval_s": 0}}
    # the library index lives in the session cache; reuse it by pointing at the same folder contents
    import shutil

    for folder in engine.cache_root.glob("library-*"):
        shutil.copytree(folder, tmp_path / folder.name)
    online = KnowledgeEngine(cfg, transports=transports)
    results = online.search("selective state space", k=6, sources=["library", "arxiv", "semantic_scholar"])
    sources = [r.source for r in results]
    assert sources[0] == "library"  # library weight 1.0 > external 0.5: first in each round
    assert "2407.09941" in [r.id for r in results if r.source == "arxiv"]  # Hydra: not in the library
    # papers the services found that are library entries come back as the library entry, marked found_by
    assert {r.extra.get("found_by") for r in results} >= {"arxiv", "semantic_scholar"}
    arxiv_ids = [r.extra.get("arxiv") for r in results]
    assert len(arxiv_ids) == len(set(arxiv_ids))  # Mamba found by arXiv and by the library: shown once
    rwkv = [r for r in results if r.extra.get("arxiv") == "2404.05892"]
    assert not rwkv or (rwkv[0].source == "library" and rwkv[0].extra["found_by"] == "semantic_scholar")
    assert not online.last_build["library"]["built"]
