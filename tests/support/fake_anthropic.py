"""A local fake of the Anthropic HTTP API for the executor tests.

A real HTTP server on 127.0.0.1 (stdlib ``http.server`` in a background thread) that
answers ``POST /v1/messages`` and ``POST /v1/messages/count_tokens`` with the JSON
shapes of the real API (``Message``, ``MessageTokensCount`` and the
``{"type": "error", "error": {...}, "request_id": ...}`` error body). The official SDK
is pointed at it with ``base_url``, so the tests exercise the real SDK, real HTTP,
real timeouts and real dropped connections.

It checks the credentials (``x-api-key``, or ``Authorization: Bearer`` which newer
SDKs send) and the ``anthropic-version`` header, records every request, and can be
scripted to fail: ``fake.enqueue(rate_limited(2), server_error(), ok("hi"))`` makes
the next three matching requests answer 429 with ``retry-after: 2``, then 500, then
200. Unscripted requests get a default success.

Token counting in the fake is deliberately simple and documented so tests can assert
exact numbers: one token per whitespace-separated word of all text (system prompt
and messages). ``output_tokens`` is the number of words of the reply.

``FakeAnthropic(realistic=True)`` answers like a model doing real work instead:
input tokens are ``realistic_tokens(text)`` (one token per 3.6 bytes of UTF-8, so not
a fixed number per line), and an unscripted reply (or a scripted one without text)
is ``realistic_output_tokens(body, seed)`` tokens long: what the request asks for
decides it, as with a real model, not ``max_tokens`` (which only cuts a reply
short): ``REPLY_BASE_TOKENS`` plus ``VERBOSITY`` x the request's input tokens, times
a factor drawn from ``REPLY_SPREAD`` by a generator seeded with the fake's seed and
the request body, so the same request always gets the same answer.

The API key used in tests (``TEST_API_KEY``) is not a secret.
"""

from __future__ import annotations

import hashlib
import json
import math
import random
import socket
import threading
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest

TEST_API_KEY = "sk-ant-test-not-a-secret"
MESSAGES_PATH = "/v1/messages"
COUNT_TOKENS_PATH = "/v1/messages/count_tokens"
DEFAULT_REPLY = "Hello from the fake Anthropic API."

# status -> error.type, as the real API names them
_ERROR_TYPES = {
    400: "invalid_request_error",
    401: "authentication_error",
    402: "billing_error",
    403: "permission_error",
    404: "not_found_error",
    413: "request_too_large",
    429: "rate_limit_error",
    500: "api_error",
    504: "timeout_error",
    529: "overloaded_error",
}


@dataclass
class Scripted:
    """One scripted answer. ``path=None`` applies to whichever endpoint is hit next."""

    status: int = 200
    text: str | None = None  # reply text for a 200 from /v1/messages
    input_tokens: int | None = None  # override the fake's word count
    output_tokens: int | None = None
    error_type: str | None = None  # error.type for status >= 400 (default from status)
    message: str | None = None
    headers: dict[str, str] = field(default_factory=dict)
    delay: float = 0.0  # seconds to wait before answering
    hang_up: bool = False  # read the request, then close the socket without answering
    path: str | None = None
    gate: threading.Event | None = None  # answer only once this is set (or the fake stops)


def ok(
    text: str = DEFAULT_REPLY,
    *,
    input_tokens: int | None = None,
    output_tokens: int | None = None,
    path: str | None = None,
) -> Scripted:
    return Scripted(200, text=text, input_tokens=input_tokens, output_tokens=output_tokens, path=path)


def error(
    status: int,
    message: str | None = None,
    *,
    error_type: str | None = None,
    headers: dict[str, str] | None = None,
    path: str | None = None,
) -> Scripted:
    return Scripted(status, message=message, error_type=error_type, headers=dict(headers or {}), path=path)


def rate_limited(retry_after: float | str | None = None, *, path: str | None = None) -> Scripted:
    headers = {} if retry_after is None else {"retry-after": str(retry_after)}
    return error(429, "Number of request tokens has exceeded your per-minute rate limit", headers=headers, path=path)


def server_error(status: int = 500, *, path: str | None = None) -> Scripted:
    return error(status, "Internal server error", path=path)


def overloaded(*, path: str | None = None) -> Scripted:
    return error(529, "Overloaded", path=path)


def slow(delay: float, *, path: str | None = None) -> Scripted:
    """A success that arrives after ``delay`` seconds (use a longer delay than the client timeout)."""
    return Scripted(200, text=DEFAULT_REPLY, delay=delay, path=path)


def gated(gate: threading.Event, *, path: str | None = None) -> Scripted:
    """A default success held back until ``gate`` is set: the request is in flight until then."""
    return Scripted(200, gate=gate, path=path)


def hang_up(*, path: str | None = None) -> Scripted:
    return Scripted(hang_up=True, path=path)


@dataclass(frozen=True)
class RecordedRequest:
    method: str
    path: str
    headers: dict[str, str]  # lower-cased names
    body: Any  # decoded JSON, or the raw text when it was not JSON

    @property
    def model(self) -> str | None:
        return self.body.get("model") if isinstance(self.body, dict) else None


BYTES_PER_TOKEN = 3.6
# an unscripted realistic reply: (base + verbosity x input tokens) x a seeded spread
REPLY_BASE_TOKENS = 120
VERBOSITY = 0.3
REPLY_SPREAD = (0.7, 1.3)


def request_text(body: dict[str, Any]) -> str:
    """All text of a request (system prompt, then messages), joined by newlines."""
    texts: list[str] = []

    def collect(content: Any) -> None:
        if isinstance(content, str):
            texts.append(content)
        elif isinstance(content, list):
            for block in content:
                if isinstance(block, dict) and isinstance(block.get("text"), str):
                    texts.append(block["text"])

    collect(body.get("system"))
    for message in body.get("messages") or []:
        if isinstance(message, dict):
            collect(message.get("content"))
    return "\n".join(texts)


def count_words(body: dict[str, Any]) -> int:
    """The fake's token count: words of every text in ``system`` and ``messages``."""
    return len(request_text(body).split())


def realistic_tokens(text: str) -> int:
    """The realistic fake's token count: one token per 3.6 bytes of UTF-8 (at least 1)."""
    return max(1, math.ceil(len(text.encode("utf-8")) / BYTES_PER_TOKEN)) if text else 0


def realistic_output_tokens(body: dict[str, Any], seed: int = 0) -> int:
    """The length of a realistic reply (module doc), at most ``max_tokens``, at least 1."""
    digest = hashlib.sha256(json.dumps(body, sort_keys=True).encode()).digest()
    rng = random.Random(seed * 2**64 + int.from_bytes(digest[:8], "big"))
    wanted = (REPLY_BASE_TOKENS + VERBOSITY * realistic_tokens(request_text(body))) * rng.uniform(*REPLY_SPREAD)
    return max(1, min(int(body.get("max_tokens") or 1), round(wanted)))


def realistic_reply(tokens: int) -> str:
    """A reply text of ``tokens`` realistic tokens (``realistic_tokens`` of it is ``tokens``)."""
    words = ("doc ", "api ", "fn. ")  # 4 bytes each; 9 words make 36 bytes = 10 tokens
    total = math.ceil(tokens * BYTES_PER_TOKEN) - 1
    text = "".join(words[i % 3] for i in range(total // 4 + 1))[:total]
    while realistic_tokens(text) < tokens:
        text += "."
    return text


def closed_port_url() -> str:
    """A base URL on 127.0.0.1 where nothing listens (connection refused)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    return f"http://127.0.0.1:{port}"


class FakeAnthropic:
    """The fake API server. Use as a context manager or call ``start()``/``stop()``."""

    def __init__(self, api_key: str = TEST_API_KEY, *, realistic: bool = False, seed: int = 0) -> None:
        self.api_key = api_key
        self.realistic = realistic
        self.seed = seed
        self._lock = threading.Lock()
        self._script: list[Scripted] = []
        self._requests: list[RecordedRequest] = []
        self._stopping = threading.Event()
        self._server: ThreadingHTTPServer | None = None
        self._thread: threading.Thread | None = None

    # -- lifecycle -------------------------------------------------------------------
    def start(self) -> FakeAnthropic:
        fake = self

        class Handler(_Handler):
            owner = fake

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._server.daemon_threads = True
        # a short poll interval: stop() waits up to one interval for the loop to notice
        self._thread = threading.Thread(
            target=self._server.serve_forever, args=(0.02,), name="fake-anthropic", daemon=True
        )
        self._thread.start()
        return self

    def stop(self) -> None:
        self._stopping.set()  # releases handlers waiting out a scripted delay
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
        if self._thread is not None:
            self._thread.join(timeout=5)

    def __enter__(self) -> FakeAnthropic:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    @property
    def base_url(self) -> str:
        assert self._server is not None, "start() the fake first"
        host, port = self._server.server_address[:2]
        return f"http://{host}:{port}"

    # -- scripting and inspection ----------------------------------------------------
    def enqueue(self, *answers: Scripted) -> None:
        with self._lock:
            self._script.extend(answers)

    @property
    def requests(self) -> list[RecordedRequest]:
        with self._lock:
            return list(self._requests)

    def wait_for_requests(self, count: int, path: str = MESSAGES_PATH, deadline_s: float = 60.0) -> None:
        """Block until ``count`` requests to ``path`` arrived (AssertionError after ``deadline_s``)."""
        end = time.monotonic() + deadline_s
        while len(self.requests_to(path)) < count:
            assert time.monotonic() < end, f"the fake got {len(self.requests_to(path))} of {count} requests"
            time.sleep(0.01)

    def requests_to(self, path: str) -> list[RecordedRequest]:
        return [r for r in self.requests if r.path == path]

    @property
    def pending(self) -> int:
        """Scripted answers not consumed yet."""
        with self._lock:
            return len(self._script)

    def _record_and_pick(self, request: RecordedRequest) -> Scripted | None:
        with self._lock:
            self._requests.append(request)
            for i, answer in enumerate(self._script):
                if answer.path is None or answer.path == request.path:
                    return self._script.pop(i)
        return None


def _error_body(status: int, message: str, error_type: str | None = None) -> dict[str, Any]:
    return {
        "type": "error",
        "error": {"type": error_type or _ERROR_TYPES.get(status, "api_error"), "message": message},
        "request_id": f"req_fake_{uuid.uuid4().hex[:20]}",
    }


class _Handler(BaseHTTPRequestHandler):
    owner: FakeAnthropic
    server_version = "fake-anthropic/1"

    def log_message(self, format: str, *args: Any) -> None:
        pass  # keep test output clean; requests are recorded instead

    def do_GET(self) -> None:
        self._send_json(404, _error_body(404, "Not found"))

    def do_POST(self) -> None:
        length = int(self.headers.get("content-length") or 0)
        raw = self.rfile.read(length) if length else b""
        try:
            body: Any = json.loads(raw) if raw else {}
        except json.JSONDecodeError:
            body = raw.decode("utf-8", "replace")
        path = self.path.split("?", 1)[0]
        request = RecordedRequest("POST", path, {k.lower(): v for k, v in self.headers.items()}, body)
        answer = self.owner._record_and_pick(request)

        if answer is not None and answer.delay and self.owner._stopping.wait(answer.delay):
            return
        if answer is not None and answer.gate is not None:
            while not answer.gate.wait(0.02):
                if self.owner._stopping.is_set():
                    return
        if answer is not None and answer.hang_up:
            self.close_connection = True
            return  # the socket closes without a status line

        if path not in (MESSAGES_PATH, COUNT_TOKENS_PATH):
            self._send_json(404, _error_body(404, f"Not found: {path}"))
            return
        if not self._authenticated(request.headers):
            self._send_json(401, _error_body(401, "invalid x-api-key"))
            return
        if not request.headers.get("anthropic-version"):
            self._send_json(400, _error_body(400, "anthropic-version: header is required"))
            return
        if answer is not None and answer.status >= 400:
            message = answer.message or f"HTTP {answer.status}"
            self._send_json(answer.status, _error_body(answer.status, message, answer.error_type), answer.headers)
            return
        problem = _validate(path, body)
        if problem:
            self._send_json(400, _error_body(400, problem))
            return
        headers = answer.headers if answer is not None else {}
        if path == COUNT_TOKENS_PATH:
            if answer and answer.input_tokens is not None:
                tokens = answer.input_tokens
            else:
                tokens = realistic_tokens(request_text(body)) if self.owner.realistic else count_words(body)
            self._send_json(200, {"input_tokens": tokens}, headers)
        elif self.owner.realistic:
            self._send_json(200, _realistic_message(body, answer, self.owner.seed), headers)
        else:
            self._send_json(200, _message(body, answer), headers)

    def _authenticated(self, headers: dict[str, str]) -> bool:
        key = self.owner.api_key
        bearer = headers.get("authorization", "")
        return headers.get("x-api-key") == key or bearer == f"Bearer {key}"

    def _send_json(self, status: int, payload: Any, headers: dict[str, str] | None = None) -> None:
        data = json.dumps(payload).encode()
        try:
            self.send_response(status)
            self.send_header("content-type", "application/json")
            self.send_header("content-length", str(len(data)))
            self.send_header("request-id", f"req_fake_{uuid.uuid4().hex[:20]}")
            for name, value in (headers or {}).items():
                self.send_header(name, value)
            self.end_headers()
            self.wfile.write(data)
        except OSError:
            pass  # the client gave up (timeout); nothing to answer


def _validate(path: str, body: Any) -> str | None:
    if not isinstance(body, dict):
        return "request body must be a JSON object"
    required = ("model", "messages") if path == COUNT_TOKENS_PATH else ("model", "max_tokens", "messages")
    for name in required:
        if name not in body:
            return f"{name}: Field required"
    if not isinstance(body["messages"], list) or not body["messages"]:
        return "messages: at least one message is required"
    return None


def _message(body: dict[str, Any], answer: Scripted | None) -> dict[str, Any]:
    text = answer.text if answer is not None and answer.text is not None else DEFAULT_REPLY
    input_tokens = answer.input_tokens if answer and answer.input_tokens is not None else count_words(body)
    output_tokens = answer.output_tokens if answer and answer.output_tokens is not None else len(text.split())
    return {
        "id": f"msg_fake_{uuid.uuid4().hex[:20]}",
        "type": "message",
        "role": "assistant",
        "model": body["model"],
        "content": [{"type": "text", "text": text}],
        # as the API says: a reply that reached max_tokens was cut there
        "stop_reason": "max_tokens" if output_tokens >= int(body.get("max_tokens") or 0) > 0 else "end_turn",
        "stop_sequence": None,
        "usage": {
            "input_tokens": input_tokens,
            "output_tokens": output_tokens,
            "cache_creation_input_tokens": 0,
            "cache_read_input_tokens": 0,
        },
    }


def _realistic_message(body: dict[str, Any], answer: Scripted | None, seed: int) -> dict[str, Any]:
    if answer is not None and answer.text is not None:
        text = answer.text
        out = answer.output_tokens if answer.output_tokens is not None else realistic_tokens(text)
    else:
        out = answer.output_tokens if answer and answer.output_tokens is not None else None
        out = out if out is not None else realistic_output_tokens(body, seed)
        text = realistic_reply(out)
    message = _message(body, Scripted(200, text=text, output_tokens=out))
    tokens_in = answer.input_tokens if answer and answer.input_tokens is not None else None
    message["usage"]["input_tokens"] = tokens_in if tokens_in is not None else realistic_tokens(request_text(body))
    return message


@pytest.fixture
def fake_api() -> Iterator[FakeAnthropic]:
    """A started fake server, stopped after the test. Import it into a test module."""
    with FakeAnthropic() as fake:
        yield fake


@pytest.fixture
def realistic_api() -> Iterator[FakeAnthropic]:
    """A started fake counting realistic tokens (``realistic=True``), stopped after the test."""
    with FakeAnthropic(realistic=True) as fake:
        yield fake
