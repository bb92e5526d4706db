"""What the standup screen draws: the speaker's clock, the queue, and the summary of a round.
Pure rendering from domain values; user text always goes through ``safe``."""

from __future__ import annotations

import os
from datetime import date

from rich.console import Group
from rich.table import Table
from rich.text import Text
from textual.widgets import Digits, Static

from ...domain.metrics import focus_metrics, format_value, metric_row
from ...domain.model import Standup, State
from ...domain.standup import (
    Summary,
    TurnClock,
    blocker_age,
    clock_text,
    duration_text,
    open_blockers,
    open_items_of,
    update_of,
)
from ..text import plain, safe
from .metric_board import spark_text


class SpeakerClock(Digits):
    """The large clock. Its class says the band (-green, -amber, -red) and whether it is paused; it only
    redraws when the text or band changes, so a running clock costs one small repaint a second."""

    def show(self, clock: TurnClock | None) -> None:
        if clock is None:
            text, band, paused = "--:--", "idle", False
        else:
            text, band, paused = clock_text(clock.remaining_s), clock.band, clock.paused
        if text != self.value:
            self.update(text)
        for name in ("green", "amber", "red", "idle"):
            self.set_class(name == band, f"-{name}")
        self.set_class(paused, "-paused")


def speaker_line(state: State, standup: Standup, clock: TurnClock | None) -> Text:
    if clock is None:
        return Text("After the last speaker: the parking lot. b goes back · e ends the standup.", style="bold")
    member = state.members.get(clock.member_id)
    line = Text.assemble(safe(member.name if member else clock.member_id, style="bold"),
                         f"  ·  speaker {standup.current + 1} of {len(standup.order)}")
    return line


def clock_status(clock: TurnClock | None) -> Text:
    if clock is None:
        return Text("")
    parts = [f"box {duration_text(clock.box_s)}", f"spoken {duration_text(clock.elapsed_s)}"]
    if clock.paused:
        parts.append("PAUSED (space resumes)")
    elif clock.remaining_s <= 0:
        parts.append("OVERTIME")
    return Text("  ·  ".join(parts), style="bold" if clock.paused or clock.remaining_s <= 0 else "")


def queue_text(state: State, standup: Standup) -> Text:
    """The speaking order: ✓ spoke, ▶ speaking, · waiting, late joiners marked; the absent below."""
    text = Text(no_wrap=True, overflow="ellipsis", end="")
    for n, member_id in enumerate(standup.order):
        update = update_of(standup, member_id)
        member = state.members.get(member_id)
        name = member.name if member else member_id
        if n == standup.current:
            mark, style = "▶ ", "bold reverse"
        elif update is not None and update.absent:
            mark, style = "✗ ", "dim strike"
        elif n < standup.current:
            mark, style = "✓ ", "dim"
        else:
            mark, style = "· ", ""
        text.append(mark, style=style)
        text.append_text(safe(name, style=style, max_cells=24))
        if update is not None and update.airtime_s and n != standup.current:
            text.append(f"  {duration_text(update.airtime_s)}", style="dim")
        if update is not None and update.late:
            text.append("  late", style="italic")
        text.append("\n")
    absent = [state.members[u.member_id].name for u in standup.updates
              if u.absent and u.member_id not in standup.order and u.member_id in state.members]
    if absent:
        text.append("absent: ", style="dim")
        text.append_text(safe(", ".join(absent), style="dim"))
    else:
        text.rstrip()
    return text


def speaker_work(state: State, standup: Standup, member_id: str | None, today: date,
                 with_notes: bool = False) -> Text:
    """The speaker's open blockers (with age and who helps) and their open sprint items; ``with_notes``, their
    notes first (when the fields above hold someone else's: a participant's own, in a shared room)."""
    names = {m.id: m.name for m in state.members.values()}
    said = Text(end="")
    update = update_of(standup, member_id) if with_notes and member_id is not None else None
    if with_notes and member_id is not None:
        said.append(f"{plain(names.get(member_id, '?'))}'s notes\n", style="bold")
        for label, value in (("yesterday", update.yesterday if update else ""),
                             ("today", update.today if update else "")):
            said.append(f"{label:<10}", style="dim")
            said.append_text(safe(value, max_cells=70) if value else Text("—", style="dim"))
            said.append("\n")
    blockers = Text(end="")
    if member_id is not None:
        mine = open_blockers(state, member_id)
        blockers.append(f"Open blockers ({len(mine)})\n", style="bold")
        for b in mine:
            blockers.append(f"day {blocker_age(b, today)} ", style="bold")
            blockers.append_text(safe(b.text, max_cells=60))
            if b.helper_id:
                blockers.append("  helping: ", style="dim")
                blockers.append_text(safe(names.get(b.helper_id, "?"), style="dim"))
            blockers.append("\n")
        if not mine:
            blockers.append("none\n", style="dim")
        helping = [b for b in open_blockers(state) if b.helper_id == member_id]
        if helping:
            blockers.append(f"Helping with ({len(helping)})\n", style="bold")
            for b in helping:
                blockers.append(f"day {blocker_age(b, today)} ", style="bold")
                blockers.append_text(safe(names.get(b.member_id, "—"), style="dim"))
                blockers.append(": ", style="dim")
                blockers.append_text(safe(b.text, max_cells=60))
                blockers.append("\n")
    items = Text(end="")
    if member_id is not None:
        work = open_items_of(state, member_id, standup.sprint_id)
        items.append(f"Open sprint items ({len(work)})\n", style="bold")
        for item in work[:8]:
            items.append(f"{item.status:<8}", style="dim")
            items.append_text(safe(item.title, max_cells=70))
            items.append("\n")
        if len(work) > 8:
            items.append(f"… and {len(work) - 8} more\n", style="dim")
        if not work:
            items.append("none\n", style="dim")
    parts = [said, blockers, items] if with_notes else [blockers, items]
    if member_id is not None and (focus := focus_rows(state, member_id, today)):
        metrics = Text("Focus metrics\n", style="bold", end="")
        for row in focus:
            metrics.append_text(safe(row.name, max_cells=28))
            metrics.append(" " * max(1, 30 - Text(plain(row.name)).cell_len))
            metrics.append(spark_text(row.series), style=f"bold {STATUS_STYLE[row.status]}")
            metrics.append(f"  {format_value(row.latest, row.unit)}", style="bold")
            metrics.append(f"  {'≥' if row.direction == 'higher' else '≤'} {format_value(row.target, row.unit)}\n",
                           style="dim")
        parts.append(metrics)
    return Text("\n", end="").join(parts)


STATUS_STYLE = {"green": "green", "amber": "yellow", "red": "red", "none": "dim"}


def focus_rows(state: State, member_id: str, today: date) -> list:
    """The sprint's focus metrics, as this speaker's values (per-member metrics) or the team's."""
    return [metric_row(state, metric_id, period="day", member_id=member_id, today=today)
            for metric_id in focus_metrics(state)]


def parking_text(standup: Standup) -> Text:
    text = Text(f"Parking lot ({len(standup.parking)})\n", style="bold", end="")
    for topic in standup.parking:
        text.append("• ")
        text.append_text(safe(topic))
        text.append("\n")
    if not standup.parking:
        text.append("empty: p adds a topic\n", style="dim")
    return text


def summary_renderable(state: State, report: Summary) -> Group:
    s = report.standup
    head = Text.assemble(("Standup of ", "bold"), (s.date, "bold"), "  ·  facilitator ",
                         safe(report.facilitator or "—"), f"  ·  total {duration_text(report.total_s)}",
                         f" of {s.length_min}:00", end="")
    if s.status == "live":
        head.append("  ·  still running", style="bold")
    table = Table(box=None, pad_edge=False, expand=False, header_style="bold")
    for column, justify in (("Speaker", "left"), ("Airtime", "right"), ("Box", "right"), ("±", "right"),
                            ("", "left")):
        table.add_column(column, justify=justify)
    for a in report.speakers:
        over = a.over_s
        mark = []
        if report.quickest is a:
            mark.append("quickest")
        if report.longest is a:
            mark.append("longest")
        if a.late:
            mark.append("late")
        table.add_row(safe(a.name), duration_text(a.airtime_s), duration_text(a.box_s),
                      Text(("+" if over >= 0.5 else "−" if over <= -0.5 else "") + duration_text(abs(over)),
                           style="bold" if over > 0 else ""), ", ".join(mark))
    parts: list = [head, Text(""), table]
    if report.absent:
        parts.append(Text.assemble(("Absent: ", "bold"), safe(", ".join(report.absent))))
    if report.silent:
        parts.append(Text.assemble(("Not reached: ", "bold"), safe(", ".join(report.silent))))
    names = {m.id: m.name for m in state.members.values()}
    for title, blockers in (("Blockers opened", report.opened), ("Blockers resolved", report.resolved)):
        block = Text(f"{title} ({len(blockers)})", style="bold", end="")
        for b in blockers:
            block.append("\n• ")
            block.append_text(safe(names.get(b.member_id, "—")))
            block.append(": ")
            block.append_text(safe(b.text))
        parts.extend([Text(""), block])
    parts.extend([Text(""), parking_text(s)])
    if report.next_facilitator:
        parts.append(Text.assemble(("Next time's facilitator (rotation): ", "bold"), safe(report.next_facilitator)))
    notes = Table(box=None, pad_edge=False, header_style="bold", title=None)
    for column in ("Who", "Yesterday", "Today", "Blockers"):
        notes.add_column(column, overflow="fold")
    for update in s.updates:
        if update.absent and not update.airtime_s:
            continue
        notes.add_row(safe(names.get(update.member_id, "?")), *(lines(text) for text in (
            update.yesterday, update.today, update.blockers)))
    parts.extend([Text(""), Text("What was said", style="bold"), notes])
    return Group(*parts)


def lines(text: str) -> Text:
    """Several lines of user text (one blocker a line), each shown as text."""
    return Text("\n".join(plain(line) for line in text.split("\n")))


class SummaryView(Static):
    def show(self, state: State, report: Summary) -> None:
        self.shown = summary_renderable(state, report)
        self.update(self.shown)

    def plain_text(self, width: int = 120) -> str:
        """What the summary says, as plain text (for tests and for copying)."""
        from rich.console import Console

        console = Console(width=width, record=True, file=open(os.devnull, "w"), color_system=None)  # noqa: SIM115
        console.print(self.shown)
        return console.export_text()
