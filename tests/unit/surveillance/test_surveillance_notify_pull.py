"""The webhook notifier and the HTTP-JSON pull source, against a local HTTP server."""

from __future__ import annotations

import datetime as dt
import json
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, HTTPServer

import pytest

from fangkong.surveillance.notify import (
    AlertMessage,
    NotifyError,
    WebhookNotifier,
    notifier_for,
    register_notifier,
)
from fangkong.surveillance.pull import HttpJsonSource, PullError


@dataclass
class LocalServer:
    url: str
    status: int = 200
    body: bytes = b"[]"
    posted: list[dict[str, object]] = field(default_factory=list)
    headers: list[dict[str, str]] = field(default_factory=list)
    paths: list[str] = field(default_factory=list)


@pytest.fixture
def local_server() -> Iterator[LocalServer]:
    state = LocalServer(url="")

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            length = int(self.headers.get("Content-Length", "0"))
            state.posted.append(json.loads(self.rfile.read(length)))
            state.headers.append(dict(self.headers))
            self.send_response(state.status)
            self.end_headers()

        def do_GET(self) -> None:
            state.paths.append(self.path)
            self.send_response(state.status)
            self.send_header("Content-Type", "application/json")
            self.end_headers()
            self.wfile.write(state.body)

        def log_message(self, *args: object) -> None:
            pass

    server = HTTPServer(("127.0.0.1", 0), Handler)
    state.url = f"http://127.0.0.1:{server.server_port}"
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
    thread.start()
    yield state
    server.shutdown()
    server.server_close()
    thread.join()


MESSAGE = AlertMessage(
    event="alert.created",
    alert_id=7,
    level="yellow",
    status="signal",
    title="西湖区: two channels",
    jurisdiction_code="330106",
    jurisdiction_name="西湖区",
    assigned_code="330106",
    created_at="2024-03-20T08:00:00+00:00",
    response_due_at="2024-03-21T08:00:00+00:00",
    channels=["case_reports", "fever_clinic"],
    link="/surveillance/alerts/7",
)


def test_the_webhook_posts_the_alert_as_json(local_server) -> None:  # type: ignore[no-untyped-def]
    WebhookNotifier(local_server.url + "/hook").send(MESSAGE)
    assert local_server.posted == [json.loads(MESSAGE.as_json())]
    assert local_server.posted[0]["jurisdiction_name"] == "西湖区"
    assert local_server.headers[0]["Content-Type"].startswith("application/json")


def test_a_webhook_answering_an_error_or_not_answering_fails(local_server) -> None:  # type: ignore[no-untyped-def]
    local_server.status = 500
    with pytest.raises(NotifyError, match="500"):
        WebhookNotifier(local_server.url).send(MESSAGE)
    with pytest.raises(NotifyError, match="unreachable"):
        WebhookNotifier("http://127.0.0.1:9/").send(MESSAGE)
    with pytest.raises(NotifyError, match="http"):
        WebhookNotifier("ftp://example.org/")


def test_other_notifier_kinds_plug_in() -> None:
    sent: list[AlertMessage] = []

    class Recorder:
        def __init__(self, url: str) -> None:
            self.url = url

        def send(self, message: AlertMessage) -> None:
            sent.append(message)

    register_notifier("test_recorder", Recorder)
    notifier_for("test_recorder", "sms://duty").send(MESSAGE)
    assert sent == [MESSAGE]
    with pytest.raises(NotifyError, match="no notifier"):
        notifier_for("pigeon", "x")


def test_a_source_is_asked_for_what_changed_since_the_last_pull(local_server) -> None:  # type: ignore[no-untyped-def]
    local_server.body = json.dumps({"observations": [{"channel": "fever_clinic", "value": 3}]}).encode()
    source = HttpJsonSource(local_server.url + "/feed?region=330106")
    assert source.fetch(None) == [{"channel": "fever_clinic", "value": 3}]
    local_server.body = b"[]"
    assert source.fetch(dt.date(2024, 3, 6)) == []
    assert local_server.paths == ["/feed?region=330106", "/feed?region=330106&since=2024-03-06"]


@pytest.mark.parametrize(
    ("status", "body", "message"),
    [
        (503, b"[]", "503"),
        (200, b"<html>", "JSON"),
        (200, b'{"rows": []}', "list of records"),
        (200, b"[1, 2]", "list"),
    ],
)
def test_a_source_that_answers_badly_is_reported(
    local_server, status: int, body: bytes, message: str
) -> None:  # type: ignore[no-untyped-def]
    local_server.status, local_server.body = status, body
    with pytest.raises(PullError, match=message):
        HttpJsonSource(local_server.url).fetch(None)
