"""A small OpenAI-compatible HTTP server with scripted answers, for the agents' tests and offline demos: the agents
reach it through litellm's real HTTP path (`model=openai/scripted`, `api_base=<url>/v1`).

Answers come from a `responder(request_json) -> str | Fault`; faults queued with `fail(...)` are served first, one per
request: an HTTP status (429, 500 ...), a stall (the answer comes after `seconds`), an empty answer or garbage."""
from __future__ import annotations

import json
import threading
import time
from collections import deque
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Callable, Dict, List, Optional


@dataclass
class Fault:
    kind: str                      # http | stall | empty | garbage
    status: int = 500
    seconds: float = 0.0


def http(status: int, n: int = 1) -> List[Fault]:
    return [Fault("http", status=status)] * n


def stall(seconds: float) -> List[Fault]:
    return [Fault("stall", seconds=seconds)]


def empty() -> List[Fault]:
    return [Fault("empty")]


def garbage() -> List[Fault]:
    return [Fault("garbage")]


def tokens(text: str) -> int:
    return max(1, len(text) // 4)


class ScriptedServer:
    def __init__(self, responder: Callable[[dict], str], host: str = "127.0.0.1", port: int = 0):
        self.responder = responder
        self.faults: deque = deque()
        self.requests: List[Dict] = []          # every request: {"path", "headers", "body"}
        self.lock = threading.Lock()
        server = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args):
                pass

            def _send(self, status: int, payload):
                body = json.dumps(payload).encode() if not isinstance(payload, bytes) else payload
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(body)))
                if status == 429:
                    self.send_header("Retry-After", "0")
                self.end_headers()
                self.wfile.write(body)

            def do_GET(self):
                self._send(200, {"object": "list", "data": [{"id": "scripted", "object": "model"}]})

            def do_POST(self):
                length = int(self.headers.get("Content-Length", 0))
                body = json.loads(self.rfile.read(length) or b"{}")
                with server.lock:
                    server.requests.append({"path": self.path, "headers": dict(self.headers), "body": body})
                    fault = server.faults.popleft() if server.faults else None
                answer = None
                if fault is None:
                    answer = server.responder(body)        # a responder may answer with a Fault too
                    fault = answer if isinstance(answer, Fault) else None
                if fault is not None and fault.kind == "http":
                    return self._send(fault.status, {"error": {"message": f"scripted {fault.status}",
                                                               "type": "server_error", "code": fault.status}})
                if fault is not None and fault.kind == "stall":
                    time.sleep(fault.seconds)
                if fault is not None and fault.kind == "garbage":
                    return self._send(200, b"<html>not json")
                text = "" if fault is not None and fault.kind == "empty" else (
                    answer if isinstance(answer, str) else server.responder(body))
                prompt = sum(tokens(m.get("content") or "") for m in body.get("messages", []))
                self._send(200, {"id": f"chatcmpl-{len(server.requests)}", "object": "chat.completion",
                                 "created": int(time.time()), "model": body.get("model", "scripted"),
                                 "choices": [{"index": 0, "finish_reason": "stop",
                                              "message": {"role": "assistant", "content": text}}],
                                 "usage": {"prompt_tokens": prompt, "completion_tokens": tokens(text),
                                           "total_tokens": prompt + tokens(text)}})

        self.httpd = ThreadingHTTPServer((host, port), Handler)
        self.httpd.daemon_threads = True
        self.thread: Optional[threading.Thread] = None

    @property
    def url(self) -> str:
        host, port = self.httpd.server_address[:2]
        return f"http://{host}:{port}/v1"

    def fail(self, faults: List[Fault]) -> None:
        with self.lock:
            self.faults.extend(faults)

    def start(self) -> "ScriptedServer":
        self.thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)
        self.thread.start()
        return self

    def stop(self) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()

    def chat_requests(self) -> List[Dict]:
        return [r for r in self.requests if r["path"].endswith("/chat/completions")]
