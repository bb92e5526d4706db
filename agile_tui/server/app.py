"""The hub's HTTP API (FastAPI): ``create_app(data_dir)`` builds it; ``agile-tui serve`` runs it on uvicorn.

Every room route takes ``Authorization: Bearer <participant token>``; the op's actor is the token's member,
never a field of the body. Every error is ``{code, reason}`` (a 422 of validation adds pydantic's ``detail``).
"""

from __future__ import annotations

import asyncio
import logging
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Annotated

from fastapi import Body, Depends, FastAPI, Query, Request, Response
from fastapi import Path as PathParam
from fastapi.encoders import jsonable_encoder
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, StreamingResponse
from fastapi.routing import APIRoute
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.routing import Match

from .. import __version__
from . import auth
from .events import PING_S, events_body, parse_last_event_id, ping, sse
from .hub import HubError, NewOp, Room, Settings, describe
from .limits import MAX_BODY, MAX_ROOM_BODY, MAX_WAIT, BodyLimit
from .oplog import dumps
from .schemas import (
    CreateRoom,
    Events,
    HandOver,
    Health,
    Join,
    Joined,
    OpsIn,
    OpsOut,
    PresenceIn,
    PresenceOut,
    Problem,
    RoomCreated,
    SamplesIn,
    SamplesOut,
    Snapshot,
)
from .service import Hub

log = logging.getLogger("agile_tui.hub")
bearer = HTTPBearer(auto_error=False, description="a participant token (`<participant id>.<secret>`)")
Token = Annotated[HTTPAuthorizationCredentials | None, Depends(bearer)]
RoomId = Annotated[str, PathParam(min_length=1, max_length=64, description="the room id")]

WHY = {400: "the body is not JSON", 401: "no token, or not a valid one for this room",
       403: "the role does not allow it", 404: "no such room", 409: "conflict",
       410: "the seq asked for was compacted away (or is ahead of the log): reload the snapshot",
       413: "the body is over the size limit", 422: "the request is not valid",
       429: "too many ops per second, or too many open streams: wait Retry-After seconds"}


def errors(*codes: int) -> dict:
    """The documented errors of a route (a route with a body can also get a 400: a body that is not JSON)."""
    out: dict = {}
    for code in codes:
        out[code] = {"model": Problem, "description": WHY[code]}
        if code == 429:
            out[code]["headers"] = {"Retry-After": {"description": "seconds", "schema": {"type": "integer"}}}
    return out


def json_response(data: object, status: int = 200) -> Response:
    return Response(dumps(data), status_code=status, media_type="application/json")


def create_app(data_dir: str | Path, *, settings: Settings | None = None, max_body: int = MAX_BODY,
               max_room_body: int = MAX_ROOM_BODY) -> FastAPI:
    hub = Hub(Path(data_dir), settings)

    @asynccontextmanager
    async def lifespan(app: FastAPI):
        yield
        hub.close()
        hub.log.close()

    app = FastAPI(title="agile-tui hub", version=__version__, lifespan=lifespan, docs_url=None, redoc_url=None,
                  description="One live room shared by many agile-tui terminals: share a room, join it, post ops, "
                              "follow its events (SSE or long-poll); each participant sees only what is theirs to see.")
    app.state.hub = hub
    app.add_middleware(BodyLimit, max_body=max_body, max_room_body=max_room_body)

    @app.exception_handler(RequestValidationError)
    async def invalid(request: Request, error: RequestValidationError) -> JSONResponse:
        problems = jsonable_encoder(error.errors(), exclude={"input", "ctx", "url"})
        first = problems[0] if problems else {}
        where = ".".join(str(part) for part in first.get("loc", ()) if part != "body")
        reason = f"{where}: {first.get('msg', 'not valid')}" if where else first.get("msg", "The request is not valid.")
        return JSONResponse({"code": "invalid", "reason": reason, "detail": problems}, status_code=422)

    @app.exception_handler(StarletteHTTPException)
    async def http_error(request: Request, error: StarletteHTTPException) -> JSONResponse:
        codes = {400: "bad_request", 404: "not_found", 405: "method_not_allowed"}
        headers = dict(error.headers or {})
        if error.status_code == 405:  # Starlette names only the first route's methods; name every route's
            allowed = {m for route in app.routes if isinstance(route, APIRoute)
                       and route.matches(request.scope)[0] != Match.NONE for m in route.methods}
            headers["Allow"] = ", ".join(sorted(allowed))
        return JSONResponse({"code": codes.get(error.status_code, "error"), "reason": str(error.detail)},
                            status_code=error.status_code, headers=headers)

    @app.exception_handler(HubError)
    async def hub_error(request: Request, error: HubError) -> JSONResponse:
        headers = {}
        if error.status == 401:
            headers["WWW-Authenticate"] = "Bearer"
        if error.status == 429:
            headers["Retry-After"] = str(error.extra.get("retry_after", 1))
        if error.status >= 500:  # pragma: no cover
            log.error("%s %s: %s", request.method, request.url.path, error.reason)
        return JSONResponse(error.body(), status_code=error.status, headers=headers)

    def participant(room_id: str, token: HTTPAuthorizationCredentials | None, *, people_only: bool = True):
        room = hub.room(room_id)
        who = room.authenticate(token.credentials if token else None)
        if people_only and who.role == auth.METRICS:
            raise HubError(403, "forbidden", "A metrics token may only post metric samples.")
        return room, who

    @app.get("/v1/healthz", response_model=Health, tags=["hub"])
    async def healthz() -> Response:
        """Is the hub up (and its database open)?"""
        hub.log.db.execute("SELECT 1")
        return json_response({"ok": True, "version": __version__, "rooms_loaded": len(hub.rooms)})

    @app.post("/v1/rooms", status_code=201, response_model=RoomCreated, responses=errors(400, 413, 422), tags=["rooms"])
    async def create_room(body: CreateRoom) -> Response:
        """Share a room: its whole state. The sharer becomes its facilitator; the invite lets others join."""
        created = hub.create_room(body.state, body.name, body.member_id)
        log.info("room %s shared by %s", created["room"], body.name)
        return json_response(created, 201)

    @app.post("/v1/rooms/{room}/join", status_code=201, response_model=Joined,
              responses=errors(400, 401, 404, 409, 413, 422), tags=["rooms"])
    async def join(room: RoomId, body: Join) -> Response:
        """Join with the invite and a display name: you are that member of the team (one new if nobody has the
        name; a member somebody has already joined as is taken: 409)."""
        joined = hub.join(room, body.invite, body.name)
        log.info("room %s joined by %s (%s)", room, body.name, joined["participant_id"])
        return json_response(joined, 201)

    @app.get("/v1/rooms/{room}/snapshot", response_model=Snapshot, responses=errors(401, 403, 404), tags=["sync"])
    async def snapshot(room: RoomId, token: Token) -> Response:
        """The room at its newest seq, as you may see it."""
        found, who = participant(room, token)
        return json_response(found.snapshot(who))

    @app.post("/v1/rooms/{room}/ops", response_model=OpsOut, responses=errors(400, 401, 403, 404, 413, 422, 429),
              tags=["sync"])
    async def post_ops(room: RoomId, body: OpsIn, token: Token) -> Response:
        """Up to 100 ops, applied in order. Each gets its seq (a retried op: its original seq, ``duplicate``) or
        an error that does not stop the ones after it. An op your role does not allow refuses the whole batch
        (403, nothing applied; ``ops`` says which)."""
        found, who = participant(room, token)
        ops = [NewOp(o.op_id, o.type, o.args, o.ts) for o in body.ops]
        results = hub.submit(found, who, body.client_id, ops)
        return json_response({"results": results, "head": found.head})

    @app.get("/v1/rooms/{room}/ops", response_model=Events, responses=errors(401, 403, 404, 410, 422, 429),
             tags=["sync"])
    async def get_ops(room: RoomId, token: Token, since: Annotated[int, Query(ge=0)] = 0,
                      wait: Annotated[float, Query(ge=0, le=MAX_WAIT)] = 0.0,
                      limit: Annotated[int, Query(ge=1, le=1000)] = 500) -> Response:
        """The events after ``since``; with ``wait``, hold the request up to that many seconds until there is
        one (a long-poll)."""
        found, who = participant(room, token)
        if since < found.compacted or since > found.head:
            raise HubError(410, "gone", f"The hub has no changes after seq {since} (it holds {found.compacted}.."
                                        f"{found.head}); reload the snapshot.")
        events = found.events_after(since, who, limit)
        if not events and wait > 0 and not hub.closing:
            events = await long_poll(found, who, since, wait, limit)
        return Response(events_body([text for _, text in events], found.head, len(events) >= limit),
                        media_type="application/json")

    async def long_poll(found: Room, who: auth.Participant, since: int, wait: float, limit: int):
        if not hub.streams.acquire(who.id):
            raise HubError(429, "too_many", "Too many open streams for this participant.", retry_after=5)
        sub = found.subscribe(who, announce=False)
        loop = asyncio.get_running_loop()
        deadline = loop.time() + wait
        events: list = []
        try:
            while not events and not hub.closing and loop.time() < deadline:
                sub.wake.clear()
                events = found.events_after(since, who, limit)
                if not events:
                    try:
                        await asyncio.wait_for(sub.wake.wait(), deadline - loop.time())
                    except TimeoutError:
                        break
            return events
        finally:
            found.unsubscribe(sub, announce=False)
            hub.streams.release(who.id)

    @app.get("/v1/rooms/{room}/events", responses={**errors(401, 403, 404, 429), 200: {
        "content": {"text/event-stream": {}}, "description": "SSE: `id:` = seq, data = an event as in GET ops; "
        "`event: hello|presence|role` without id; `: ping` every 15 s"}}, tags=["sync"])
    async def events(room: RoomId, request: Request, token: Token,
                     since: Annotated[int | None, Query(ge=0)] = None) -> StreamingResponse:
        """Live events. Resume with ``Last-Event-ID`` (or ``since``); without either, from now on."""
        found, who = participant(room, token)
        resume = parse_last_event_id(request.headers.get("last-event-id"))
        start = resume if resume is not None else since if since is not None else found.head
        if not hub.streams.acquire(who.id):
            raise HubError(429, "too_many", "Too many open streams for this participant.", retry_after=5)
        sub = found.subscribe(who)
        client = request.client.host if request.client else "?"
        log.info("stream open room=%s participant=%s from seq %s (%s)", room, who.id, start, client)

        opened_with = found.participants[who.id][1]  # a token rotated since (an SSH login) ends this stream

        async def stream():
            last = start
            try:
                hello = {"head": found.head, "me": describe(found.participants[who.id][0]),
                         "participants": found.presence_list()}
                yield sse(dumps(hello), name="hello")
                while not hub.closing:
                    sub.wake.clear()
                    if found.participants[who.id][1] != opened_with:
                        break
                    me = found.participants[who.id][0]  # the role may have changed
                    batch = found.events_after(last, me)
                    out = [sse(text, seq) for seq, text in batch]  # one send per wake-up, not one per event
                    if batch:
                        last = batch[-1][0]
                    while sub.extra:
                        name, data = sub.extra.popleft()
                        out.append(sse(data, name=name))
                    if out:
                        yield "".join(out)
                    if batch:
                        continue
                    try:
                        async with asyncio.timeout(PING_S):  # (no task per wake-up, unlike wait_for)
                            await sub.wake.wait()
                    except TimeoutError:
                        yield ping()
            finally:
                found.unsubscribe(sub)
                hub.streams.release(who.id)
                log.info("stream closed room=%s participant=%s at seq %s", room, who.id, last)

        return StreamingResponse(stream(), media_type="text/event-stream",
                                 headers={"Cache-Control": "no-cache", "X-Accel-Buffering": "no"})

    @app.post("/v1/rooms/{room}/presence", response_model=PresenceOut,
              responses=errors(400, 401, 403, 404, 413, 422, 429), tags=["sync"])
    async def presence(room: RoomId, token: Token, body: Annotated[PresenceIn, Body()] = None) -> Response:
        """Say you are here (and ready, or a short status). Not logged; others get a ``presence`` event."""
        found, who = participant(room, token)
        hub.rate(who)
        found.mark_present(who, body.ready if body else None, body.status if body else None)
        return json_response({"participants": found.presence_list()})

    @app.post("/v1/rooms/{room}/metrics", response_model=SamplesOut, responses=errors(400, 401, 404, 413, 422, 429),
              tags=["metrics"])
    async def metrics(room: RoomId, body: SamplesIn, token: Token) -> Response:
        """Metric samples from a script or a CRM hook (any participant's token, or the room's metrics token).
        They are ops like any other: every client sees them at once."""
        found, who = participant(room, token, people_only=False)
        samples = [s.model_dump() for s in body.samples]
        return json_response({"results": hub.samples(found, who, samples), "head": found.head})

    @app.post("/v1/rooms/{room}/facilitator", response_model=PresenceOut,
              responses=errors(400, 401, 403, 404, 413, 422), tags=["rooms"])
    async def hand_over(room: RoomId, body: HandOver, token: Token) -> Response:
        """Hand the facilitator role to another participant (facilitator only). Everyone gets a ``role`` event."""
        found, who = participant(room, token)
        if not who.facilitator:
            raise HubError(403, "forbidden", "Only the facilitator can hand the role over.")
        new = found.hand_over(who, body.participant_id)
        log.info("room %s: %s is the facilitator now", room, new.id)
        return json_response({"participants": found.presence_list()})

    return app
