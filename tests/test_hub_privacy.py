"""Privacy over the wire: before they are shared or revealed, no byte a participant receives from the hub (the
snapshot, GET ops, the SSE stream, the answers to their own posts) holds another's retro card text, the author of
an anonymous card, another's vote choice, or another's draft standup note. The facilitator is a participant like
any other here. Checked on everything received, then shown to change once the reveal comes (so the checks
can see what they look for)."""

from __future__ import annotations

import json

from .hubkit import Follower, join, op, running_hub, share


def votes_by(member: str, data) -> list:
    """Every vote of ``member`` (a Vote dict, or a retro.vote op by them) anywhere in a JSON value."""
    found = []
    if isinstance(data, dict):
        if data.get("member_id") == member and "topic_id" in data and "count" in data:
            found.append(data)
        if data.get("type") == "retro.vote" and (data.get("actor") == member or
                                                 data.get("args", {}).get("member_id") == member):
            found.append(data)
        for value in data.values():
            found += votes_by(member, value)
    elif isinstance(data, list):
        for value in data:
            found += votes_by(member, value)
    return found


def authored_by(member: str, data) -> list:
    """Cards naming ``member`` as author, and card ops by them, anywhere in a JSON value."""
    found = []
    if isinstance(data, dict):
        if data.get("author") == member and "text" in data:
            found.append(data)
        if data.get("type") in ("retro.card", "retro.card_update") and data.get("actor") == member:
            found.append(data)
        for value in data.values():
            found += authored_by(member, value)
    elif isinstance(data, list):
        for value in data:
            found += authored_by(member, value)
    return found


def received(follower: Follower, client, room: str) -> list:
    """All a participant has received: their stream and snapshots, plus a fresh GET ops and snapshot."""
    follower.raw.append(client.get(f"/v1/rooms/{room}/ops", params={"since": 0}).text)
    follower.raw.append(client.get(f"/v1/rooms/{room}/snapshot").text)
    out = []
    for chunk in follower.raw:
        text = chunk[len("data: "):] if chunk.startswith("data: ") else chunk
        if text.startswith("{"):
            out.append(json.loads(text))
    return out


def test_no_byte_a_participant_receives_holds_what_is_not_theirs_to_see(tmp_path):
    with running_hub(tmp_path / "hub") as hub:
        room = share(hub.url)  # Ana shares and facilitates; the retro r1 is anonymous and in reflect
        rid = room["room"]
        ben, cai = join(hub.url, room, "Ben"), join(hub.url, room, "Cai")
        fc, bc, cc = hub.client(room["facilitator_token"]), hub.client(ben["token"]), hub.client(cai["token"])
        watchers = {"Ana": (Follower(hub.url, rid, room["facilitator_token"]).start(), fc),
                    "Cai": (Follower(hub.url, rid, cai["token"]).start(), cc)}
        answers = []  # what Ana and Cai got back from their own posts

        def post(client, *ops, mine=False):
            response = client.post(f"/v1/rooms/{rid}/ops", json={"client_id": "t", "ops": list(ops)})
            assert response.status_code == 200, response.text
            if mine:
                answers.append(response.text)
            return response.json()["head"]

        def sync(head):
            for follower, _ in watchers.values():
                follower.wait_for(head)

        try:
            post(bc, op("retro.card", retro_id="r1", id="cb", column="Went well", text="BEN-SECRET-CARD"))
            post(cc, op("retro.card", retro_id="r1", id="cc", column="Went well", text="cai-card"), mine=True)
            post(fc, op("standup.start", id="st", order=["ana", "cai", "ben"], at=0), mine=True)
            head = post(bc, op("standup.note", id="st", member_id="ben", today="BEN-DRAFT-NOTE"))
            sync(head)
            for name, (follower, client) in watchers.items():
                everything = json.dumps(received(follower, client, rid)) + "".join(answers)
                assert "BEN-SECRET-CARD" not in everything and "BEN-DRAFT-NOTE" not in everything, name
                assert authored_by("ben", received(follower, client, rid)) == [], name
            assert '"cards":{"ben":1}' in "".join(watchers["Cai"][0].raw)  # who has written: counted

            post(fc, op("retro.phase", retro_id="r1", action="next", force=True, at=5), mine=True)  # group
            post(fc, op("retro.phase", retro_id="r1", action="next", force=True, at=6), mine=True)  # vote
            post(bc, op("retro.vote", retro_id="r1", topic_id="cc", count=2))
            post(bc, op("retro.vote", retro_id="r1", votes={"cc": 1, "cb": 1}))
            post(bc, op("retro.ready", retro_id="r1"))
            head = post(cc, op("retro.vote", retro_id="r1", topic_id="cb", count=1), mine=True)
            sync(head)
            for name, (follower, client) in watchers.items():
                data = received(follower, client, rid)
                assert votes_by("ben", data) == [] and votes_by("ben", [json.loads(a) for a in answers]) == []
                assert authored_by("ben", data) == [], name  # anonymous: shared, but nobody's
                assert "BEN-SECRET-CARD" in json.dumps(data), name  # shared since the group phase
                assert follower.state.retros["r1"].ready == ("ben",)  # the tick shows
            assert votes_by("cai", received(*watchers["Cai"], rid))  # one's own vote shows
            facilitator_view = json.loads(fc.get(f"/v1/rooms/{rid}/snapshot").text)["hidden"]["r1"]
            assert facilitator_view["votes_used"] == {"ben": 2, "cai": 1} and facilitator_view["votes_cast"] == 3

            head = post(fc, op("retro.reveal", retro_id="r1"), mine=True)
            sync(head)
            for name, (follower, _) in watchers.items():
                assert len(votes_by("ben", follower.state.to_dict())) == 2, name  # revealed: now they show
                assert "BEN-DRAFT-NOTE" not in json.dumps(follower.state.to_dict())
            head = post(fc, op("standup.turn", id="st", action="next", at=30), mine=True)
            head = post(fc, op("standup.turn", id="st", action="next", at=60), mine=True)  # Ben's turn
            sync(head)
            for name, (follower, _) in watchers.items():  # Ben's turn has started: his notes are public
                assert any(u.today == "BEN-DRAFT-NOTE" for u in follower.state.standups["st"].updates), name
                assert authored_by("ben", follower.state.to_dict()) == []
        finally:
            for follower, client in watchers.values():
                follower.close()
                client.close()
            bc.close()
