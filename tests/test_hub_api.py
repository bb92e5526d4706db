"""The hub over real HTTP: uvicorn on 127.0.0.1 and a free port, httpx clients, SSE read from the live server.
Sharing and joining, snapshots, ops (dedupe, per-op errors, roles), catch-up and 410 after compaction,
long-poll, SSE order and resume, auth and limits, presence, metrics, and five followers that converge."""

from __future__ import annotations

import json
import threading
import time

import httpx
import pytest

from agile_tui.domain import State

from .hubkit import Follower, join, op, running_hub, share, sse_events, team_state


@pytest.fixture
def hub(tmp_path):
    with running_hub(tmp_path / "hub") as running:
        yield running


def post_ops(client: httpx.Client, room: str, *ops: dict, client_id: str = "c1") -> httpx.Response:
    return client.post(f"/v1/rooms/{room}/ops", json={"client_id": client_id, "ops": list(ops)})


def items(n: int, prefix: str = "i") -> list[dict]:
    return [op("item.add", f"{prefix}{k}", id=f"{prefix}{k}", title=f"Item {k}") for k in range(n)]


# ----------------------------------------------------------------------------- sharing and joining


def test_share_join_and_snapshot(hub):
    room = share(hub.url)
    assert room["member_id"] == "ana" and room["seq"] == 0  # "Ana" is a member already: no member.add
    ben = join(hub.url, room, "ben")  # names match case-insensitively
    assert ben["member_id"] == "ben" and ben["role"] == "participant"
    dee = join(hub.url, room, "Dee")  # a new member, added by the hub through the reducer
    assert dee["seq"] == 1 and dee["member_id"].startswith("m-")
    with hub.client(ben["token"]) as client:
        snap = client.get(f"/v1/rooms/{room['room']}/snapshot").json()
    state = State.from_dict(snap["state"])
    assert snap["seq"] == 1 and state.members[dee["member_id"]].name == "Dee" and "i1" in state.items
    assert snap["me"]["participant_id"] == ben["participant_id"]
    assert {p["name"] for p in snap["participants"]} == {"Ana", "ben", "Dee"}
    again = httpx.post(f"{hub.url}/v1/rooms/{room['room']}/join", json={"invite": room["invite_token"],
                                                                        "name": "BEN"})
    assert again.status_code == 409 and again.json()["code"] == "taken"
    wrong = httpx.post(f"{hub.url}/v1/rooms/{room['room']}/join", json={"invite": "nope", "name": "Eve"})
    assert wrong.status_code == 401
    missing = httpx.post(f"{hub.url}/v1/rooms/nosuchroom/join", json={"invite": "x", "name": "Eve"})
    assert missing.status_code == 404
    bad = httpx.post(f"{hub.url}/v1/rooms", json={"name": "Ana", "state": {"items": {"x": {"id": "x", "title": 5,
                                                                                           "rank": "a"}}}})
    assert bad.status_code == 422 and "title" in bad.json()["reason"]


def test_healthz(hub):
    response = httpx.get(f"{hub.url}/v1/healthz")
    assert response.status_code == 200 and response.json()["ok"] is True


# ----------------------------------------------------------------------------- ops


def test_ops_get_seqs_errors_do_not_block_and_a_retry_is_a_duplicate(hub):
    room = share(hub.url)
    ben = join(hub.url, room, "Ben")
    with hub.client(ben["token"]) as client:
        batch = [op("item.add", "a", id="i2", title="New"), op("item.add", "b", id="i2", title="Again"),
                 op("no.such", "c"), op("item.update", "d", id="i2", status="doing")]
        batch[0]["actor"] = "ana"  # ignored: the actor is the token's member
        first = post_ops(client, room["room"], *batch).json()
        assert [r.get("seq") for r in first["results"]] == [1, None, None, 2]
        assert first["results"][1]["error"]["code"] == "rule" and first["results"][2]["error"]["code"] == "unknown_op"
        retry = post_ops(client, room["room"], *batch).json()  # the response was lost; the client sends again
        assert [(r.get("seq"), r.get("duplicate")) for r in retry["results"]] == [
            (1, True), (None, None), (None, None), (2, True)]
        assert retry["head"] == 2
        twice = post_ops(client, room["room"], op("item.add", "e", id="i3", title="x"),
                         op("item.add", "e", id="i3", title="x")).json()
        assert [(r["seq"], r["duplicate"]) for r in twice["results"]] == [(3, False), (3, True)]
        log = client.get(f"/v1/rooms/{room['room']}/ops", params={"since": 0}).json()
        assert [e["seq"] for e in log["events"]] == [1, 2, 3] and log["events"][0]["op"]["actor"] == "ben"
        assert post_ops(client, room["room"], *items(101)).status_code == 422  # a batch is at most 100
        huge = op("item.add", "h", id="ih", title="x", junk="y" * 40_000)
        assert post_ops(client, room["room"], huge).status_code == 422  # args over 32 KiB


def test_roles_are_enforced_by_the_hub_and_the_role_can_be_handed_over(hub):
    room = share(hub.url)
    ben = join(hub.url, room, "Ben")
    rid = room["room"]
    with hub.client(ben["token"]) as bc, hub.client(room["facilitator_token"]) as fc:
        refused = post_ops(bc, rid, op("item.add", "x1", id="ix", title="fine"),
                           op("retro.phase", "x2", retro_id="r1", action="next", force=True, at=1))
        assert refused.status_code == 403 and refused.json()["ops"][0]["op_id"] == "x2"
        assert bc.get(f"/v1/rooms/{rid}/ops", params={"since": 0}).json()["head"] == 0  # nothing applied
        for_another = op("retro.card", "x3", retro_id="r1", id="c1", column="Went well", text="t", member_id="cai")
        assert post_ops(bc, rid, for_another).status_code == 403
        assert post_ops(fc, rid, for_another).json()["results"][0]["seq"] == 1  # the facilitator types for Cai
        edit = op("retro.card_update", "x4", retro_id="r1", id="c1", text="changed")
        assert post_ops(bc, rid, edit).status_code == 403  # not Ben's card
        assert post_ops(bc, rid, op("retro.card", "x5", retro_id="r1", id="c2", column="Went well",
                                    text="mine")).json()["results"][0]["seq"] == 2
        handed = fc.post(f"/v1/rooms/{rid}/facilitator", json={"participant_id": ben["participant_id"]})
        assert handed.status_code == 200
        assert {p["name"]: p["role"] for p in handed.json()["participants"]} == {"Ana": "participant",
                                                                                 "Ben": "facilitator"}
        assert post_ops(bc, rid, op("retro.phase", "x2", retro_id="r1", action="next", force=True,
                                    at=1)).json()["results"][0]["seq"] == 3
        assert post_ops(fc, rid, op("retro.phase", "x6", retro_id="r1", action="back", at=2)).status_code == 403
        assert fc.post(f"/v1/rooms/{rid}/facilitator", json={"participant_id": room["participant_id"]}
                       ).status_code == 403


def test_since_catch_up_and_410_after_compaction_and_dedupe_survives_it(tmp_path):
    with running_hub(tmp_path / "hub", snapshot_every=5, keep_ops=5, ring=4) as hub:
        room = share(hub.url)
        rid = room["room"]
        with hub.client(room["facilitator_token"]) as client:
            for k in range(6):
                post_ops(client, rid, *items(5, prefix=f"b{k}-"))
            head = 30
            gone = client.get(f"/v1/rooms/{rid}/ops", params={"since": 0})
            assert gone.status_code == 410 and gone.json()["code"] == "gone"
            assert client.get(f"/v1/rooms/{rid}/ops", params={"since": head + 1}).status_code == 410
            # compacted through 25 (the newest snapshot 5 behind the head); the ring holds 27..30
            assert client.get(f"/v1/rooms/{rid}/ops", params={"since": 24}).status_code == 410
            recent = client.get(f"/v1/rooms/{rid}/ops", params={"since": 25}).json()  # before the ring: replayed
            assert [e["seq"] for e in recent["events"]] == list(range(26, 31))
            assert recent["events"][0]["op"]["args"]["id"] == "b5-0"
            retry = post_ops(client, rid, *items(5, prefix="b0-")).json()  # compacted away, still known
            assert [(r["seq"], r["duplicate"]) for r in retry["results"]] == [(k, True) for k in range(1, 6)]
            snap = client.get(f"/v1/rooms/{rid}/snapshot").json()
            assert snap["seq"] == head and len(snap["state"]["items"]) == 31
            with client.stream("GET", f"/v1/rooms/{rid}/events", headers={"Last-Event-ID": "0"}) as response:
                events = sse_events(response)
                assert next(events).name == "hello"
                first = next(events)
                assert first.id == head and first.data == {"seq": head, "refetch": True}


def test_long_poll_waits_for_the_next_op_and_times_out_empty(hub):
    room = share(hub.url)
    rid = room["room"]
    with hub.client(room["facilitator_token"]) as client:
        started = time.monotonic()
        empty = client.get(f"/v1/rooms/{rid}/ops", params={"since": 0, "wait": 0.3}).json()
        assert empty["events"] == [] and 0.25 < time.monotonic() - started < 3
        got: dict = {}

        def poll():
            got["response"] = client.get(f"/v1/rooms/{rid}/ops", params={"since": 0, "wait": 20}).json()
            got["at"] = time.monotonic()

        poller = threading.Thread(target=poll)
        poller.start()
        time.sleep(0.3)
        with hub.client(room["facilitator_token"]) as other:
            posted = time.monotonic()
            post_ops(other, rid, *items(1))
        poller.join(10)
        assert [e["seq"] for e in got["response"]["events"]] == [1] and got["at"] - posted < 2


# ----------------------------------------------------------------------------- SSE


def test_sse_delivers_every_seq_in_order_and_resumes_from_last_event_id(hub):
    room = share(hub.url)
    rid = room["room"]
    with hub.client(room["facilitator_token"]) as client:
        seen = []
        with client.stream("GET", f"/v1/rooms/{rid}/events") as response:
            events = sse_events(response)
            assert next(events).name == "hello"
            for k in range(4):
                post_ops(client, rid, *items(5, prefix=f"s{k}-"))
            for event in events:
                if event.id is not None:
                    seen.append(event.id)
                if len(seen) == 10:
                    break
        assert seen == list(range(1, 11))
        with client.stream("GET", f"/v1/rooms/{rid}/events", headers={"Last-Event-ID": "10"}) as response:
            for event in sse_events(response):
                if event.id is not None:
                    seen.append(event.id)
                if len(seen) == 20:
                    break
        assert seen == list(range(1, 21))


def test_presence_and_role_events_reach_the_stream(hub):
    room = share(hub.url)
    ben = join(hub.url, room, "Ben")
    rid = room["room"]
    with hub.client(room["facilitator_token"]) as fc, hub.client(ben["token"]) as bc:
        with fc.stream("GET", f"/v1/rooms/{rid}/events") as response:
            events = sse_events(response)
            assert next(events).name == "hello"
            assert bc.post(f"/v1/rooms/{rid}/presence", json={"ready": True}).status_code == 200
            for event in events:
                marks = {p["name"]: (p["here"], p["ready"]) for p in event.data.get("participants", [])}
                if event.name == "presence" and marks.get("Ben") == (True, True):
                    break
            fc.post(f"/v1/rooms/{rid}/facilitator", json={"participant_id": ben["participant_id"]})
            for event in events:
                if event.name == "role":
                    assert event.data["facilitator"]["name"] == "Ben"
                    break


# ----------------------------------------------------------------------------- auth and limits


def test_no_token_or_a_wrong_one_is_401_and_a_metrics_token_is_403_elsewhere(hub):
    room, other = share(hub.url), share(hub.url)
    rid = room["room"]
    assert httpx.get(f"{hub.url}/v1/rooms/{rid}/snapshot").status_code == 401
    nope = httpx.get(f"{hub.url}/v1/rooms/{rid}/snapshot", headers={"Authorization": "Bearer p-x.y"})
    assert nope.status_code == 401 and nope.headers["www-authenticate"] == "Bearer"
    forged = room["facilitator_token"].split(".")[0] + ".wrong"
    assert httpx.get(f"{hub.url}/v1/rooms/{rid}/snapshot", headers={"Authorization": f"Bearer {forged}"}
                     ).status_code == 401
    with hub.client(other["facilitator_token"]) as client:  # a token of another room
        assert client.get(f"/v1/rooms/{rid}/snapshot").status_code == 401
    with hub.client(room["metrics_token"]) as client:
        assert client.get(f"/v1/rooms/{rid}/snapshot").status_code == 403
        assert post_ops(client, rid, *items(1)).status_code == 403


def test_a_body_over_the_limit_is_413_declared_or_streamed(hub):
    room = share(hub.url)
    big = {"client_id": "c", "ops": [op("item.add", id="x", title="t", pad="z" * 1_100_000)]}
    with hub.client(room["facilitator_token"]) as client:
        declared = client.post(f"/v1/rooms/{room['room']}/ops", json=big)
        assert declared.status_code == 413 and declared.json()["code"] == "too_large"

        def chunks():
            data = json.dumps(big).encode()
            for start in range(0, len(data), 65536):
                yield data[start:start + 65536]

        streamed = client.post(f"/v1/rooms/{room['room']}/ops", content=chunks(),
                               headers={"content-type": "application/json"})
        assert streamed.status_code == 413


def test_a_burst_over_the_rate_is_429_with_retry_after_and_streams_are_limited(tmp_path):
    with running_hub(tmp_path / "hub", rate=5, burst=100, streams=2) as hub:
        room = share(hub.url)
        rid = room["room"]
        with hub.client(room["facilitator_token"]) as client:
            assert post_ops(client, rid, *items(100)).status_code == 200
            limited = post_ops(client, rid, *items(10, prefix="j"))
            assert limited.status_code == 429 and int(limited.headers["retry-after"]) >= 1
            with client.stream("GET", f"/v1/rooms/{rid}/events"), client.stream("GET", f"/v1/rooms/{rid}/events"):
                third = client.get(f"/v1/rooms/{rid}/events")
                assert third.status_code == 429
            deadline = time.monotonic() + 10  # closed streams are let go at once, not at the next ping
            while hub.app.state.hub.streams.count(room["participant_id"]):
                assert time.monotonic() < deadline
                time.sleep(0.02)
            with client.stream("GET", f"/v1/rooms/{rid}/events") as again:
                assert again.status_code == 200


# ----------------------------------------------------------------------------- metrics


def test_metric_samples_from_outside_with_a_token(hub):
    room = share(hub.url)
    rid = room["room"]
    follower = Follower(hub.url, rid, room["facilitator_token"]).start()
    try:
        with hub.client(room["metrics_token"]) as client:
            body = {"samples": [{"id": "crm-1", "metric": "calls", "value": 12, "member": "Ben",
                                 "date": "2026-11-30"},
                                {"metric": "Calls", "value": 3},
                                {"metric": "nope", "value": 1}]}
            first = client.post(f"/v1/rooms/{rid}/metrics", json=body).json()
            assert [r.get("seq") for r in first["results"]] == [1, 2, None]
            assert first["results"][2]["error"]["code"] == "not_found"
            retry = client.post(f"/v1/rooms/{rid}/metrics", json={"samples": body["samples"][:1]}).json()
            assert retry["results"] == [{"id": "crm-1", "seq": 1, "duplicate": True}]
        follower.wait_for(2)
        sample = follower.state.samples["crm-1"]
        assert (sample.value, sample.member_id, sample.metric_id) == (12, "ben", "calls")
    finally:
        follower.close()


# ----------------------------------------------------------------------------- five clients


def test_five_clients_see_each_others_changes_and_end_at_their_snapshot(hub):
    """A backlog edit, a standup start and speaker change, retro cards shared and a vote revealed, made by
    several clients, reach the other four; each client's folded state ends equal to its own snapshot."""
    room = share(hub.url, team_state(anonymous=False))
    rid = room["room"]
    people = {"Ana": room["facilitator_token"]}
    for name in ("Ben", "Cai", "Dee", "Eve"):
        people[name] = join(hub.url, room, name)["token"]
    followers = {name: Follower(hub.url, rid, token).start() for name, token in people.items()}
    clients = {name: hub.client(token) for name, token in people.items()}
    try:
        post_ops(clients["Ben"], rid, op("item.update", id="i1", status="doing", estimate="3"))
        post_ops(clients["Ana"], rid, op("standup.start", id="st", order=["ana", "ben", "cai"], at=0))
        post_ops(clients["Cai"], rid, op("standup.note", id="st", member_id="cai", today="Cai's draft"))
        post_ops(clients["Ana"], rid, op("standup.turn", id="st", action="next", expect=0, at=30))
        post_ops(clients["Dee"], rid, op("retro.card", retro_id="r1", id="c1", column="Went well", text="Dee's"))
        post_ops(clients["Eve"], rid, op("retro.card", retro_id="r1", id="c2", column="To improve", text="Eve's"))
        post_ops(clients["Ana"], rid, op("retro.phase", retro_id="r1", action="next", force=True, at=60),
                 op("retro.phase", retro_id="r1", action="next", force=True, at=61))
        post_ops(clients["Cai"], rid, op("retro.vote", retro_id="r1", topic_id="c1", count=2))
        head = post_ops(clients["Ana"], rid, op("retro.reveal", retro_id="r1")).json()["head"]
        for name, follower in followers.items():
            follower.wait_for(head)
            state = follower.state
            assert state.items["i1"].status == "doing" and state.standups["st"].current == 1
            assert {c.text for c in state.retros["r1"].cards} == {"Dee's", "Eve's"}
            assert [(v.member_id, v.topic_id, v.count) for v in state.retros["r1"].votes] == [("cai", "c1", 2)]
            mine = clients[name].get(f"/v1/rooms/{rid}/snapshot").json()
            assert mine["seq"] == head and State.from_dict(mine["state"]).content() == state.content(), name
            assert follower.seqs == list(range(follower.seqs[0], head + 1))
        assert "Cai's draft" not in json.dumps(followers["Ana"].state.to_dict())  # Cai has not spoken yet
    finally:
        for follower in followers.values():
            follower.close()
        for client in clients.values():
            client.close()
