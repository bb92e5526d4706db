"""The commands that link this machine's rooms to a hub: `share`, `join`, `invite`, and opening a shared room
(`agile-tui --room R` on a room that was shared or joined reconnects to its hub)."""

from __future__ import annotations

import getpass
import os
import sys
from pathlib import Path

from .cli import _fail

TOKEN_ENV = "AGILE_TUI_HUB_TOKEN"  # a participant token given by whoever starts this client (the SSH server)


def _user_name() -> str:
    try:
        return getpass.getuser() or "facilitator"
    except (KeyError, OSError):
        return "facilitator"


def add_parsers(sub, common) -> None:
    share = sub.add_parser("share", parents=[common], help="publish a room to a hub and print the invite")
    share.add_argument("--server", required=True, metavar="URL",
                       help="the hub, e.g. http://127.0.0.1:8765 (or unix:PATH for `serve --uds PATH`)")
    share.add_argument("--name", help="your name in the room (default: your user name; a member of that name is "
                                      "you)")
    join = sub.add_parser("join", parents=[common], help="open a room that someone shared, from their invite")
    join.add_argument("url", metavar="URL", help="the invite: http://HOST:PORT/join/ROOM/INVITE")
    join.add_argument("--name", help="your name in the room (default: your user name)")
    join.add_argument("--no-open", action="store_true", help="join and remember the room, but do not open the app")
    sub.add_parser("invite", parents=[common], help="print the invite of a room you shared")


def cmd_share(args) -> int:
    from .config import Memory, data_dir
    from .store import RoomLocked, RoomStore
    from .sync.client import HubClient, HubRefused, HubUnreachable
    from .sync.local import HubLink, read_link, write_link

    folder = data_dir(args.data_dir)
    memory = Memory.load(folder)
    room = args.room or memory.last_room or "demo"
    server = hub_url(args.server)
    try:
        link = read_link(folder, room)
    except ValueError as error:
        return _fail(str(error))
    if link is not None:
        print(f"Room {room!r} is already shared on {link.server} (room {link.room}).")
        return _print_invite(room, link)
    try:
        store = RoomStore.open(folder, room)
    except RoomLocked as locked:
        return _fail(f"{locked} Sharing needs the room to itself: close it, share, then open it again.")
    except (ValueError, OSError) as error:
        return _fail(str(error))
    try:
        if store.seq == 0:
            return _fail(f"Room {room!r} has nothing in it yet: open it once (agile-tui --room={room}) first.")
        name = (args.name or _user_name()).strip()
        try:
            created = HubClient(server).create_room(store.state.to_dict(), name)
            link = HubLink(server, created["room"], created["facilitator_token"], created["participant_id"],
                           created["member_id"], name, "facilitator", invite=created["invite_token"],
                           metrics_token=created["metrics_token"])
            write_link(folder, room, link)
            _first_copy(folder, room, link)
        except HubUnreachable as error:
            return _fail(str(error))
        except HubRefused as refusal:
            return _fail(f"The hub refused to share the room: {refusal.reason}")
        except OSError as error:
            return _fail(f"The room was shared, but its link could not be saved here: {error}")
    finally:
        store.close()
    print(f"Shared room {room!r} on {server} as room {link.room}; you are its facilitator ({name}).")
    print(f"Open it with `agile-tui --room={room}` (it reconnects to the hub from now on).")
    return _print_invite(room, link)


def hub_url(server: str) -> str:
    """``--server``: a URL, or ``unix:PATH`` for a hub on a Unix socket (`agile-tui serve --uds PATH`)."""
    from .sync.client import unix_server

    server = server.strip().rstrip("/")
    if server.startswith("unix:"):
        return unix_server(str(Path(server[len("unix:"):]).expanduser().resolve()))
    return server


def _print_invite(room: str, link) -> int:
    if not link.invite:
        return _fail(f"Room {room!r} was joined, not shared, here: ask its facilitator for the invite.")
    print("Send your team this line:")
    print(f"  agile-tui join {link.invite_url()}")
    if link.metrics_token:
        print(f"Metrics API token (for scripts and CRM hooks): {link.metrics_token}")
    return 0


def cmd_invite(args) -> int:
    from .config import Memory, data_dir
    from .sync.local import read_link

    folder = data_dir(args.data_dir)
    room = args.room or Memory.load(folder).last_room or "demo"
    try:
        link = read_link(folder, room)
    except ValueError as error:
        return _fail(str(error))
    if link is None:
        return _fail(f"Room {room!r} is not shared. `agile-tui share --room {room} --server URL` shares it.")
    return _print_invite(room, link)


def _first_copy(folder: Path, room: str, link) -> None:
    """The room as the hub shows it to us, saved before the app opens (so it opens even offline)."""
    from .domain import State
    from .sync.client import HubClient
    from .sync.local import Confirmed, shared_dir, write_confirmed

    client = HubClient(link.server, link.token)
    try:
        snap = client.snapshot(link.room)
    finally:
        client.close()
    from .sync.local import read_confirmed

    here = shared_dir(folder, room)
    before = read_confirmed(here, [], writable=False)  # (its refused changes stay refused: never resent)
    write_confirmed(here, Confirmed(int(snap["seq"]), State.from_dict(snap["state"]),
                                    dict(snap.get("hidden") or {}), list(snap.get("participants") or []),
                                    before.refused if before else []))


def cmd_join(args) -> int:
    from .config import Memory, data_dir
    from .store.paths import validate_room_name
    from .sync.client import HubClient, HubRefused, HubUnreachable
    from .sync.local import BadInvite, HubLink, find_link, parse_invite, read_link, write_link

    try:
        invite = parse_invite(args.url)
    except BadInvite as error:
        return _fail(str(error), 2)
    folder = data_dir(args.data_dir)
    memory = Memory.load(folder)
    token = os.environ.get(TOKEN_ENV, "").strip()
    room = find_link(folder, invite.server, invite.room)
    try:
        if room is not None and not token:  # joined before from here: open it again (the same member)
            link = read_link(folder, room)
            if link is not None and args.name and args.name.strip().casefold() != link.name.casefold():
                return _fail(f"This data folder joined that room as {link.name}. To join as {args.name.strip()}, "
                             "use your own data folder (--data-dir DIR, or your own account).")
            if link is not None and link.server != invite.server:  # the hub moved (or is spelt another way)
                link.server = invite.server
                write_link(folder, room, link)
        else:
            room = validate_room_name(args.room or room or local_name(invite.room))
            existing = read_link(folder, room)
            if existing is not None and existing.room != invite.room:
                return _fail(f"Room {room!r} here is linked to another hub room; choose a name with --room.")
            if token:
                snap = HubClient(invite.server, token).snapshot(invite.room)
                me = snap["me"]
                link = existing or HubLink(invite.server, invite.room, token, me["participant_id"],
                                           me.get("member_id") or "", me["name"], me["role"])
                link.token, link.role, link.server = token, me["role"], invite.server
            elif not invite.token:
                return _fail("That link has no invite in it: it should end in /join/ROOM/INVITE.", 2)
            else:
                name = (args.name or _user_name()).strip()
                joined = HubClient(invite.server).join(invite.room, invite.token, name)
                link = HubLink(invite.server, invite.room, joined["token"], joined["participant_id"],
                               joined.get("member_id") or "", joined["name"], joined["role"])
            write_link(folder, room, link)
            _first_copy(folder, room, link)
    except ValueError as error:
        return _fail(str(error))
    except HubUnreachable as error:
        return _fail(str(error))
    except HubRefused as refusal:
        return _fail(f"The hub refused: {refusal.reason}")
    except OSError as error:
        return _fail(f"The room could not be saved here: {error}")
    memory.last_room = room
    try:
        memory.save()
    except OSError:
        pass
    if args.no_open:
        print(f"Joined: open it with `agile-tui --room={room}`.")
        return 0
    # Start again as `agile-tui --room=R`: the invite must not stay in this process's arguments (`ps` shows
    # them to everyone on the machine) for as long as the app runs.
    command = [sys.executable, "-m", "agile_tui", f"--room={room}"]
    if args.data_dir:
        command.append(f"--data-dir={args.data_dir}")
    sys.stdout.flush()
    sys.stderr.flush()
    os.environ.pop(TOKEN_ENV, None)  # (it is in the link now; the app needs it nowhere else)
    os.execv(sys.executable, command)
    return 0  # pragma: no cover - execv does not return


def local_name(hub_room: str) -> str:
    """The name here of a joined room: the hub's room id (one starting with "-" would read as an option)."""
    return "r" + hub_room if hub_room.startswith("-") else hub_room


def open_shared(folder: Path, room: str, memory) -> int:
    """Run the app on a shared room: the confirmed copy and the outbox at once, then the hub when it answers."""
    from .config import config_dir
    from .domain import SystemClock
    from .store import RoomLocked
    from .sync.local import SharedFiles
    from .sync.session import SharedSession

    try:
        files = SharedFiles(folder, room)
    except RoomLocked as locked:
        return _fail(str(locked))
    except (ValueError, OSError) as error:
        return _fail(str(error))
    session = SharedSession(files, clock=SystemClock())
    try:
        memory.last_room = room
        try:
            memory.save()
        except OSError:
            pass
        from .ui.app import make_app

        app = make_app(session, memory=memory, config_dir=config_dir(), problems=session.problems)
        app.run()
    finally:
        session.close()
        _report_after(session)
    return app.return_code or 0


def _report_after(session) -> None:
    """What the app could not show any more: refusals that came while it closed, changes not saved."""
    from .ui.shared_room import refusal_text

    for note in session.take_unseen():
        print(f"agile-tui: {refusal_text(note) if note.kind == 'refused' else note.text}", file=sys.stderr)
    waiting = len(session.replica.pending)
    if waiting and not session.unsaved:
        print(f"agile-tui: {waiting} change(s) are saved here and wait for the hub; they are sent the next time "
              "this room is opened.", file=sys.stderr)
    if session.unsaved:
        print(f"agile-tui: {session.unsaved} change(s) could not be saved to {session.files.folder}: "
              f"{session.last_error or 'the disk refused them'}", file=sys.stderr)
