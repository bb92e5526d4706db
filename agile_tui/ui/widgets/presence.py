"""Who is here, in a shared room: one line per participant (● here, ○ away; ★ the facilitator), with a tick for
who has finished the retro's phase (never what they wrote or chose), the speaker of a live standup (▶), and how
many cards each has written that are not shared yet. The connection state sits at the bottom."""

from __future__ import annotations

from rich.text import Text
from textual.widget import Widget

from ...domain.retro import current_retro
from ...domain.standup import live_standup
from ..text import safe


def presence_text(session, width: int = 24) -> Text:
    state = session.state
    retro = current_retro(state)
    retro = retro if retro is not None and retro.status == "open" else None
    standup = live_standup(state)
    speaker = standup.order[standup.current] if standup and 0 <= standup.current < len(standup.order) else None
    hidden = session.hidden.get(retro.id, {}) if retro else {}
    cards = hidden.get("cards") or {}
    people = sorted(session.participants, key=lambda p: (not p.get("here"), p.get("role") != "facilitator",
                                                         str(p.get("name", "")).casefold()))
    here = sum(1 for p in people if p.get("here"))
    out = Text(end="")
    out.append(f"Here {here}/{len(people)}\n", style="bold")
    for person in people:
        member = person.get("member_id") or ""
        line = Text(no_wrap=True, overflow="ellipsis", end="")
        line.append("● " if person.get("here") else "○ ", style="bold" if person.get("here") else "dim")
        line.append_text(safe(str(person.get("name", "?")), style="" if person.get("here") else "dim"))
        if person.get("role") == "facilitator":
            line.append(" ★")
        if member == session.actor:
            line.append(" · you", style="dim")
        if speaker and member == speaker:
            line.append(" ▶", style="bold")
        if retro is not None and member in retro.ready:
            line.append(" ✓")
        elif retro is not None and (hidden.get("votes_used") or {}).get(member):  # (the facilitator's count)
            line.append(" · voted", style="dim")
        if cards.get(member):
            line.append(f" · {cards[member]} card{'s' if cards[member] != 1 else ''}", style="dim")
        line.truncate(width, overflow="ellipsis")
        out.append_text(line)
        out.append("\n")
    if retro is not None and retro.phase == "vote" and hidden.get("votes_hidden"):
        cast = hidden.get("votes_cast") or 0
        out.append(f"{cast} vote{'s' if cast != 1 else ''} cast\n", style="dim")
    out.append("\n")
    out.append(session.connection.label(), style="bold")
    detail = session.connection.detail
    if detail and session.connection.status != "live":
        out.append("\n")
        out.append_text(safe(detail, style="dim"))
    return out


class PresencePanel(Widget):
    """Docked right on every screen of a shared room; W shows or hides it."""

    def render(self) -> Text:
        return presence_text(self.app.session, max(8, self.size.width - 2))
