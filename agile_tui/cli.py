"""The `agile-tui` command. Imports stay lazy so `--help` and `--version` answer at once."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from . import __version__

EPILOG = """commands:
  agile-tui                      open the last room (or the demo on first run)
  agile-tui --demo               open the demo room of a sales team (created on first use)
  agile-tui export --format json|markdown [--room R]
  agile-tui export standup [--date YYYY-MM-DD] --format json|markdown [--room R]
                                 one standup (default: the latest; with --date, that day's)
  agile-tui export retro [--sprint S] --format json|markdown [--room R]
                                 one retro: columns, topics with votes, notes, actions (anonymity kept)
  agile-tui import backlog FILE.csv [--room R]
  agile-tui import metrics FILE.csv [--room R]
                                 metric samples: date,metric,member,value (a header row; comma or semicolon)
  agile-tui rooms                list the rooms in the data folder
  agile-tui serve [--host 127.0.0.1] [--port 8765] [--uds PATH] [--data-dir DIR]
                                 run a hub that shares rooms between terminals
  agile-tui share --server URL [--room R] [--name NAME]
                                 publish a room to a hub (you facilitate it) and print the invite
  agile-tui join URL [--name NAME]
                                 open a room someone shared, from their invite URL
  agile-tui invite [--room R]    print the invite of a room you shared again

data folder: --data-dir DIR, else $AGILE_TUI_DATA_DIR, else the platform's user data folder."""


def _iso_date(value: str) -> str:
    from datetime import date

    try:
        return date.fromisoformat(value.strip()).isoformat()
    except ValueError:
        raise argparse.ArgumentTypeError(f"{value!r} is not a date like 2026-11-27 (YYYY-MM-DD)") from None


def _port(value: str) -> int:
    if not value.isdigit() or int(value) > 65535:
        raise argparse.ArgumentTypeError(f"{value!r} is not a port (0 to 65535)")
    return int(value)


def _positive(value: str) -> int:
    if not value.isdigit() or int(value) < 1:
        raise argparse.ArgumentTypeError(f"{value!r} is not a whole number of at least 1")
    return int(value)


def build_parser() -> argparse.ArgumentParser:
    common = argparse.ArgumentParser(add_help=False)
    common.add_argument("--data-dir", metavar="DIR", help="where rooms are kept (default: $AGILE_TUI_DATA_DIR "
                                                          "or the user data folder)")
    common.add_argument("--room", metavar="R", help="the room (default: the last one opened)")
    parser = argparse.ArgumentParser(
        prog="agile-tui", parents=[common], epilog=EPILOG, formatter_class=argparse.RawDescriptionHelpFormatter,
        description="A keyboard-first terminal app for a team's live agile rituals.")
    parser.add_argument("--version", action="version", version=f"agile-tui {__version__}")
    parser.add_argument("--demo", action="store_true", help="open the demo room (created on first use)")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    export = sub.add_parser("export", parents=[common],
                            help="print a room, one standup or one retro, as JSON or Markdown")
    export.add_argument("what", nargs="?", choices=("room", "standup", "retro"), default="room",
                        help="the whole room (default), one standup or one retro")
    export.add_argument("--format", choices=("json", "markdown"), default="markdown")
    export.add_argument("--date", type=_iso_date, metavar="YYYY-MM-DD",
                        help="with `standup`: the standup of that day (default: the latest standup)")
    export.add_argument("--sprint", metavar="SPRINT",
                        help="with `retro`: the retro of that sprint, by name or id (default: the current retro)")
    imp = sub.add_parser("import", parents=[common], help="import rows from a CSV file")
    imp.add_argument("what", choices=("backlog", "metrics"), help="what the file holds")
    imp.add_argument("file", type=Path, help="the CSV file (backlog: title,owner,estimate,status; "
                                             "metrics: date,metric,member,value)")
    sub.add_parser("rooms", parents=[common], help="list the rooms in the data folder")
    from .cli_hub import add_parsers

    add_parsers(sub, common)
    serve = sub.add_parser("serve", help="run a hub: one live room shared by many terminals")
    serve.add_argument("--host", default="127.0.0.1", help="address to listen on (default: 127.0.0.1, this "
                                                            "machine only)")
    serve.add_argument("--port", type=_port, default=8765, help="TCP port (default: 8765; 0: any free port)")
    serve.add_argument("--uds", type=Path, metavar="PATH", help="listen on a Unix socket instead (mode 0660: "
                                                                "the owner and their group)")
    serve.add_argument("--data-dir", dest="hub_dir", type=Path, metavar="DIR",
                       help="where the hub keeps its database (default: the user data folder's hub/)")
    serve.add_argument("--rate", type=float, default=50.0, metavar="N",
                       help="ops per second per participant before 429 (default: 50)")
    serve.add_argument("--ssh-port", type=_port, metavar="PORT",
                       help="also let people join over SSH on this port: `ssh -p PORT ROOM@HOST`")
    serve.add_argument("--ssh-authorized-keys", dest="ssh_keys", type=Path, metavar="FILE",
                       help="the public keys allowed in over SSH, one per line, with a name and an optional "
                            "facilitator mark (default: the hub folder's ssh_authorized_keys)")
    serve.add_argument("--ssh-room-limit", type=_positive, default=50, metavar="N",
                       help="people at most in one room before SSH refuses more (default: 50)")
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        if args.command == "export":
            from .cli_export import cmd_export

            return cmd_export(args)
        if args.command == "import":
            return cmd_import(args)
        if args.command == "rooms":
            return cmd_rooms(args)
        if args.command == "serve":
            return cmd_serve(args)
        if args.command in ("share", "join", "invite"):
            from . import cli_hub

            return getattr(cli_hub, f"cmd_{args.command}")(args)
        return cmd_run(args)
    except KeyboardInterrupt:
        return 130
    except BrokenPipeError:  # `agile-tui export | head`: the reader left; that is fine
        import os

        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 0


def _fail(message: str, code: int = 1) -> int:
    print(f"agile-tui: {message}", file=sys.stderr)
    return code


def _room_name(args, memory) -> str:
    if args.room:
        return args.room
    if getattr(args, "demo", False):
        return "demo"
    return memory.last_room or "demo"


def cmd_run(args) -> int:
    """Open a room in the app. The garbage collector is off from here until the app's first frame: start-up
    builds tens of thousands of objects that live as long as the app (modules, the room, widgets, styles),
    and the collector would walk them again and again (30-50 ms of the start, a full collection included) to
    find next to no garbage (~1,500 objects). After the first frame the app freezes what is alive and turns
    the collector back on (``AgileApp._settle_memory``); here it is on again in any case once the app is over."""
    import gc

    gc.disable()
    try:
        return _run_room(args)
    finally:
        gc.enable()


def _run_room(args) -> int:
    from .config import Memory, config_dir, data_dir
    from .domain import SystemClock
    from .store import RoomLocked, RoomStore

    folder = data_dir(args.data_dir)
    memory = Memory.load(folder)
    room = _room_name(args, memory)
    if _linked(folder, room):
        from .cli_hub import open_shared

        return open_shared(folder, room, memory)
    clock = SystemClock()
    try:
        store = RoomStore.open(folder, room)
    except RoomLocked as locked:
        return _fail(str(locked))
    except (ValueError, OSError) as error:
        return _fail(str(error))
    from .session import RoomSession

    problems = list(store.problems)
    session = RoomSession(store, clock=clock)
    try:
        if room == "demo" and store.seq == 0:
            seed_demo(session)
        elif store.seq == 0:
            name_new_room(session, room)
        memory.last_room = room
        try:
            memory.save()
        except OSError:
            pass
        from .ui.app import make_app

        app = make_app(session, memory=memory, config_dir=config_dir(), problems=problems)
        app.run()
    finally:
        session.close()
    return app.return_code or 0


def _linked(folder, room: str) -> bool:
    """Was this room shared with (or joined from) a hub? Then it opens through the hub."""
    from .store.paths import is_shared  # (not sync: a local room opens without loading the sync code)

    return is_shared(folder, room)


def name_new_room(session, room: str) -> None:
    """A new room is named after itself (and its team too, until someone renames it), and starts with the
    default sales metrics of RITUALS.md."""
    from .domain import make_op
    from .domain.demo import default_metrics

    session.submit("room.setup", name=room, team=room)
    for metric in default_metrics():  # set up by the app, not by the user: `u` does not take them back
        session.submit_op(make_op("metric.define", session.clock, actor="seed", **metric))


def seed_demo(session) -> None:
    """Build the demo room through ops, relative to today."""
    from .domain.demo import demo_ops

    for op in demo_ops(session.clock.now().date()):
        session.submit_op(op)
    session.flush()


def _open_for_import(folder, room: str):
    """The room's store for an import (its problems said), or the exit status after saying why not."""
    from .store import RoomLocked, RoomStore

    try:
        store = RoomStore.open(folder, room)
    except RoomLocked as locked:
        return _fail(f"{locked}\nNothing was imported: the room belongs to the running app.")
    except (ValueError, OSError) as error:
        return _fail(str(error))
    for problem in store.problems:
        print(f"agile-tui: {problem}", file=sys.stderr)
    return store


def cmd_import(args) -> int:
    from .config import Memory, data_dir

    folder = data_dir(args.data_dir)
    room = _room_name(args, Memory.load(folder))
    if _linked(folder, room):
        return _fail(f"Room {room!r} is shared on a hub: import from inside the app (i on the metrics board) or "
                     "post samples to the hub's metrics API, so everyone gets them.")
    if args.what == "metrics":
        return import_metrics(args)
    from .config import Memory, data_dir
    from .domain import OpRejected, SystemClock, apply, make_op
    from .domain.backlog_csv import backlog_ops, decode

    folder = data_dir(args.data_dir)
    room = _room_name(args, Memory.load(folder))
    try:
        text = decode(args.file.read_bytes())
    except OSError as error:
        return _fail(f"cannot read {args.file}: {error.strerror or error}")
    except UnicodeDecodeError:
        return _fail(f"{args.file} is not UTF-8 text; save it as UTF-8 CSV and try again.")
    store = _open_for_import(folder, room)
    if isinstance(store, int):
        return store
    try:
        clock = SystemClock()
        state = store.state
        setup = []
        if store.seq == 0 and room != "demo":
            setup = [make_op("room.setup", clock, name=room, team=room)]
            state = apply(state, setup[0])
        lines_ops, problems = backlog_ops(text, state, lambda type, **kw: make_op(type, clock, **kw))
        ops = setup + [op for _, op in lines_ops]
        if not problems:
            for line, op in lines_ops:
                try:
                    state = apply(state, op)
                except OpRejected as refusal:
                    problems.append(f"line {line}: {refusal.reason}")
        if problems:
            print(f"agile-tui: {args.file}: nothing imported; fix these rows:", file=sys.stderr)
            for problem in problems:
                print(f"  {problem}", file=sys.stderr)
            return 1
        for op in ops:
            store.append(op)
        store.compact(state)
        count = len(lines_ops)
        print(f"Imported {count} item{'s' if count != 1 else ''} into the backlog of room {room!r}.")
        return 0
    finally:
        store.close()


def import_metrics(args) -> int:
    """`agile-tui import metrics FILE.csv`: metric samples, all or nothing; rows already imported are skipped."""
    from .config import Memory, data_dir
    from .domain import OpRejected, SystemClock, apply, make_op
    from .domain.metrics_csv import decode, sample_ops
    from .store.paths import room_files

    folder = data_dir(args.data_dir)
    room = _room_name(args, Memory.load(folder))
    try:
        raw = args.file.read_bytes()
    except OSError as error:
        return _fail(f"cannot read {args.file}: {error.strerror or error}")
    try:
        text = decode(raw)
    except UnicodeDecodeError:
        return _fail(f"{args.file} is not UTF-8 text; save it as UTF-8 CSV and try again.")
    if not text.strip():
        return _fail(f"{args.file} is empty; expected a header row (date,metric,member,value) and a row per "
                     "sample. Nothing was imported.")
    try:
        files = room_files(folder, room)
    except ValueError as error:
        return _fail(str(error))
    if not files.snapshot.exists() and not files.journal.exists():  # samples need the room's metrics
        return _fail(f"There is no room {room!r} in {files.folder}; open it in the app and define its metrics "
                     "first. Nothing was imported.")
    store = _open_for_import(folder, room)
    if isinstance(store, int):
        return store
    try:
        clock = SystemClock()
        state = store.state
        lines_ops, found, skipped = sample_ops(text, state, lambda type, **kw: make_op(type, clock, **kw))
        problems = [str(problem) for problem in found]
        if not problems:
            for line, op in lines_ops:
                try:
                    state = apply(state, op)
                except OpRejected as refusal:
                    problems.append(f"line {line}: {refusal.reason}")
        if problems:
            print(f"agile-tui: {args.file}: nothing imported; fix these rows:", file=sys.stderr)
            for problem in problems:
                print(f"  {problem}", file=sys.stderr)
            return 1
        if lines_ops:  # a file imported before changes nothing, not even the room's files
            for _, op in lines_ops:
                store.append(op)
            store.compact(state)
        count = len(lines_ops)
        print(f"Imported {count} sample{'s' if count != 1 else ''} into room {room!r} "
              f"({skipped} row{'s' if skipped != 1 else ''} already there).")
        return 0
    finally:
        store.close()


def cmd_rooms(args) -> int:
    from .config import data_dir
    from .store import list_rooms
    from .sync.local import list_shared, read_link

    folder = data_dir(args.data_dir)
    shared = set(list_shared(folder))
    rooms = list_rooms(folder) + sorted(shared - set(list_rooms(folder)))
    if not rooms:
        print(f"No rooms yet in {folder}. `agile-tui --demo` creates the demo room.")
    for room in rooms:
        try:
            link = read_link(folder, room) if room in shared else None
        except ValueError:
            link = None
        print(f"{room}  (shared: {link.server}, room {link.room}, as {link.name})" if link else room)
    return 0


def cmd_serve(args) -> int:
    from .config import data_dir
    from .server.hub import Settings
    from .server.serve import serve

    if args.ssh_port is None and (args.ssh_keys is not None or args.ssh_room_limit != 50):
        return _fail("--ssh-authorized-keys and --ssh-room-limit go with --ssh-port (the SSH server's port).", 2)
    folder = args.hub_dir or data_dir(args.data_dir) / "hub"
    settings = Settings(rate=args.rate, burst=max(100.0, args.rate * 6))
    return serve(folder, host=args.host, port=args.port, uds=args.uds, settings=settings,
                 ssh_port=args.ssh_port, ssh_keys=args.ssh_keys, ssh_room_limit=args.ssh_room_limit)


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
