"""What each person may see of a retro, and its exports (plain data for JSON, and Markdown).

Privacy (the hub sends a participant only ``visible_retro``; the exports are built on it):
- in review and reflect, nobody sees another's cards: only how many there are;
- before the reveal, each person sees only their own votes; the room sees how many votes were cast and who has
  ticked finished, never where the votes went (a facilitator also sees how many each person has used);
- in an anonymous retro, a card carries its author only for its author; exports never carry authors;
- exports give each topic's total votes only once they are revealed, and never who voted for what; an export
  for a viewer applies ``visible_retro`` first.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from typing import Any

from . import retro as q
from .model import Retro, State
from .standup import duration_text
from .standup_report import md_cell, md_text, seconds_value


@dataclass(frozen=True)
class RetroView:
    """A retro as one viewer may see it. ``retro`` has the hidden cards and votes taken out and, when
    anonymous, the authors of other people's cards blanked."""

    retro: Retro
    viewer: str
    hidden_cards: int = 0  # other people's cards held back (review, reflect)
    votes_hidden: bool = False  # other people's votes held back (before the reveal)
    votes_cast: int = 0  # everyone's votes, counted
    finished: tuple[str, ...] = ()  # who ticked ready / finished in this phase
    votes_used: tuple[tuple[str, int], ...] = ()  # facilitator only, before the reveal: (member, votes used)

    def to_dict(self) -> dict[str, Any]:
        return {**self.retro.to_dict(), "viewer": self.viewer, "hidden_cards": self.hidden_cards,
                "votes_hidden": self.votes_hidden, "votes_cast": self.votes_cast, "finished": list(self.finished),
                "votes_used": [list(pair) for pair in self.votes_used]}


def visible_retro(retro: Retro, viewer_member_id: str | None, *, facilitator: bool = False) -> RetroView:
    """What ``viewer_member_id`` may see (None: someone with no cards or votes of their own)."""
    viewer = viewer_member_id or ""
    open_ = retro.status == "open"
    cards = retro.cards
    hidden = 0
    if open_ and retro.phase in q.PRIVATE_PHASES:
        mine = tuple(c for c in cards if c.author == viewer)
        hidden, cards = len(cards) - len(mine), mine
    if retro.anonymous:
        cards = tuple(c if c.author == viewer or not c.author else dataclasses.replace(c, author="") for c in cards)
    votes_hidden = open_ and not retro.revealed
    votes = tuple(v for v in retro.votes if v.member_id == viewer) if votes_hidden else retro.votes
    used: tuple[tuple[str, int], ...] = ()
    if facilitator and votes_hidden:
        used = tuple((m, q.votes_used(retro, m)) for m in q.voters(retro))
    shown = dataclasses.replace(retro, cards=cards, votes=votes)
    if len(cards) != len(retro.cards):  # topics only hold cards the viewer can see (none exist before group)
        seen = {c.id for c in cards}
        shown = dataclasses.replace(shown, topics=tuple(
            dataclasses.replace(t, card_ids=tuple(i for i in t.card_ids if i in seen)) for t in retro.topics))
    return RetroView(retro=shown, viewer=viewer, hidden_cards=hidden, votes_hidden=votes_hidden,
                     votes_cast=q.votes_cast(retro), finished=retro.ready, votes_used=used)


# ----------------------------------------------------------------------------- plain data


def _member(state: State, member_id: str | None) -> dict[str, str] | None:
    if not member_id:
        return None
    return {"id": member_id, "name": q.name_of(state, member_id)}


def retro_to_dict(state: State, retro: Retro, viewer: str | None = None) -> dict[str, Any]:
    """A retro as JSON-ready plain data: columns with their cards, topics with their votes (once revealed), notes,
    actions with owners, the review of earlier actions. With ``viewer``, only what that person may see; without,
    every card (the room's own copy: in a shared room it holds only what the hub sent). Either way no authors when
    anonymous, and no votes until revealed."""
    view = visible_retro(retro, viewer) if viewer is not None else RetroView(retro, "", votes_cast=q.votes_cast(retro))
    shown = view.retro
    revealed = retro.revealed or retro.status == "closed"
    sprint = state.sprints.get(retro.sprint_id)
    grouped = q.topic_of_card(shown)
    counted = q.totals(retro) if revealed else {}
    order = q.discussion_order(retro) if revealed else q.targets(retro)
    visible_targets = set(q.targets(shown))
    actions_by_topic: dict[str, list[str]] = {}
    for action in shown.actions:
        if action.topic_id:
            actions_by_topic.setdefault(action.topic_id, []).append(action.id)

    def card(c) -> dict[str, Any]:
        out: dict[str, Any] = {"id": c.id, "text": c.text, "topic": grouped.get(c.id)}
        if not retro.anonymous:
            out["author"] = _member(state, c.author)
        return out

    topics = []
    for target in order:
        if target not in visible_targets:
            continue
        talk = q.talk_of(retro, target)
        topics.append({
            "id": target,
            "kind": "topic" if q.topic(shown, target) is not None else "card",
            "title": q.target_title(shown, target),
            "votes": counted.get(target, 0) if revealed else None,
            "cards": [c.id for c in q.target_cards(shown, target)],
            "notes": talk.notes if talk else "",
            "discussed_s": seconds_value(q.talk_time_s(retro, target, retro.clock_at)),
            "actions": actions_by_topic.get(target, []),
        })
    actions = []
    for a in shown.actions:
        item = state.items.get(a.item_id) if a.item_id else None
        actions.append({"id": a.id, "title": a.title, "owner": _member(state, a.owner), "due": a.due,
                        "topic": a.topic_id,
                        "item": {"id": item.id, "status": item.status, "sprint": item.sprint_id} if item else None})
    review = []
    for e in shown.review:
        item = state.items.get(e.item_id) if e.item_id else None
        review.append({"retro": e.retro_id, "action": e.action_id, "title": e.title, "owner": _member(state, e.owner),
                       "due": e.due, "outcome": e.outcome or None, "item_status": item.status if item else None})
    return {
        "room": {"name": state.room.name, "team": state.room.team},
        "id": retro.id,
        "sprint": {"id": sprint.id, "name": sprint.name, "start": sprint.start} if sprint else None,
        "template": retro.template,
        "status": retro.status,
        "phase": retro.phase,
        "closed_on": retro.closed_on,
        "anonymous": retro.anonymous,
        "settings": {"votes_per_person": retro.votes_per_person, "max_votes_per_topic": retro.max_votes_per_topic,
                     "minutes": {phase: getattr(retro, key) for phase, key in q.MINUTES.items()}},
        "columns": [{"name": col, "cards": [card(c) for c in shown.cards if c.column == col]}
                    for col in retro.columns],
        "hidden_cards": view.hidden_cards,
        "votes_revealed": revealed,
        "votes_cast": view.votes_cast,
        "topics": topics,
        "actions": actions,
        "review": review,
    }


# ----------------------------------------------------------------------------- Markdown


def retro_to_markdown(state: State, retro: Retro, viewer: str | None = None) -> str:
    """A retro as a Markdown report, built on ``retro_to_dict`` (so it shows exactly what that shows)."""
    data = retro_to_dict(state, retro, viewer)
    sprint = md_text(data["sprint"]["name"]) if data["sprint"] else md_text(retro.sprint_id)
    lines = [f"# Retro — {sprint}", ""]
    status = f"closed on {data['closed_on']}" if data["status"] == "closed" else f"open, in the {data['phase']} phase"
    settings = data["settings"]
    facts = [
        ("Team", md_text(state.room.team)),
        ("Status", status),
        ("Columns", " / ".join(md_text(c["name"]) for c in data["columns"])),
        ("Votes", f"{settings['votes_per_person']} per person, at most {settings['max_votes_per_topic']} on one topic"
                  + ("" if data["votes_revealed"] else " (not revealed yet)")),
        ("Anonymous", "yes" if data["anonymous"] else "no"),
    ]
    lines += [f"- **{label}:** {value}" for label, value in facts]

    if data["review"]:
        lines += ["", f"## Review of earlier actions ({len(data['review'])})", "",
                  "| Action | Owner | Outcome | Item |", "|--------|-------|---------|------|"]
        for e in data["review"]:
            owner = e["owner"]["name"] if e["owner"] else ""
            lines.append(f"| {md_cell(e['title'])} | {md_cell(owner)} | {e['outcome'] or 'not marked'} | "
                         f"{e['item_status'] or '–'} |")

    lines += ["", "## Cards", ""]
    if data["hidden_cards"]:
        lines += [f"{data['hidden_cards']} card(s) by others stay private until the reflect phase ends.", ""]
    for column in data["columns"]:
        lines += [f"### {md_text(column['name'])} ({len(column['cards'])})", ""]
        for c in column["cards"]:
            author = f" — {md_text(c['author']['name'])}" if c.get("author") else ""
            lines.append(f"- {md_text(c['text'])}{author}")
        if not column["cards"]:
            lines.append("No cards.")
        lines.append("")

    heading = "## Topics, by votes" if data["votes_revealed"] else "## Topics"
    lines += [heading, ""]
    titles = {a["id"]: a["title"] for a in data["actions"]}
    cards = {c["id"]: c["text"] for col in data["columns"] for c in col["cards"]}
    for n, t in enumerate(data["topics"], 1):
        votes = "" if t["votes"] is None else f" — {t['votes']} vote{'s' * (t['votes'] != 1)}"
        lines += [f"### {n}. {md_text(t['title'])}{votes}", ""]
        entries = [f"- {md_text(cards.get(i, ''))}" for i in t["cards"]] if t["kind"] == "topic" else []
        if t["discussed_s"]:
            entries.append(f"- **Discussed:** {duration_text(t['discussed_s'])}")
        if t["notes"]:
            entries.append(f"- **Notes:** {md_text(t['notes'])}")
        entries += [f"- **Action:** {md_text(titles.get(a, ''))}" for a in t["actions"]]
        lines += [*entries, ""] if entries else []
    if not data["topics"]:
        lines += ["No topics.", ""]

    lines += [f"## Actions ({len(data['actions'])})", ""]
    if data["actions"]:
        lines += ["| Action | Owner | Due | Item |", "|--------|-------|-----|------|"]
        for a in data["actions"]:
            owner = a["owner"]["name"] if a["owner"] else ""
            item = f"{a['item']['id']} ({a['item']['status']})" if a["item"] else ""
            lines.append(f"| {md_cell(a['title'])} | {md_cell(owner)} | {a['due'] or '–'} | {md_cell(item)} |")
    else:
        lines.append("None.")
    return "\n".join(lines) + "\n"
