"""The client side of a shared room against a real hub on 127.0.0.1: share and join from the command line,
live changes both ways, roles, refusals that do not block, offline edits that arrive exactly once (also across
a client restart), a wrong token, and the exports."""

from __future__ import annotations

import json

import httpx
import pytest

from agile_tui.cli import main as cli
from agile_tui.domain import State
from agile_tui.domain.errors import Forbidden
from agile_tui.domain.report import to_json
from agile_tui.sync.local import SharedFiles, parse_invite, read_link, write_link
from agile_tui.sync.session import SharedSession

from .hubkit import HubProcess, free_port, running_hub
from .syncit import join_room, live, open_session, settled, share_room, wait_for


def hub_view(url: str, room: str, token: str) -> State:
    got = httpx.get(f"{url}/v1/rooms/{room}/snapshot", headers={"Authorization": f"Bearer {token}"}, timeout=10)
    assert got.status_code == 200, got.text
    return State.from_dict(got.json()["state"])


def test_share_then_join_prints_an_invite_and_both_see_each_others_changes(tmp_path, capsys):
    with running_hub(tmp_path / "hub") as hub:
        invite = share_room(hub.url, tmp_path / "ana")
        out = capsys.readouterr().out
        assert f"agile-tui join {invite}" in out and "facilitator" in out
        parsed = parse_invite(invite)
        assert parsed.server == hub.url and parsed.token
        room_b = join_room(invite, tmp_path / "ben", "Ben")
        ana, ben = open_session(tmp_path / "ana", "team"), open_session(tmp_path / "ben", room_b)
        try:
            live(ana, ben)
            assert ana.role == "facilitator" and ben.role == "participant"
            assert ben.actor == "ben"  # joined under a team member's name: that member
            ana.submit("item.add", id="x1", title="Call 王芳 🎉 [bold]")
            wait_for(lambda: "x1" in ben.state.items, what="Ana's item at Ben")
            assert ben.state.items["x1"].title == "Call 王芳 🎉 [bold]"
            ben.submit("item.update", id="x1", status="doing")
            wait_for(lambda: ana.state.items["x1"].status == "doing", what="Ben's edit at Ana")
            settled(ana, ben)
            link_a, link_b = read_link(tmp_path / "ana", "team"), read_link(tmp_path / "ben", room_b)
            for s, link in ((ana, link_a), (ben, link_b)):
                assert to_json(s.state, 0) == to_json(hub_view(hub.url, link.room, link.token), 0)
        finally:
            ana.close()
            ben.close()
        # the exports read the saved copy (and the outbox) of a shared room
        capsys.readouterr()
        assert cli(["export", "--format", "json", "--data-dir", str(tmp_path / "ben"), "--room", room_b]) == 0
        exported = json.loads(capsys.readouterr().out)
        assert exported["items"]["x1"]["status"] == "doing"


def test_a_participant_cannot_run_the_flow_and_a_refused_op_does_not_block_the_next(tmp_path):
    with running_hub(tmp_path / "hub") as hub:
        invite = share_room(hub.url, tmp_path / "ana")
        room_b = join_room(invite, tmp_path / "ben", "Ben")
        ana, ben = open_session(tmp_path / "ana", "team"), open_session(tmp_path / "ben", room_b)
        notes = []
        ben.listener = notes.append
        try:
            live(ana, ben)
            assert not ben.may("standup.start") and ben.may("item.add") and ana.may("standup.start")
            with pytest.raises(Forbidden, match="facilitator"):
                ben.submit("sprint.close", id="s1")
            # Two edits race: Ana deletes an item while Ben, who has not heard of it yet, edits it; then Ben
            # adds another. The hub refuses the edit (Ben is told why) and still takes the add after it.
            ben.close()
            ben = SharedSession(SharedFiles(tmp_path / "ben", room_b), start=False)
            ben.listener = notes.append
            ben.start(follow=False)
            ana.submit("item.delete", id="i1")
            assert ana.wait_sent(5)
            ben.submit("item.update", id="i1", title="Call Acme today")
            ben.submit("item.add", id="b2", title="After the refused one")
            wait_for(lambda: "b2" in ana.state.items, what="Ben's later op at Ana")
            wait_for(lambda: any(n.kind == "refused" for n in notes), what="the refusal at Ben")
            refused = next(n for n in notes if n.kind == "refused")
            assert refused.op.type == "item.update" and "i1" in refused.text
            ben.follow()
            settled(ana, ben)
            assert "i1" not in ben.state.items and "i1" not in ana.state.items and "b2" in ben.state.items
        finally:
            ana.close()
            ben.close()


def test_edits_made_while_the_hub_is_down_arrive_once_even_across_a_client_restart(tmp_path):
    port = free_port()
    (tmp_path / "hub").mkdir()
    hub = HubProcess(tmp_path / "hub", port)
    hub.start()
    try:
        invite = share_room(hub.url, tmp_path / "ana")
        room_b = join_room(invite, tmp_path / "ben", "Ben")
        ana, ben = open_session(tmp_path / "ana", "team"), open_session(tmp_path / "ben", room_b)
        live(ana, ben)
        hub.kill()
        wait_for(lambda: ben.connection.status in ("reconnecting", "offline"), what="Ben to notice")
        for n in range(5):
            ben.submit("item.add", id=f"off{n}", title=f"Offline {n}")
        ben.flush()
        assert ben.connection.waiting == 5 and "waiting" in ben.connection.label()
        ben.close()  # quit while offline: the outbox keeps them
        ben = open_session(tmp_path / "ben", room_b)
        assert all(f"off{n}" in ben.state.items for n in range(5))  # shown at once, from the outbox
        ben.submit("item.add", id="off5", title="Offline 5, after the restart")
        hub.start()
        live(ana, ben)
        settled(ana, ben)
        titles = [i.title for i in ana.state.items.values() if i.title.startswith("Offline")]
        assert sorted(titles) == sorted([f"Offline {n}" for n in range(5)] + ["Offline 5, after the restart"])
        link = read_link(tmp_path / "ben", room_b)
        log = httpx.get(f"{hub.url}/v1/rooms/{link.room}/ops", params={"since": 0, "limit": 1000},
                        headers={"Authorization": f"Bearer {link.token}"}, timeout=10).json()
        added = [e["op"]["args"]["id"] for e in log["events"] if e.get("op", {}).get("type") == "item.add"]
        assert sorted(a for a in added if a.startswith("off")) == [f"off{n}" for n in range(6)]  # once each
        ana.close()
        ben.close()
    finally:
        hub.kill()


def test_a_wrong_token_stops_the_sync_with_a_clear_reason_and_keeps_the_changes(tmp_path):
    with running_hub(tmp_path / "hub") as hub:
        invite = share_room(hub.url, tmp_path / "ana")
        room_b = join_room(invite, tmp_path / "ben", "Ben")
        link = read_link(tmp_path / "ben", room_b)
        link.token = link.participant_id + ".not-the-secret"
        write_link(tmp_path / "ben", room_b, link)
        ben = open_session(tmp_path / "ben", room_b)
        try:
            wait_for(lambda: ben.connection.status == "stopped", what="the refusal")
            assert "token" in ben.connection.detail
            ben.submit("item.add", id="kept", title="Typed while refused")
            ben.flush()
        finally:
            ben.close()
        reopened = open_session(tmp_path / "ben", room_b)
        try:
            assert "kept" in reopened.state.items
        finally:
            reopened.close()


def test_join_and_share_say_plainly_what_went_wrong(tmp_path, capsys):
    assert cli(["join", "not a url", "--data-dir", str(tmp_path)]) == 2
    assert "not an invite" in capsys.readouterr().err
    port = free_port()
    assert cli(["join", f"http://127.0.0.1:{port}/join/room1/secret", "--data-dir", str(tmp_path), "--no-open"]) == 1
    assert "cannot be reached" in capsys.readouterr().err
    with running_hub(tmp_path / "hub") as hub:
        invite = share_room(hub.url, tmp_path / "ana")
        capsys.readouterr()
        assert cli(["join", invite + "x", "--name", "Ben", "--data-dir", str(tmp_path / "b"), "--no-open"]) == 1
        assert "invite is not valid" in capsys.readouterr().err
        assert cli(["import", "backlog", str(tmp_path / "x.csv"), "--data-dir", str(tmp_path / "ana"),
                    "--room", "team"]) == 1
        assert "shared on a hub" in capsys.readouterr().err


def test_a_hub_on_a_unix_socket_is_shared_and_joined_the_same_way(tmp_path):
    import threading
    import time

    from agile_tui.server.app import create_app
    from agile_tui.server.serve import bind_unix, hub_server

    path = tmp_path / "hub.sock"
    sock = bind_unix(path)
    server = hub_server(create_app(tmp_path / "hub"), log_level="warning", access_log=False)
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True)
    thread.start()
    while not server.started:
        time.sleep(0.01)
    try:
        invite = share_room(f"unix:{path}", tmp_path / "ana")
        assert invite.startswith("http+unix://") and parse_invite(invite).token
        room_b = join_room(invite, tmp_path / "ben", "Ben")
        ana, ben = open_session(tmp_path / "ana", "team"), open_session(tmp_path / "ben", room_b)
        try:
            live(ana, ben)
            ana.submit("item.add", id="u1", title="Over the socket")
            wait_for(lambda: "u1" in ben.state.items, what="the item at Ben")
        finally:
            ana.close()
            ben.close()
    finally:
        server.stop()
        thread.join(15)


def test_a_refused_change_is_never_sent_again_and_is_reported_even_before_the_app_shows(tmp_path):
    with running_hub(tmp_path / "hub") as hub:
        invite = share_room(hub.url, tmp_path / "ana")
        room_b = join_room(invite, tmp_path / "ben", "Ben")
        ana = open_session(tmp_path / "ana", "team")
        ben = SharedSession(SharedFiles(tmp_path / "ben", room_b), start=False)
        ben.start(follow=False)  # Ben does not hear of Ana's delete before his edit
        try:
            live(ana)
            ana.submit("item.delete", id="i1")
            assert ana.wait_sent(5)
            ben.submit("item.update", id="i1", title="Refused edit")
            wait_for(lambda: any(n.kind == "refused" for n in ben.unseen), what="the refusal")
            ben.flush()
        finally:
            ben.close()
        notes = ben.take_unseen()  # nobody listened: kept for whoever shows them (the app, or stderr after)
        assert [n.op.type for n in notes if n.kind == "refused"] == ["item.update"]
        ana.submit("item.add", id="i1", title="Added again by Ana")
        assert ana.wait_sent(5)
        again = open_session(tmp_path / "ben", room_b)
        try:
            assert not any(p.op.args.get("title") == "Refused edit" for p in again.replica.pending)
            live(again, ana)
            settled(again, ana)
            assert ana.state.items["i1"].title == "Added again by Ana"
        finally:
            again.close()
            ana.close()


def test_a_server_that_is_not_the_hub_never_makes_a_change_count_as_refused(tmp_path):
    """A proxy answering 403 with a web page, then a captive portal answering 200 with one: the change waits."""
    import threading
    from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

    codes = iter([403, 200] * 1000)
    posts: list[int] = []  # the ops posts the portal answered

    class Proxy(BaseHTTPRequestHandler):
        def do_GET(self):  # noqa: N802
            self._page()

        def do_POST(self):  # noqa: N802
            self.rfile.read(int(self.headers.get("Content-Length") or 0))
            self._page()
            posts.append(1)

        def _page(self):
            body = b"<html>Sign in to the guest Wi-Fi</html>"
            self.send_response(next(codes))
            self.send_header("Content-Type", "text/html")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args):
            pass

    with running_hub(tmp_path / "hub") as hub:
        invite = share_room(hub.url, tmp_path / "ana")
        room_b = join_room(invite, tmp_path / "ben", "Ben")
    proxy = ThreadingHTTPServer(("127.0.0.1", 0), Proxy)
    threading.Thread(target=proxy.serve_forever, daemon=True).start()
    try:
        link = read_link(tmp_path / "ben", room_b)
        link.server = f"http://127.0.0.1:{proxy.server_address[1]}"
        write_link(tmp_path / "ben", room_b, link)
        ben = open_session(tmp_path / "ben", room_b)
        try:
            ben.submit("item.add", id="w1", title="Typed behind the portal")
            ben.flush()
            wait_for(lambda: ben.connection.status in ("reconnecting", "offline"), what="no hub")
            wait_for(lambda: len(posts) >= 3, what="a few tries against the portal")  # a 403 page and a 200 one
            assert [p.op.args["id"] for p in ben.replica.pending] == ["w1"]
            assert not any(n.kind == "refused" for n in ben.unseen)
            assert "agile-tui hub" in ben.connection.detail
        finally:
            ben.close()
    finally:
        proxy.shutdown()


def test_a_damaged_link_or_outbox_gets_a_clear_message_and_a_kept_copy(tmp_path, capsys):
    with running_hub(tmp_path / "hub") as hub:
        invite = share_room(hub.url, tmp_path / "ana")
        room_b = join_room(invite, tmp_path / "ben", "Ben")
        ben = SharedSession(SharedFiles(tmp_path / "ben", room_b), start=False)
        ben.start(follow=False)
        ben._stop.set()  # noqa: SLF001 - keep the ops in the outbox: nothing is sent
        for n in range(3):
            ben.submit("item.add", id=f"o{n}", title=f"Outbox {n}")
        ben.flush()
        ben._stop.clear()  # noqa: SLF001
        ben.close(send_for=0)
    folder = tmp_path / "ben" / "shared" / room_b
    lines = (folder / "outbox.journal").read_bytes().splitlines(keepends=True)
    assert len(lines) == 3
    (folder / "outbox.journal").write_bytes(lines[0] + b'{"seq": 2, "op": {broken\n' + lines[2])
    files = SharedFiles(tmp_path / "ben", room_b)
    try:
        assert [p.op.args["id"] for p in files.pending] == ["o0"]
        assert any("kept as" in problem for problem in files.problems)
        copies = [p for p in folder.iterdir() if p.name.startswith("outbox.journal.")]
        assert copies and b"Outbox 2" in copies[0].read_bytes()
    finally:
        files.close()
    (folder / "link.json").write_text("[]", encoding="utf-8")
    capsys.readouterr()
    assert cli(["--room", room_b, "--data-dir", str(tmp_path / "ben")]) == 1
    assert "not a hub link" in capsys.readouterr().err
