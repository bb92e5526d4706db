"""Chaos, bounded: writers and subscribers keep going while the hub (`agile-tui serve`, a real subprocess) is
killed with SIGKILL and started again, several times. Afterwards no acknowledged op is lost or applied twice,
and every subscriber was sent every seq exactly once, in order. Bounded: a fixed number of ops and kills, each
wait with a deadline; about 20-40 s on a 2-core machine."""

from __future__ import annotations

import json
import random
import threading
import time

import httpx
import pytest

from .hubkit import Follower, HubProcess, free_port, join, op, share

WRITERS = 3
MIN_OPS = 30  # per writer; they write on until the kills are over
KILLS = 10
LOTS = 6


def writer(url: str, room: str, token: str, name: str, acked: dict, done: threading.Event, retries: list,
           rng: random.Random) -> None:
    """Posts new ops in small batches until the kills are over (and at least MIN_OPS); a batch whose answer did not
    come is sent again as it was (same op ids) until it is acknowledged."""
    k = 0
    with httpx.Client(base_url=url, headers={"Authorization": f"Bearer {token}"},
                      timeout=httpx.Timeout(5, connect=1)) as client:
        while not done.is_set() or k < MIN_OPS:
            batch = []
            for _ in range(rng.randint(1, 5)):
                if k % 2:
                    batch.append(op("standup.park", f"{name}-{k}", id=f"st-{name}-{k // 300}", text=f"park {name} {k}"))
                else:
                    batch.append(op("item.add", f"{name}-{k}", id=f"{name}-{k}", title=f"{name} {k}"))
                k += 1
            while True:
                try:
                    response = client.post(f"/v1/rooms/{room}/ops", json={"client_id": name, "ops": batch})
                    if response.status_code == 200:
                        break
                except httpx.TransportError:
                    pass
                retries.append(name)
                time.sleep(0.05)
            for result in response.json()["results"]:
                assert "error" not in result, result
                acked.setdefault(result["op_id"], set()).add(result["seq"])
            time.sleep(rng.random() * 0.05)


@pytest.mark.serial
@pytest.mark.chaos
def test_kill_9_during_writes_loses_nothing_and_doubles_nothing(tmp_path):
    started = time.monotonic()
    rng = random.Random(6)
    hub = HubProcess(tmp_path, free_port(), "--rate", "100000")
    startups = [hub.start()]
    followers: list[Follower] = []
    try:
        room = share(hub.url)
        rid = room["room"]
        with httpx.Client(base_url=hub.url, headers={"Authorization": f"Bearer {room['facilitator_token']}"}) as fc:
            records = [op("standup.record", id=f"st-w{n}-{p}", date="2026-11-30") for n in range(WRITERS)
                       for p in range(LOTS)]  # parking lots hold 200 topics: a new lot every 150
            assert fc.post(f"/v1/rooms/{rid}/ops", json={"ops": records}).json()["head"] == WRITERS * LOTS
        tokens = [join(hub.url, room, f"W{n}")["token"] for n in range(WRITERS)]  # seqs 2.. (member.add)
        followers = [Follower(hub.url, rid, room["facilitator_token"]).start(),
                     Follower(hub.url, rid, tokens[0]).start()]
        acked: dict[str, set[int]] = {}
        done = threading.Event()
        retries: list[str] = []
        threads = [threading.Thread(target=writer, args=(hub.url, rid, token, f"w{n}", acked, done, retries,
                                                         random.Random(n)), daemon=True)
                   for n, token in enumerate(tokens)]
        for thread in threads:
            thread.start()
        for _ in range(KILLS):
            time.sleep(0.2 + rng.random() * 0.5)
            hub.kill()
            time.sleep(rng.random() * 0.2)
            startups.append(hub.start())
        done.set()
        for thread in threads:
            thread.join(max(1.0, 45 - (time.monotonic() - started)))
        assert not any(t.is_alive() for t in threads), "writers did not finish in time"
        assert len(retries) >= KILLS  # the kills did land in the middle of the writing
        assert len(acked) >= WRITERS * MIN_OPS and all(len(seqs) == 1 for seqs in acked.values())

        with httpx.Client(base_url=hub.url, headers={"Authorization": f"Bearer {room['facilitator_token']}"}) as fc:
            events, more = [], True
            while more:
                page = fc.get(f"/v1/rooms/{rid}/ops", params={"since": len(events), "limit": 1000}).json()
                events, more = events + page["events"], page["more"]
            snap = fc.get(f"/v1/rooms/{rid}/snapshot").json()
        head = snap["seq"]
        by_id = {}
        for event in events:
            assert event["op"]["op_id"] not in by_id, "an op is in the log twice"
            by_id[event["op"]["op_id"]] = event["seq"]
        assert [e["seq"] for e in events] == list(range(1, head + 1))
        assert all(by_id[op_id] == next(iter(seqs)) for op_id, seqs in acked.items())
        parking = [t for s in snap["state"]["standups"].values() for t in s["parking"]]
        parked = sum(1 for op_id in acked if int(op_id.split("-")[1]) % 2)
        assert len(parking) == len(set(parking)) == parked  # every acknowledged topic parked, none twice
        for follower in followers:
            follower.wait_for(head, timeout=max(5.0, 58 - (time.monotonic() - started)))
            assert follower.sent[0] >= 1 and follower.sent == list(range(follower.sent[0], head + 1))
            assert follower.seqs == follower.sent
        assert json.dumps(followers[0].state.content(), sort_keys=True) == json.dumps(
            {k: v for k, v in snap["state"].items() if k not in ("undo", "redo")}, sort_keys=True)
        print(f"chaos: {head} ops, {KILLS} kills, {len(retries)} retried posts, hub start-ups "
              f"{[round(s, 2) for s in startups]} s, reconnects {[f.reconnects for f in followers]}, "
              f"{time.monotonic() - started:.1f} s")
        assert time.monotonic() - started < 60
    finally:
        for follower in followers:
            follower.close()
        hub.kill()
