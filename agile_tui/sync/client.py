"""The hub's HTTP API from the client's side (httpx, blocking: the sync threads call it). Every failure is a
``HubUnreachable`` (nothing answered: try again later) or a ``HubRefused`` (the hub answered no, with a reason
for people and a stable code)."""

from __future__ import annotations

import socket
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import quote, unquote

import httpx

from .. import __version__

UNIX_SCHEME = "http+unix://"
CONNECT_S = 5.0
READ_S = 20.0
STREAM_READ_S = 45.0  # the hub pings every 15 s: three missed pings mean the connection is dead


class HubUnreachable(Exception):
    """No answer from the hub (down, unreachable, timed out)."""


class HubRefused(Exception):
    def __init__(self, status: int, code: str, reason: str, body: dict | None = None,
                 retry_after: float | None = None) -> None:
        super().__init__(reason)
        self.status, self.code, self.reason = status, code, reason
        self.body = body or {}
        self.retry_after = retry_after


@dataclass
class SseEvent:
    data: str
    name: str = ""
    id: str | None = None


def parse_sse(lines: Iterator[str]) -> Iterator[SseEvent]:
    """Server-sent events from lines. Comments (``: ping``) and events without data are skipped."""
    data: list[str] = []
    name, event_id = "", None
    for line in lines:
        if not line:
            if data:
                yield SseEvent("\n".join(data), name, event_id)
            data, name, event_id = [], "", None
            continue
        if line.startswith(":"):
            continue
        key, _, value = line.partition(":")
        value = value[1:] if value.startswith(" ") else value
        if key == "data":
            data.append(value)
        elif key == "event":
            name = value
        elif key == "id":
            event_id = value


@dataclass
class HubClient:
    server: str
    token: str = field(default="", repr=False)
    timeout: float = READ_S
    _http: httpx.Client | None = field(default=None, repr=False)
    _stream: httpx.Response | None = field(default=None, repr=False)
    _aborted: bool = field(default=False, repr=False)

    @property
    def http(self) -> httpx.Client:
        if self._http is None:
            headers = {"User-Agent": f"agile-tui/{__version__}"}
            if self.token:
                headers["Authorization"] = f"Bearer {self.token}"
            base, uds = split_server(self.server)
            transport = httpx.HTTPTransport(uds=uds) if uds else None
            self._http = httpx.Client(base_url=base, headers=headers, transport=transport,
                                      timeout=httpx.Timeout(self.timeout, connect=CONNECT_S))
        return self._http

    def close(self) -> None:
        if self._http is not None:
            self._http.close()
            self._http = None

    # ------------------------------------------------------------------ requests

    def request(self, method: str, path: str, **kwargs: Any) -> Any:
        try:
            response = self.http.request(method, path, **kwargs)
        except httpx.HTTPError as error:  # transport errors, timeouts, a bad URL
            raise HubUnreachable(_why(error, self.server)) from None
        return _answer(response)

    def create_room(self, state: dict, name: str, member_id: str | None = None) -> dict:
        return self.request("POST", "/v1/rooms", json={"state": state, "name": name, "member_id": member_id})

    def join(self, room: str, invite: str, name: str) -> dict:
        return self.request("POST", f"/v1/rooms/{room}/join", json={"invite": invite, "name": name})

    def snapshot(self, room: str) -> dict:
        return self.request("GET", f"/v1/rooms/{room}/snapshot")

    def post_ops(self, room: str, client_id: str, ops: list[dict]) -> dict:
        return self.request("POST", f"/v1/rooms/{room}/ops", json={"client_id": client_id, "ops": ops})

    def hand_over(self, room: str, participant_id: str) -> dict:
        return self.request("POST", f"/v1/rooms/{room}/facilitator", json={"participant_id": participant_id})

    def events(self, room: str, since: int) -> Iterator[SseEvent]:
        """The room's live events after ``since`` (blocking; ends when the connection does)."""
        headers = {"Last-Event-ID": str(since), "Accept": "text/event-stream"}
        timeout = httpx.Timeout(STREAM_READ_S, connect=CONNECT_S)
        try:
            with self.http.stream("GET", f"/v1/rooms/{room}/events", headers=headers, timeout=timeout) as response:
                if response.status_code != 200:
                    response.read()
                    _answer(response)
                self._stream = response
                if self._aborted:
                    return
                try:
                    yield from parse_sse(response.iter_lines())
                finally:
                    self._stream = None
        except httpx.HTTPError as error:
            raise HubUnreachable(_why(error, self.server)) from None
        except OSError as error:  # the socket was shut by ``abort`` (or failed under us)
            raise HubUnreachable(_why(httpx.ReadError(str(error)), self.server)) from None

    def abort(self) -> None:
        """End a stream that another thread is reading, at once (a blocked read returns); a stream opened
        after this ends as soon as it opens."""
        self._aborted = True
        response = self._stream
        if response is None:
            return
        stream = response.extensions.get("network_stream")
        sock = stream.get_extra_info("socket") if stream is not None else None
        if sock is not None:
            try:
                sock.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass


def split_server(server: str) -> tuple[str, str | None]:
    """The base URL and, for a hub on a Unix socket (``http+unix://<socket path, %-encoded>``), the socket."""
    if server.startswith(UNIX_SCHEME):
        rest = server[len(UNIX_SCHEME):]
        socket_part, _, prefix = rest.partition("/")
        return "http://hub" + ("/" + prefix if prefix else ""), unquote(socket_part)
    return server, None


def unix_server(path: str) -> str:
    """The server URL of a hub listening on the Unix socket ``path``."""
    return UNIX_SCHEME + quote(str(path), safe="")


def _answer(response: httpx.Response) -> Any:
    try:
        body = response.json()
    except ValueError:
        body = None
    if response.is_success:
        if not isinstance(body, dict):  # a captive portal, a proxy's page: not our hub
            raise HubUnreachable(f"The server at {response.url.host} did not answer like an agile-tui hub "
                                 f"(HTTP {response.status_code}, {response.headers.get('content-type', '?')}).")
        return body
    data = body if isinstance(body, dict) else {}
    if "code" not in data:  # a proxy or another server answered, not the hub: try again later
        raise HubUnreachable(f"The server at {response.url.host} answered HTTP {response.status_code} "
                             f"{response.reason_phrase}, not like an agile-tui hub.")
    reason = str(data.get("reason") or response.reason_phrase or f"HTTP {response.status_code}")
    retry = response.headers.get("Retry-After")
    try:
        retry_after = float(retry) if retry else None
    except ValueError:
        retry_after = None
    raise HubRefused(response.status_code, str(data.get("code") or "error"), reason, data, retry_after)


def _why(error: httpx.HTTPError, server: str) -> str:
    if isinstance(error, httpx.ConnectError):
        return f"The hub at {server} cannot be reached ({_short(error)})."
    if isinstance(error, httpx.TimeoutException):
        return f"The hub at {server} did not answer in time."
    return f"The connection to the hub at {server} failed ({_short(error)})."


def _short(error: Exception) -> str:
    text = str(error).strip() or type(error).__name__
    return text.splitlines()[0][:120]
