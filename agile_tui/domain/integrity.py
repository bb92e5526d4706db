"""Referential integrity of a room. The reducer checks it after undo and redo, which put entities back as
they were and so could otherwise leave a reference to something that is gone (or two active sprints)."""

from __future__ import annotations

from collections.abc import Iterable

from .model import State


def _refs_of(state: State, coll: str, entity) -> Iterable[tuple[str, str | None, str]]:
    """(collection, id, what) for each reference an entity holds."""
    if coll == "items":
        yield "members", entity.owner or None, "its owner"
        yield "sprints", entity.sprint_id, "its sprint"
    elif coll == "blockers":
        yield "members", entity.member_id or None, "its owner"
        yield "members", entity.helper_id, "who helps"
        yield "items", entity.item_id, "its item"
    elif coll == "standups":
        yield "sprints", entity.sprint_id, "its sprint"
        yield "members", entity.facilitator_id or None, "its facilitator"
        for update in entity.updates:
            yield "members", update.member_id, "a speaker"
    elif coll == "sprints":
        for metric_id in entity.focus_metrics:
            yield "metrics", metric_id, "a focus metric"
    elif coll == "samples":
        yield "metrics", entity.metric_id, "its metric"
        yield "members", entity.member_id, "its member"
    elif coll == "retros":
        yield "sprints", entity.sprint_id, "its sprint"
        for action in entity.actions:
            yield "members", action.owner or None, "an action's owner"
        for member_id in entity.participants:
            yield "members", member_id, "a participant"


_WHAT = {"members": "member", "sprints": "sprint", "items": "item", "blockers": "blocker", "standups": "standup",
         "metrics": "metric", "samples": "sample", "retros": "retro"}


def problem(state: State, touched: dict[str, Iterable[str]]) -> str | None:
    """Why ``state`` is inconsistent around the ``touched`` entities, or None."""
    removed: dict[str, set[str]] = {}
    for coll, keys in touched.items():
        table = getattr(state, coll)
        for key in keys:
            entity = table.get(key)
            if entity is None:
                removed.setdefault(coll, set()).add(key)
                continue
            for target, ref, what in _refs_of(state, coll, entity):
                if ref is not None and ref not in getattr(state, target):
                    return f"{what} ({_WHAT[target]} {ref!r}) no longer exists"
            if coll == "members" and entity.active and any(
                    m.name == entity.name and m.active and m.id != key for m in state.members.values()):
                return f"there is already a member called {entity.name!r}"
            if coll == "metrics" and any(m.name == entity.name and m.id != key for m in state.metrics.values()):
                return f"there is already a metric called {entity.name!r}"
            if coll == "items" and entity.status != "done" and entity.sprint_id is not None:
                sprint = state.sprints.get(entity.sprint_id)
                if sprint is not None and sprint.status == "closed":
                    return f"sprint {sprint.name!r} is closed, and only done work stays in a closed sprint"
            if coll == "sprints" and entity.status == "active":
                others = [s.name for s in state.sprints.values() if s.status == "active" and s.id != key]
                if others:
                    return f"sprint {others[0]!r} is active now, and only one sprint can be"
    if removed:
        for coll in ("items", "blockers", "standups", "samples", "retros", "sprints"):
            for entity in getattr(state, coll).values():
                for target, ref, _what in _refs_of(state, coll, entity):
                    if ref is not None and ref in removed.get(target, ()):
                        return f"the {_WHAT[coll]} {getattr(entity, 'title', None) or entity.id!r} still " \
                               f"refers to that {_WHAT[target]}"
    return None
