"""`agile-tui export`: a room (JSON or Markdown), one standup or one retro. Reads without the lock, so it works
while the app has the room open; a shared room is read from its confirmed copy and outbox."""

from __future__ import annotations

import sys

from .cli import _fail, _linked, _room_name


def cmd_export(args) -> int:
    from .config import Memory, data_dir
    from .domain import SystemClock
    from .domain.report import to_json, to_markdown
    from .store import load_readonly

    if args.date and args.what != "standup":
        return _fail("--date goes with `export standup` (a room is exported whole).", 2)
    if args.sprint and args.what != "retro":
        return _fail("--sprint goes with `export retro`.", 2)
    folder = data_dir(args.data_dir)
    room = _room_name(args, Memory.load(folder))
    try:
        if _linked(folder, room):
            from .sync.local import load_shared_readonly

            state, seq, problems = load_shared_readonly(folder, room)
        else:
            state, seq, problems = load_readonly(folder, room)
    except (ValueError, OSError) as error:
        return _fail(str(error))
    for problem in problems:
        print(f"agile-tui: {problem}", file=sys.stderr)
    if args.what == "standup":
        return export_standup(args, room, state)
    if args.what == "retro":
        return export_retro(args, room, state)
    if args.format == "json":
        print(to_json(state, seq))
    else:
        print(to_markdown(state, SystemClock().now().date()), end="")
    return 0


def export_standup(args, room: str, state) -> int:
    """`agile-tui export standup`: the latest standup, or the latest of --date's day."""
    import json

    from .domain.standup_report import find_standup, nearest_dates, standup_to_dict, standup_to_markdown

    if not state.standups:
        return _fail(f"room {room!r} has no standups yet; run one in the app first.", 2)
    standup = find_standup(state, args.date)
    if standup is None:
        count = len({s.date for s in state.standups.values()})
        near = ", ".join(nearest_dates(state, args.date))
        return _fail(f"room {room!r} has no standup on {args.date}. Nearest dates with a standup: {near} "
                     f"({count} date{'s' if count != 1 else ''} in all).", 2)
    if args.format == "json":
        print(json.dumps(standup_to_dict(state, standup), ensure_ascii=False, indent=2))
    else:
        print(standup_to_markdown(state, standup), end="")
    return 0


def export_retro(args, room: str, state) -> int:
    """`agile-tui export retro`: columns, topics with votes, notes, actions with owners (anonymity kept)."""
    import json

    from .domain.retro import find_retro
    from .domain.retro_report import retro_to_dict, retro_to_markdown

    if not state.retros:
        return _fail(f"room {room!r} has no retro yet; run one in the app first (key 4).", 2)
    retro = find_retro(state, args.sprint)
    if retro is None:
        names = ", ".join(sorted(state.sprints[r.sprint_id].name for r in state.retros.values()
                                 if r.sprint_id in state.sprints))
        return _fail(f"room {room!r} has no retro of sprint {args.sprint!r}. Sprints with a retro: {names}.", 2)
    if args.format == "json":
        print(json.dumps(retro_to_dict(state, retro), ensure_ascii=False, indent=2))
    else:
        print(retro_to_markdown(state, retro), end="")
    return 0
