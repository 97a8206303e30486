"""Real receivers on loopback: an SMTP server (aiosmtpd) and an HTTP server, started here.

``HttpReceiver`` can be created for a port that is closed (the receiver is
"down") and started later on that same port (it "comes up").
"""

from __future__ import annotations

import email
import json
import socket
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from email.message import Message
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest
from aiosmtpd.controller import Controller

LOOPBACK = "127.0.0.1"


def free_port() -> int:
    """A port nobody listens on (bound and released at once)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind((LOOPBACK, 0))
        return int(sock.getsockname()[1])


@dataclass
class Received:
    path: str
    headers: dict[str, str]
    body: bytes

    def json(self) -> Any:
        return json.loads(self.body)


@dataclass
class HttpReceiver:
    """A loopback HTTP server that records every POST and answers ``status``."""

    port: int = field(default_factory=free_port)
    status: int = 200
    answer: bytes = b'{"errcode":0,"errmsg":"ok"}'
    received: list[Received] = field(default_factory=list)
    _server: ThreadingHTTPServer | None = None
    _lock: threading.Lock = field(default_factory=threading.Lock)

    @property
    def url(self) -> str:
        return f"http://{LOOPBACK}:{self.port}/hook"

    def start(self) -> None:
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                length = int(self.headers.get("Content-Length", "0"))
                body = self.rfile.read(length)
                with receiver._lock:
                    receiver.received.append(Received(self.path, dict(self.headers.items()),
                                                      body))
                self.send_response(receiver.status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(receiver.answer)))
                self.end_headers()
                self.wfile.write(receiver.answer)

            def log_message(self, format: str, *args: Any) -> None:
                pass

        ThreadingHTTPServer.allow_reuse_address = True
        self._server = ThreadingHTTPServer((LOOPBACK, self.port), Handler)
        threading.Thread(target=self._server.serve_forever, daemon=True,
                         name=f"receiver-{self.port}").start()

    def stop(self) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._server = None


@pytest.fixture
def receiver(settings: Any) -> Iterator[HttpReceiver]:
    """A running HTTP receiver; loopback is on the allow-list for the test."""
    settings.BIHUAN_OUTBOUND_ALLOWED_HOSTS = [LOOPBACK]
    server = HttpReceiver()
    server.start()
    yield server
    server.stop()


@pytest.fixture
def down_receiver(settings: Any) -> Iterator[HttpReceiver]:
    """A receiver whose port is closed until the test calls ``start()``."""
    settings.BIHUAN_OUTBOUND_ALLOWED_HOSTS = [LOOPBACK]
    server = HttpReceiver()
    yield server
    server.stop()


class _FixedName:
    def get_fqdn(self) -> str:
        return "bihuan.test"

    def __str__(self) -> str:
        return "bihuan.test"


class _Mailbox:
    def __init__(self) -> None:
        self.messages: list[tuple[list[str], Message]] = []
        self.lock = threading.Lock()

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        content = envelope.content if isinstance(envelope.content, bytes) else (
            envelope.content.encode())
        with self.lock:
            self.messages.append((list(envelope.rcpt_tos), email.message_from_bytes(content)))
        return "250 Message accepted for delivery"


@pytest.fixture
def smtp_server(settings: Any, monkeypatch: pytest.MonkeyPatch) -> Iterator[_Mailbox]:
    """A real SMTP server on loopback; Django's SMTP backend is pointed at it."""
    from django.core.mail import message
    from django.core.mail.backends import smtp

    mailbox = _Mailbox()
    port = free_port()
    controller = Controller(mailbox, hostname=LOOPBACK, port=port)
    controller.start()
    settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    settings.EMAIL_HOST = LOOPBACK
    settings.EMAIL_PORT = port
    settings.EMAIL_USE_TLS = False
    # The EHLO and Message-ID host name: no DNS look-up of this machine's name (seconds
    # offline; a real worker pays it once).
    monkeypatch.setattr(message, "DNS_NAME", "bihuan.test")
    monkeypatch.setattr(smtp, "DNS_NAME", _FixedName())
    yield mailbox
    controller.stop()
