"""A fake Graph API over real HTTP on 127.0.0.1 (random port), scriptable per request.

    with FakeGraph(token="t") as graph:
        graph.script(Reply.server_error(), Reply.rate_limited(), Reply.ok())
        ... GraphClient(graph.messages_url, "t") ...
        assert [r.json["to"] for r in graph.requests] == [...]

Unscripted requests answer like Meta: `{"messages": [{"id": "wamid.fake..."}]}` for sends,
`{"success": true}` for mark-as-read / typing. A wrong bearer token gets Meta's 190 error.

As a process (the container test points a real image at it):
    python -m tests.fakes.graph_server --token T --phone-number-id ID [--host H --port P]
prints its base URL on the first line; `GET /_requests` returns what it recorded, as JSON.

Media and templates, as Meta serves them:
    media_id = graph.add_media(b"...", "image/jpeg")   # a customer's photo on Meta's side
    GET /{version}/{media-id}                → {"url", "mime_type", "sha256", "file_size", "id"}
    GET /_lookaside/whatsapp_business/attachments/?mid=… (with the token) → the bytes
    graph.expire_media(media_id)             → the first step answers Graph error 100
    POST /{version}/{phone-number-id}/media  (multipart) → {"id"}; kept in `graph.uploads`
    graph.templates = [...]; GET /{version}/{waba-id}/message_templates → pages of `data`
"""

from __future__ import annotations

import email.parser
import email.policy
import hashlib
import itertools
import json
import threading
import time
from collections import deque
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlsplit


@dataclass(frozen=True)
class Reply:
    status: int = 200
    body: dict[str, Any] | None = None  # None: Meta's success answer
    hang: float = 0.0  # seconds to sit on the request before answering (a timeout test)

    @classmethod
    def ok(cls, wamid: str | None = None) -> Reply:
        return cls(200, {"messaging_product": "whatsapp", "messages": [{"id": wamid}]} if wamid else None)

    @classmethod
    def meta_error(cls, status: int, code: int, message: str, details: str = "") -> Reply:
        error: dict[str, Any] = {"message": message, "type": "OAuthException", "code": code, "fbtrace_id": "AbCdEf"}
        if details:
            error["error_data"] = {"messaging_product": "whatsapp", "details": details}
        return cls(status, {"error": error})

    @classmethod
    def server_error(cls) -> Reply:
        return cls.meta_error(500, 1, "An unknown error occurred")

    @classmethod
    def too_many_calls(cls) -> Reply:
        return cls.meta_error(429, 4, "(#4) Application request limit reached")

    @classmethod
    def rate_limited(cls) -> Reply:
        return cls.meta_error(
            400,
            130429,
            "(#130429) Rate limit hit",
            "Cloud API message throughput has been reached.",
        )

    @classmethod
    def pair_limited(cls) -> Reply:
        return cls.meta_error(
            400,
            131056,
            "(#131056) (Business Account, Consumer Account) pair rate limit hit",
            "Message failed to send because there were too many messages sent from this phone number "
            "to the same phone number in a short period of time.",
        )

    @classmethod
    def outside_window(cls) -> Reply:
        return cls.meta_error(
            400,
            131047,
            "(#131047) Re-engagement message",
            "Message failed to send because more than 24 hours have passed since the customer last "
            "replied to this number.",
        )

    @classmethod
    def undeliverable(cls) -> Reply:
        return cls.meta_error(400, 131026, "(#131026) Message Undeliverable")

    @classmethod
    def hanging(cls, seconds: float = 5.0) -> Reply:
        return cls(hang=seconds)


@dataclass(frozen=True)
class Recorded:
    path: str
    headers: dict[str, str]
    json: dict[str, Any]
    at: float = field(default_factory=time.monotonic)
    method: str = "POST"


@dataclass(frozen=True)
class Upload:
    mime_type: str
    filename: str | None
    data: bytes
    media_id: str


class FakeGraph:
    def __init__(
        self,
        token: str = "test-token",
        version: str = "v27.0",
        phone_number_id: str = "106540352242922",
        host: str = "127.0.0.1",
        port: int = 0,
    ):
        self.token = token
        self.version = version
        self.phone_number_id = phone_number_id
        self.requests: list[Recorded] = []
        self._script: deque[Reply] = deque()
        self._per_recipient: dict[str, deque[Reply]] = {}
        self._lock = threading.Lock()
        self._ids = itertools.count(1)
        self._release = threading.Event()
        self.waba_id = "102290129340398"
        self.media: dict[str, tuple[bytes, str]] = {}
        self.expired: set[str] = set()
        self.uploads: list[Upload] = []
        self.templates: list[dict[str, Any]] = []
        self.template_page_size = 2
        self._server = ThreadingHTTPServer((host, port), self._handler())
        self._server.daemon_threads = True
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)

    # ---- lifecycle ------------------------------------------------------------------------
    def __enter__(self) -> FakeGraph:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._release.set()  # hanging handlers answer now
        self._server.shutdown()
        self._server.server_close()

    @property
    def base_url(self) -> str:
        host, port = self._server.server_address[:2]
        return f"http://{host}:{port}"

    @property
    def messages_url(self) -> str:
        return f"{self.base_url}/{self.version}/{self.phone_number_id}/messages"

    # ---- scripting ------------------------------------------------------------------------
    def script(self, *replies: Reply) -> None:
        """Answer the next requests with these, in order; then succeed again."""
        with self._lock:
            self._script.extend(replies)

    def script_for(self, to: str, *replies: Reply) -> None:
        """Like `script`, for sends to one recipient only (`to` as sent, e.g. "+54911...")."""
        with self._lock:
            self._per_recipient.setdefault(to, deque()).extend(replies)

    def add_media(self, data: bytes, mime_type: str, media_id: str | None = None) -> str:
        """A file a customer sent, as Meta holds it; returns its media id."""
        media_id = media_id or f"{next(self._ids) + 900000000000000}"
        with self._lock:
            self.media[media_id] = (data, mime_type)
        return media_id

    def expire_media(self, media_id: str) -> None:
        """Meta no longer keeps this file (after ~30 days)."""
        with self._lock:
            self.expired.add(media_id)

    def gets(self, prefix: str = "") -> list[str]:
        """Paths of GET requests (media metadata, downloads, template pages), in order."""
        return [r.path for r in self.requests if r.method == "GET" and r.path.startswith(prefix)]

    def sends(self) -> list[dict[str, Any]]:
        """The bodies of message sends (not read receipts), in arrival order."""
        return [r.json for r in self.requests if r.json.get("type")]

    def _next(self, body: dict[str, Any]) -> Reply | None:
        with self._lock:
            mine = self._per_recipient.get(str(body.get("to") or body.get("recipient") or ""))
            if mine:
                return mine.popleft()
            return self._script.popleft() if self._script else None

    def _success(self, body: dict[str, Any]) -> dict[str, Any]:
        if body.get("status") == "read":
            return {"success": True}
        to = str(body.get("to") or body.get("recipient") or "")
        return {
            "messaging_product": "whatsapp",
            "contacts": [{"input": to, "wa_id": to.lstrip("+")}],
            "messages": [{"id": f"wamid.fake.{next(self._ids):06d}"}],
        }

    def _handler(self) -> type[BaseHTTPRequestHandler]:
        fake = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *args: Any) -> None:  # keep test output clean
                return

            def _answer(self, status: int, payload: bytes, content_type: str = "application/json") -> None:
                try:
                    self.send_response(status)
                    self.send_header("content-type", content_type)
                    self.send_header("content-length", str(len(payload)))
                    self.end_headers()
                    self.wfile.write(payload)
                except OSError:
                    pass

            def _json(self, status: int, body: dict[str, Any]) -> None:
                self._answer(status, json.dumps(body).encode())

            def do_GET(self) -> None:
                if self.path == "/_requests":  # what it recorded, for tests against real processes
                    with fake._lock:
                        recorded = [{"path": r.path, "json": r.json} for r in fake.requests]
                    self._answer(200, json.dumps(recorded).encode())
                    return
                with fake._lock:
                    fake.requests.append(Recorded(self.path, dict(self.headers), {}, method="GET"))
                if self.headers.get("authorization") != f"Bearer {fake.token}":
                    self._json(401, Reply.meta_error(401, 190, "Invalid OAuth access token").body or {})
                    return
                url = urlsplit(self.path)
                query = parse_qs(url.query)
                if url.path == "/_lookaside/whatsapp_business/attachments/":
                    found = fake.media.get((query.get("mid") or [""])[0])
                    if found is None:
                        self._answer(404, b"", "text/plain")
                    else:
                        self._answer(200, found[0], found[1])
                    return
                parts = url.path.strip("/").split("/")
                if len(parts) == 3 and parts[0] == fake.version and parts[2] == "message_templates":
                    self._templates(parts[1], query)
                    return
                if len(parts) == 2 and parts[0] == fake.version:
                    self._media_metadata(parts[1])
                    return
                self._json(400, Reply.meta_error(400, 100, f"Unknown path {self.path}").body or {})

            def _media_metadata(self, media_id: str) -> None:
                found = fake.media.get(media_id)
                if found is None or media_id in fake.expired:
                    message = (
                        f"Unsupported get request. Object with ID '{media_id}' does not exist, cannot be "
                        "loaded due to missing permissions, or does not support this operation."
                    )
                    self._json(400, {"error": {"message": message, "type": "GraphMethodException", "code": 100}})
                    return
                data, mime_type = found
                host, port = fake._server.server_address[:2]
                url = f"http://{host}:{port}/_lookaside/whatsapp_business/attachments/?mid={media_id}&ext=1&hash=x"
                self._json(
                    200,
                    {
                        "messaging_product": "whatsapp",
                        "url": url,
                        "mime_type": mime_type,
                        "sha256": hashlib.sha256(data).hexdigest(),
                        "file_size": len(data),
                        "id": media_id,
                    },
                )

            def _templates(self, waba_id: str, query: dict[str, list[str]]) -> None:
                if waba_id != fake.waba_id:
                    self._json(400, Reply.meta_error(400, 100, f"Unknown WABA {waba_id}").body or {})
                    return
                start = int((query.get("after") or ["0"])[0])
                size = fake.template_page_size
                page = fake.templates[start : start + size]
                body: dict[str, Any] = {"data": page, "paging": {"cursors": {"before": str(start)}}}
                if start + size < len(fake.templates):
                    body["paging"]["cursors"]["after"] = str(start + size)
                    body["paging"]["next"] = (
                        f"{fake.base_url}/{fake.version}/{waba_id}/message_templates?limit={size}&after={start + size}"
                    )
                self._json(200, body)

            def _upload(self, raw: bytes) -> None:
                parser = email.parser.BytesParser(policy=email.policy.HTTP)
                form = parser.parsebytes(
                    b"Content-Type: " + (self.headers.get("content-type") or "").encode() + b"\r\n\r\n" + raw
                )
                fields: dict[str, Any] = {}
                file_part = None
                for part in form.iter_parts():
                    name = part.get_param("name", header="content-disposition")
                    if name == "file":
                        file_part = part
                    else:
                        fields[str(name)] = part.get_content().strip() if part.get_content_maintype() == "text" else ""
                if file_part is None or fields.get("messaging_product") != "whatsapp":
                    self._json(400, Reply.meta_error(400, 100, "Param file must be a file").body or {})
                    return
                media_id = f"{next(fake._ids) + 800000000000000}"
                upload = Upload(
                    fields.get("type") or file_part.get_content_type(),
                    file_part.get_filename(),
                    file_part.get_payload(decode=True) or b"",
                    media_id,
                )
                with fake._lock:
                    fake.uploads.append(upload)
                    fake.requests.append(Recorded(self.path, dict(self.headers), {"upload": media_id}))
                self._json(200, {"id": media_id})

            def do_POST(self) -> None:
                length = int(self.headers.get("content-length") or 0)
                raw = self.rfile.read(length)
                if self.path == f"/{fake.version}/{fake.phone_number_id}/media":
                    if self.headers.get("authorization") != f"Bearer {fake.token}":
                        self._json(401, Reply.meta_error(401, 190, "Invalid OAuth access token").body or {})
                        return
                    self._upload(raw)
                    return
                try:
                    body = json.loads(raw or b"{}")
                except ValueError:
                    body = {"_unparsed": raw.decode("utf-8", "replace")}
                with fake._lock:
                    fake.requests.append(Recorded(self.path, dict(self.headers), body))
                reply = fake._next(body)
                if self.headers.get("authorization") != f"Bearer {fake.token}":
                    reply = Reply.meta_error(401, 190, "Invalid OAuth access token - Cannot parse access token")
                elif self.path != f"/{fake.version}/{fake.phone_number_id}/messages":
                    reply = Reply.meta_error(400, 100, f"Unknown path {self.path}")
                reply = reply or Reply()
                if reply.hang:
                    fake._release.wait(reply.hang)
                payload = json.dumps(reply.body if reply.body is not None else fake._success(body)).encode()
                try:
                    self.send_response(reply.status)
                    self.send_header("content-type", "application/json")
                    self.send_header("content-length", str(len(payload)))
                    self.end_headers()
                    self.wfile.write(payload)
                except OSError:  # the client gave up (timeout): nothing to answer
                    pass

        return Handler


def main() -> None:
    import argparse
    import signal

    parser = argparse.ArgumentParser(description="A fake Graph API for tests run against real processes")
    parser.add_argument("--token", default="test-token")
    parser.add_argument("--phone-number-id", default="106540352242922")
    parser.add_argument("--version", default="v27.0")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=0)
    args = parser.parse_args()
    stop = threading.Event()
    for signum in (signal.SIGTERM, signal.SIGINT):
        signal.signal(signum, lambda *_: stop.set())
    with FakeGraph(args.token, args.version, args.phone_number_id, args.host, args.port) as graph:
        print(graph.base_url, flush=True)
        stop.wait()


if __name__ == "__main__":
    main()
