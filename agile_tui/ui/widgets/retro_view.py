"""What the retro screen draws, phase by phase, as options of one list (ids say what each line is) and a phase
bar. Pure rendering from domain values; user text always goes through ``safe``."""

from __future__ import annotations

from rich.text import Text
from textual.widgets.option_list import Option

from ...domain import retro as q
from ...domain.model import Retro, State
from ...domain.standup import clock_text, duration_text
from ..text import plain, safe

PHASE_TITLES = {"review": "Review last time's actions", "reflect": "Reflect: write cards",
                "group": "Group cards into topics", "vote": "Dot vote", "discuss": "Discuss, in vote order",
                "close": "Actions, then close"}
PHASE_HINTS = {
    "review": "d done · c carried · > next phase",
    "reflect": "a add a card to the column under the cursor · e edit · d delete · h/l columns · r ready · > next",
    "group": "space mark · m merge the marked into the line under the cursor · e rename · s split a card out · >",
    "vote": "+/v add a vote · -/V take one back · r finished · R reveal · > discuss",
    "discuss": "n/b next/previous topic · i notes · a action item · t timer · + two more minutes · > close",
    "close": "a add · e edit · d delete an action · C closes the retro: actions become items of the next sprint",
}


def who(state: State, retro: Retro, author: str, viewer: str) -> str:
    """A card's author as others see it: nobody when the retro is anonymous (the author sees "you")."""
    if author == viewer:
        return "you"
    if retro.anonymous:
        return ""
    return q.name_of(state, author)


def phase_bar(state: State, retro: Retro, clock, acting: str, acting_name: str) -> Text:
    sprint = state.sprints.get(retro.sprint_id)
    step = q.PHASES.index(retro.phase) + 1 if retro.phase in q.PHASES else 0
    text = Text.assemble(("Retro of ", "bold"), safe(sprint.name if sprint else "?", style="bold"),
                         f" · {retro.phase.upper()} ({step} of {len(q.PHASES)}): {PHASE_TITLES.get(retro.phase, '')}",
                         "  (< > change phase)")
    if retro.status == "closed":
        text.append(f" · closed on {retro.closed_on}", style="bold")
        return text
    text.append("\n")
    if clock is not None:
        label = clock_text(clock.remaining_s) if clock.started else f"{duration_text(clock.box_s)} (t starts)"
        style = {"green": "bold green", "amber": "bold yellow", "red": "bold red"}[clock.band] if clock.started \
            else "dim"
        text.append("timer ")
        text.append(label + (" paused" if clock.paused else ""), style=style)
        text.append(" · ")
    if retro.phase in q.READY_PHASES:
        expected = q.expected(state, retro)
        done = [m for m in expected if m in retro.ready]
        text.append(f"{'finished' if retro.phase == 'vote' else 'ready'} {len(done)}/{len(expected)}")
        if done and len(expected) <= 8:  # who has, never what they chose
            text.append(" (")
            text.append_text(safe(", ".join(q.name_of(state, m) for m in done), max_cells=40))
            text.append(")")
        text.append(" · ")
    text.append("acting as ")
    text.append_text(safe(acting_name, style="bold"))
    if retro.phase == "vote":
        text.append(f" · {q.votes_left(retro, acting)}/{retro.votes_per_person} votes left, "
                    f"≤{retro.max_votes_per_topic} a topic")
    return text


def _line(*parts) -> Text:
    text = Text(no_wrap=True, overflow="ellipsis", end="")
    for part in parts:
        text.append_text(part if isinstance(part, Text) else Text(part))
    return text


def review_options(state: State, retro: Retro) -> list[Option]:
    if not retro.review:
        return [Option(Text("No earlier actions to review: > moves on to reflect.", style="dim"), disabled=True)]
    options = []
    for entry in retro.review:
        mark = {"done": ("✓ done   ", "green"), "carried": ("↻ carried", "yellow")}.get(entry.outcome,
                                                                                      ("· to mark", "dim"))
        item = state.items.get(entry.item_id or "")
        where = f"  ({item.status})" if item else ""
        options.append(Option(_line(Text(mark[0] + "  ", style=mark[1]), safe(entry.title, max_cells=70),
                                    Text("  " + q.name_of(state, entry.owner) if entry.owner else "", style="dim"),
                                    Text(where, style="dim")), id=f"review:{entry.retro_id}:{entry.action_id}"))
    return options


def reflect_options(state: State, retro: Retro, viewer: str) -> list[Option]:
    options = []
    for column in retro.columns:
        cards = [c for c in retro.cards if c.column == column]
        options.append(Option(Text(f"{column} ({len(cards)})", style="bold reverse"), id=f"col:{column}"))
        for card in cards:
            author = who(state, retro, card.author, viewer)
            options.append(Option(_line("  • ", safe(card.text, max_cells=90),
                                        Text(f"  — {plain(author)}" if author else "", style="dim")),
                                  id=f"card:{card.id}"))
    return options


def group_options(state: State, retro: Retro, marked: set[str]) -> list[Option]:
    options = []
    for target in q.targets(retro):
        topic = q.topic(retro, target)
        mark = "◆ " if target in marked else "  "
        if topic is not None:
            cards = q.target_cards(retro, target)
            options.append(Option(_line(Text(mark, style="bold"), Text("▸ ", style="bold"),
                                        safe(topic.title, style="bold", max_cells=80),
                                        Text(f"  ({len(cards)} cards)", style="dim")), id=f"topic:{target}"))
            for card in cards:
                card_mark = "◆ " if card.id in marked else "  "
                options.append(Option(_line("    ", Text(card_mark, style="bold"), "• ",
                                            safe(card.text, max_cells=80), Text(f"  [{card.column}]", style="dim")),
                                      id=f"card:{card.id}"))
        else:
            card = q.card(retro, target)
            options.append(Option(_line(Text(mark, style="bold"), "• ", safe(card.text, max_cells=86),
                                        Text(f"  [{card.column}]", style="dim")), id=f"card:{target}"))
    return options


# A vote line's text by what it shows (title, own votes, cap, total once revealed): a vote changes one line, and the
# screen compares every line's text with what it shows, so the others are not built again. Never mutated.
_vote_lines: dict[tuple, Text] = {}
VOTE_LINES_KEPT = 4096


def _vote_line(title: str, count: int, cap: int, total: int | None) -> Text:
    key = (title, count, cap, total)
    line = _vote_lines.get(key)
    if line is None:
        if len(_vote_lines) >= VOTE_LINES_KEPT:
            _vote_lines.clear()
        dots = "●" * count + "○" * (cap - count)
        line = _vote_lines[key] = _line(Text(f"{dots}  ", style="bold"), safe(title, max_cells=80),
                                        Text(f"  {total} in all", style="bold") if total is not None else Text(""))
    return line


def vote_options(state: State, retro: Retro, voter: str) -> list[Option]:
    mine = q.votes_of(retro, voter)
    totals = q.totals(retro) if retro.revealed else {}
    cap = retro.max_votes_per_topic
    options = []
    for target in q.targets(retro):
        line = _vote_line(q.target_title(retro, target), mine.get(target, 0), cap, totals.get(target))
        options.append(Option(line, id=f"target:{target}"))
    if not options:
        options.append(Option(Text("Nothing to vote on: no cards were written.", style="dim"), disabled=True))
    return options


def discuss_options(state: State, retro: Retro, now: float) -> list[Option]:
    totals = q.totals(retro)
    options = []
    for target in q.discussion_order(retro):
        current = target == retro.discussing
        talked = q.talk_time_s(retro, target, now)
        actions = sum(1 for a in retro.actions if a.topic_id == target)
        options.append(Option(_line(Text("▶ " if current else "  ", style="bold"),
                                    Text(f"{totals[target]:>2} votes  ", style="bold" if current else ""),
                                    safe(q.target_title(retro, target), style="bold" if current else "",
                                         max_cells=32),
                                    Text(f"  {duration_text(talked)}" if talked else "", style="dim"),
                                    Text(f"  {actions}→" if actions else "", style="dim")),
                              id=f"target:{target}"))
    return options


def action_options(state: State, retro: Retro) -> list[Option]:
    if not retro.actions:
        return [Option(Text("No action items yet: a adds one (title, owner, due date).", style="dim"),
                       disabled=True)]
    options = []
    for action in retro.actions:
        owner = q.name_of(state, action.owner) if action.owner else "nobody yet"
        item = state.items.get(action.item_id or "")
        where = ""
        if item is not None:
            sprint = state.sprints.get(item.sprint_id or "")
            where = f"  → {item.status} in {sprint.name if sprint else 'the backlog'}"
        options.append(Option(_line("• ", safe(action.title, max_cells=70), Text("  owner "), safe(owner),
                                    Text(f"  due {action.due}" if action.due else "", style="dim"),
                                    Text(plain(where), style="dim")), id=f"action:{action.id}"))
    return options


def topic_detail(state: State, retro: Retro, target: str) -> Text:
    """The discussed topic's cards and action items (beside its notes)."""
    text = Text(end="")
    for card in q.target_cards(retro, target):
        text.append("• ")
        text.append_text(safe(card.text, max_cells=100))
        text.append(f"  [{card.column}]\n", style="dim")
    actions = [a for a in retro.actions if a.topic_id == target]
    if actions:
        text.append("Action items\n", style="bold")
        for action in actions:
            text.append("→ ")
            text.append_text(safe(action.title, max_cells=80))
            if action.owner:
                text.append("  ")
                text.append_text(safe(q.name_of(state, action.owner), style="dim"))
            text.append("\n")
    return text
