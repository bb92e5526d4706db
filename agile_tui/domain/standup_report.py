"""Exports of one standup: plain data (for ``json.dumps``) and a Markdown report, both built on ``summary()``.

Pure: no UI, storage or network imports. User text (names, notes, blockers, topics) goes into the Markdown
through ``md_text`` / ``md_cell`` so that it reads as typed and cannot open a table cell, a link, emphasis, code
or a new block; Chinese and emoji are kept as they are.
"""

from __future__ import annotations

import re
from datetime import date
from typing import Any

from .model import Blocker, Standup, State
from .standup import Airtime, duration_text, standups_by_date, summary, update_of

# ----------------------------------------------------------------------------- finding a standup


def find_standup(state: State, day: str | None = None) -> Standup | None:
    """The latest standup (``day`` None), or the latest one held on ``day`` (ISO date); None if there is none."""
    for standup in standups_by_date(state):
        if day is None or standup.date == day:
            return standup
    return None


def nearest_dates(state: State, day: str, count: int = 3) -> list[str]:
    """Up to ``count`` dates that have a standup, nearest to ``day`` first in distance, returned oldest first."""
    target = date.fromisoformat(day)
    dates = sorted({s.date for s in state.standups.values()})
    near = sorted(dates, key=lambda d: (abs((date.fromisoformat(d) - target).days), d))[:count]
    return sorted(near)


# ----------------------------------------------------------------------------- Markdown escaping

_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f\x80-\x9f]")
_NEWLINES = re.compile(r"\r\n|\r|\n|\u2028|\u2029")
_SPECIAL = re.compile(r"([\\`*_\[\]<>|~#$])")
_ENTITY = re.compile(r"&(?=#?[A-Za-z0-9]+;)")
_BLOCK_START = re.compile(r"^(\d{1,9})([.)])|^([-+=])")


def _visible_control(match: re.Match) -> str:
    code = ord(match.group())
    if code < 0x20:
        return chr(0x2400 + code)  # ␛ for ESC, and so on: visible, and harmless in a terminal
    return "␡" if code == 0x7F else "\ufffd"


def _escape_inline(text: str) -> str:
    text = _CONTROL.sub(_visible_control, text.replace("\t", " "))
    text = _SPECIAL.sub(r"\\\1", text)
    return _ENTITY.sub("&amp;", text)


def md_text(text: str | None) -> str:
    """User text as Markdown that shows exactly that text on one line of the output.

    Backslash-escapes what Markdown would read as syntax (``\\ ` * _ [ ] < > | ~ # $``, an ``&`` that would start
    an entity, and a leading ``-``/``+``/``=``/``1.`` that would start a block), makes control characters
    visible, and turns line breaks into ``<br>`` so a note with several lines stays in its table cell or list
    item."""
    if not text:
        return ""
    lines = [line.strip() for line in _NEWLINES.split(text)]
    while lines and not lines[-1]:
        lines.pop()
    while lines and not lines[0]:
        lines.pop(0)
    out = "<br>".join(_escape_inline(line) for line in lines)
    return _BLOCK_START.sub(lambda m: (m.group(1) + "\\" + m.group(2)) if m.group(1) else "\\" + m.group(3), out)


def md_cell(text: str | None, empty: str = "–") -> str:
    """``md_text`` for a table cell; an empty cell shows ``empty``."""
    return md_text(text) or empty


# ----------------------------------------------------------------------------- numbers


def seconds_value(seconds: float) -> float | int:
    """Seconds as plain data: whole seconds as an int, else the stored value (3 decimals at most)."""
    value = round(float(seconds), 3)
    return int(value) if value == int(value) else value


def seconds_text(seconds: float) -> str:
    value = seconds_value(seconds)
    return f"{value} s"


def signed_duration(seconds: float) -> str:
    """+0:23 over, -0:40 under, 0:00 on the dot."""
    if seconds == 0:
        return "0:00"
    return ("+" if seconds > 0 else "-") + duration_text(abs(seconds))


def _verdict(airtime_s: float, box_s: float) -> str | None:
    if box_s <= 0:
        return None
    if airtime_s > box_s:
        return "over"
    return "under" if airtime_s < box_s else "on time"


# ----------------------------------------------------------------------------- plain data


def _next_facilitator(state: State, standup: Standup, names: dict[str, str], rotation: str) -> str:
    """Who facilitated (or, for the latest standup, will facilitate) the standup after this one."""
    later = [s for s in standups_by_date(state) if (s.date, s.started_at) > (standup.date, standup.started_at)]
    if later:
        following = later[-1]  # the earliest of the later ones
        return names.get(following.facilitator_id, following.facilitator_id)
    return rotation


def _member(member_id: str | None, names: dict[str, str]) -> dict[str, str] | None:
    if not member_id:
        return None
    return {"id": member_id, "name": names.get(member_id, member_id)}


def _blocker(state: State, blocker: Blocker, standup: Standup, names: dict[str, str]) -> dict[str, Any]:
    """A blocker; its age is in days, counted up to its resolution or, while open then, up to the standup."""
    item = state.items.get(blocker.item_id) if blocker.item_id else None
    end = standup.date
    if blocker.resolved_on and blocker.resolved_on <= standup.date:
        end = blocker.resolved_on
    age = max(0, (date.fromisoformat(end) - date.fromisoformat(blocker.opened_on)).days)
    return {
        "id": blocker.id,
        "text": blocker.text,
        "owner": _member(blocker.member_id, names),
        "helper": _member(blocker.helper_id, names),
        "item": {"id": blocker.item_id, "title": item.title if item else ""} if blocker.item_id else None,
        "opened_on": blocker.opened_on,
        "resolved_on": blocker.resolved_on,
        "age_days": age,
    }


def _speaker(standup: Standup, n: int, airtime: Airtime) -> dict[str, Any]:
    update = update_of(standup, airtime.member_id)
    over = airtime.over_s
    return {
        "position": n,
        "member_id": airtime.member_id,
        "name": airtime.name,
        "airtime_s": seconds_value(airtime.airtime_s),
        "airtime": duration_text(airtime.airtime_s),
        "box_s": seconds_value(airtime.box_s),
        "box": duration_text(airtime.box_s),
        "over_s": seconds_value(over),
        "over": signed_duration(over),
        "verdict": _verdict(airtime.airtime_s, airtime.box_s),
        "late": airtime.late,
        "absent": airtime.absent,
        "yesterday": update.yesterday if update else "",
        "today": update.today if update else "",
        "blockers": update.blockers if update else "",
    }


def standup_to_dict(state: State, standup: Standup) -> dict[str, Any]:
    """One standup as JSON-ready plain data (``json.dumps(..., ensure_ascii=False, indent=2)``)."""
    s = summary(state, standup)
    names = {m.id: m.name for m in state.members.values()}
    sprint = state.sprints.get(standup.sprint_id) if standup.sprint_id else None
    absent_ids = [u.member_id for u in standup.updates if u.absent and u.airtime_s == 0]
    speakers = [_speaker(standup, n, a) for n, a in enumerate(s.speakers, 1)]
    length_s = standup.length_min * 60
    current = None
    if standup.status == "live" and 0 <= standup.current < len(standup.order):
        current = _member(standup.order[standup.current], names)

    def timed(a: Airtime | None) -> dict[str, Any] | None:
        if a is None:
            return None
        return {"member_id": a.member_id, "name": a.name, "airtime_s": seconds_value(a.airtime_s),
                "airtime": duration_text(a.airtime_s)}

    return {
        "room": {"name": state.room.name, "team": state.room.team},
        "id": standup.id,
        "date": standup.date,
        "sprint": {"id": sprint.id, "name": sprint.name} if sprint else None,
        "facilitator": {"id": standup.facilitator_id, "name": s.facilitator} if standup.facilitator_id else None,
        "status": standup.status,
        "started_at": standup.started_at or None,
        "current_speaker": current,
        "length_min": standup.length_min,
        "length_s": length_s,
        "length": duration_text(length_s),
        "total_s": seconds_value(s.total_s),
        "total": duration_text(s.total_s),
        "total_over_s": seconds_value(s.total_s - length_s),
        "total_over": signed_duration(s.total_s - length_s),
        "speakers": speakers,
        "absent": [{"member_id": m, "name": names.get(m, m)} for m in absent_ids],
        "late": [a.name for a in s.speakers if a.late],
        "quickest": timed(s.quickest),
        "longest": timed(s.longest),
        "blockers_opened": [_blocker(state, b, standup, names) for b in s.opened],
        "blockers_resolved": [_blocker(state, b, standup, names) for b in s.resolved],
        "parking": list(s.parking),
        "next_facilitator": _next_facilitator(state, standup, names, s.next_facilitator) or None,
    }


# ----------------------------------------------------------------------------- Markdown


def _blocker_rows(blockers: list[dict[str, Any]]) -> list[str]:
    rows = ["| Blocker | Owner | Helper | Item | Opened | Age |",
            "|---------|-------|--------|------|--------|----:|"]
    for b in blockers:
        owner = b["owner"]["name"] if b["owner"] else ""
        helper = b["helper"]["name"] if b["helper"] else ""
        item = b["item"]["title"] if b["item"] else ""
        age = f"{b['age_days']} day{'' if b['age_days'] == 1 else 's'}"
        rows.append(f"| {md_cell(b['text'])} | {md_cell(owner)} | {md_cell(helper)} | {md_cell(item)} | "
                    f"{b['opened_on']} | {age} |")
    return rows


def standup_to_markdown(state: State, standup: Standup) -> str:
    """One standup as a Markdown report: the facts, a speakers' table, each update, blockers, parking lot."""
    data = standup_to_dict(state, standup)
    team = md_text(state.room.team) or md_text(state.room.name)
    lines = [f"# Standup {data['date']} — {team}", ""]
    status = "live (in progress; times as of the last recorded change)" if data["status"] == "live" else "closed"
    facts = [
        ("Room", md_text(state.room.name)),
        ("Sprint", md_text(data["sprint"]["name"]) if data["sprint"] else "(none)"),
        ("Facilitator", md_text(data["facilitator"]["name"]) if data["facilitator"] else "(none)"),
        ("Status", status),
    ]
    if data["current_speaker"]:
        facts.append(("Speaking now", md_text(data["current_speaker"]["name"])))
    facts += [
        ("Length", f"{data['length_min']} min ({data['length']})"),
        ("Total time", f"{data['total']} ({seconds_text(data['total_s'])}; {data['total_over']} against the length)"),
    ]
    for key, label in (("quickest", "Quickest"), ("longest", "Longest")):
        if data[key]:
            facts.append((label, f"{md_text(data[key]['name'])} ({data[key]['airtime']})"))
    if data["next_facilitator"]:
        facts.append(("Next facilitator", md_text(data["next_facilitator"])))
    lines += [f"- **{label}:** {value}" for label, value in facts]

    lines += ["", f"## Speakers ({len(data['speakers'])})", ""]
    if data["speakers"]:
        lines += ["| # | Speaker | Airtime | Box | Over/under | Notes |",
                  "|--:|---------|--------:|----:|-----------:|-------|"]
        for sp in data["speakers"]:
            verdict = sp["verdict"]
            over = f"{verdict} ({sp['over']})" if verdict in ("over", "under") else (verdict or "–")
            notes = ", ".join(n for n, on in (("late", sp["late"]), ("marked absent", sp["absent"])) if on)
            lines.append(f"| {sp['position']} | {md_cell(sp['name'])} | {sp['airtime']} "
                         f"({seconds_text(sp['airtime_s'])}) | {sp['box']} ({seconds_text(sp['box_s'])}) | "
                         f"{over} | {notes or '–'} |")
    else:
        lines.append("Nobody has spoken yet.")

    if data["absent"]:
        lines += ["", f"**Absent:** {', '.join(md_text(a['name']) for a in data['absent'])}"]

    lines += ["", "## Updates", ""]
    for sp in data["speakers"]:
        lines += [f"### {md_text(sp['name'])}", ""]
        for key, label in (("yesterday", "Yesterday"), ("today", "Today"), ("blockers", "Blockers")):
            lines.append(f"- **{label}:** {md_text(sp[key]) or '–'}")
        lines.append("")
    if not data["speakers"]:
        lines += ["No updates.", ""]

    for key, title in (("blockers_opened", "Blockers opened"), ("blockers_resolved", "Blockers resolved")):
        lines += [f"## {title} ({len(data[key])})", ""]
        lines += _blocker_rows(data[key]) if data[key] else ["None."]
        lines.append("")

    lines += [f"## Parking lot ({len(data['parking'])})", ""]
    lines += [f"- {md_text(topic)}" for topic in data["parking"]] or ["Empty."]
    return "\n".join(lines) + "\n"
