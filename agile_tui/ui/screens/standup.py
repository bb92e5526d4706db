"""The daily standup (key 2): a countdown round that captures yesterday, today and blockers.

Three views: the lobby (no round running: open blockers and earlier standups by date), the live round (the
speaker's clock, the queue, their notes, blockers and open items; the parking lot after the last speaker), and
the summary of a round. The clock is state in the room (see domain/standup.py); this screen only reads it a
few times a second and redraws what changed."""

from __future__ import annotations

import random

from rich.text import Text
from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical, VerticalScroll
from textual.screen import ModalScreen
from textual.widgets import ContentSwitcher, DataTable, Input, Label, Static

from ...domain.model import Standup
from ...domain.ops import new_id
from ...domain.standup import (
    MAX_LENGTH_MIN,
    MIN_LENGTH_MIN,
    RoundTime,
    blocker_age,
    current_speaker,
    duration_text,
    live_standup,
    members_in_order,
    next_facilitator,
    open_blockers,
    standups_by_date,
    summary,
    turn_clock,
)
from ..text import safe
from ..widgets.dialogs import PromptDialog
from ..widgets.key_bar import KeyBar
from ..widgets.room_bar import RoomBar
from ..widgets.safe_input import SafeInput
from ..widgets.standup_dialogs import PickDialog, StartStandupDialog
from ..widgets.standup_view import (
    SpeakerClock,
    SummaryView,
    clock_status,
    parking_text,
    queue_text,
    speaker_line,
    speaker_work,
)
from .base import RitualScreen
from .standup_notes import StandupNotes

TICK_S = 0.25
NOTE_SAVE_AFTER_S = 0.8  # typing pauses this long: the note is saved
LIVE_ONLY = {"turn", "pause", "more", "end", "park", "late", "capture"}


class QueuePanel(Static, can_focus=True):
    """The speaking order. It holds the focus while nobody types, so the round's keys reach the screen."""


class StandupScreen(StandupNotes, RitualScreen):
    TITLE_TEXT = "Standup"
    FACILITATOR_ACTIONS = frozenset({"start", "turn", "pause", "more", "late", "end"})
    BINDINGS = [
        Binding("s", "start", "Start standup", id="standup.start"),
        Binding("n", "turn('next')", "Next", id="standup.next"),
        Binding("b", "turn('back')", "Back", id="standup.back"),
        Binding("x", "turn('skip')", "Skip", id="standup.skip",
                tooltip="Skip the speaker (absent if they have not spoken)"),
        Binding("space", "pause", "Pause", id="standup.pause", tooltip="Pause or resume the speaker's clock"),
        Binding("plus", "more", "+1 min", id="standup.more"),
        Binding("i", "capture", "Notes", id="standup.notes", tooltip="Type yesterday, today and blockers"),
        Binding("p", "park", "Park", id="standup.park", tooltip="Add a topic to the parking lot"),
        Binding("l", "late", "Late", id="standup.late", tooltip="Someone arrived: to the end of the queue"),
        Binding("r", "resolve", "Resolve", id="standup.resolve", tooltip="Resolve an open blocker"),
        Binding("e", "end", "End", id="standup.end", tooltip="End the round and show the summary"),
        Binding("escape", "leave", "Leave", id="standup.leave", show=False,
                tooltip="Leave a notes field, or go back from a summary"),
    ]

    def __init__(self, **kwargs) -> None:
        super().__init__(**kwargs)
        self._view = "lobby"
        self._summary_id: str | None = None
        self._live: Standup | None = None
        self._note_member: str | None = None
        self._note_standup: str | None = None  # the round the fields' text belongs to
        self._note_timer = None
        self._rung: set[tuple] = set()
        self._shuffle = True
        self._time: RoundTime | None = None
        self._status_shown: Text | None = None

    # ------------------------------------------------------------------ layout

    def compose(self) -> ComposeResult:
        yield RoomBar(id="room-bar")
        with ContentSwitcher(initial="lobby", id="standup-views"):
            with VerticalScroll(id="lobby"):
                yield Static(id="lobby-hint", classes="list-heading")
                yield Static(Text("Open blockers (r resolves the selected one)", style="bold"),
                             classes="list-heading")
                yield DataTable(id="blockers-table", cursor_type="row", zebra_stripes=True)
                yield Static(Text("Standups by date (enter shows one)", style="bold"), classes="list-heading")
                yield DataTable(id="standups-table", cursor_type="row", zebra_stripes=True)
            with Horizontal(id="live"):
                with Vertical(id="round-panel"):
                    yield Static(id="speaker-line")
                    yield SpeakerClock("--:--", id="clock")
                    yield Static(id="clock-status")
                    yield QueuePanel(id="queue")
                    yield Static(id="parking-count")
                with VerticalScroll(id="capture-panel"):
                    with Vertical(id="capture"):
                        yield Label("Yesterday", classes="note-label")
                        yield SafeInput(id="note-yesterday", max_length=2000, placeholder="What I achieved yesterday")
                        yield Label("Today", classes="note-label")
                        yield SafeInput(id="note-today", max_length=2000, placeholder="What I will do today")
                        yield Label("Blockers: enter raises one (open until resolved)", classes="note-label")
                        yield SafeInput(id="note-blocker", max_length=2000, placeholder="What blocks me")
                        yield Static(id="speaker-work")
                    yield Static(id="parking-view")
            with VerticalScroll(id="summary"):
                yield SummaryView(id="summary-view")
        yield KeyBar()

    def on_mount(self) -> None:
        self._time = RoundTime(self.app.session.clock)
        self._ticker = self.set_interval(TICK_S, self._tick, pause=True)
        self.show_state(self.app.session.state)

    @property
    def round_time(self) -> RoundTime:
        if self._time is None:
            self._time = RoundTime(self.app.session.clock)
        return self._time

    # ------------------------------------------------------------------ drawing

    def draw(self, state) -> None:
        self._live = live_standup(state)
        if self._live is not None:
            view = "live"
        elif self._summary_id is not None and self._summary_id in state.standups:
            view = "summary"
        else:
            view = "lobby"
        if view != self._view:
            if self._view == "live":
                self._flush_notes()  # the round ended (here or elsewhere): what was typed is saved first
                self._note_member = self._note_standup = None
            self._view = view
            self.query_one(ContentSwitcher).current = view
            self.refresh_bindings()
            if view == "live":
                self.query_one(QueuePanel).focus()
            elif view == "lobby":
                self.query_one("#standups-table", DataTable).focus()
            else:
                self.query_one("#summary").focus()
        if view == "live":
            self._draw_live(state, self._live)
            self._ticker.resume()
        else:
            self._ticker.pause()
            if view == "summary":
                report = summary(state, state.standups[self._summary_id])
                self.query_one(SummaryView).show(state, report)
            else:
                self._draw_lobby(state)

    def _draw_lobby(self, state) -> None:
        today = self.app.today()
        done_today = [s for s in state.standups.values() if s.date == today.isoformat() and s.status == "closed"]
        who = next_facilitator(state)
        name = state.members[who].name if who in state.members else "—"
        hint = Text.assemble(
            ("No standup is running. ", "bold"),
            "s starts today's standup" if not done_today else "Today's standup is done; s starts another",
            " · facilitator by rotation: ", safe(name, style="bold"))
        self.query_one("#lobby-hint", Static).update(hint)
        names = {m.id: m.name for m in state.members.values()}
        blockers = self.query_one("#blockers-table", DataTable)
        blockers.clear(columns=not blockers.columns)
        if not blockers.columns:
            blockers.add_columns("Age", "Who", "Blocker", "Helping", "Item")
        for b in open_blockers(state):
            item = state.items.get(b.item_id or "")
            blockers.add_row(Text(f"day {blocker_age(b, today)}", style="bold"), safe(names.get(b.member_id, "—")),
                             safe(b.text, max_cells=60), safe(names.get(b.helper_id or "", "—")),
                             safe(item.title if item else "—", max_cells=40), key=b.id)
        table = self.query_one("#standups-table", DataTable)
        table.clear(columns=not table.columns)
        if not table.columns:
            table.add_columns("Date", "Facilitator", "Spoke", "Total time", "Blockers raised", "Parking lot")
        for s in standups_by_date(state):
            spoke = [u for u in s.updates if u.airtime_s > 0]
            total = s.ended_after_s if s.ended_after_s is not None else sum(u.airtime_s for u in spoke)
            raised = sum(1 for b in state.blockers.values() if b.standup_id == s.id)
            table.add_row(s.date, safe(names.get(s.facilitator_id, "—")), f"{len(spoke)} of {len(s.updates)}",
                          duration_text(total), str(raised), str(len(s.parking)), key=s.id)

    def _draw_live(self, state, standup: Standup) -> None:
        clock = turn_clock(standup, self.round_time.now(standup))
        member_id = current_speaker(standup)
        self.query_one("#speaker-line", Static).update(speaker_line(state, standup, clock))
        self._show_clock(clock)
        self.query_one(QueuePanel).update(queue_text(state, standup))
        parked = len(standup.parking)
        self.query_one("#parking-count", Static).update(
            Text(f"parking lot: {parked} topic{'s' if parked != 1 else ''} (p adds one)", style="dim"))
        self.query_one("#capture").display = member_id is not None
        parking = self.query_one("#parking-view", Static)
        parking.display = member_id is None
        if member_id is None:
            self._flush_notes()
            self._note_member = None
            if isinstance(self.focused, Input):  # the fields are hidden now: the round's keys again
                self.query_one(QueuePanel).focus()
            parking.update(parking_text(standup))
            return
        self._fill_notes(standup, self._note_writer(member_id))
        own_notes = self._note_writer(member_id) != member_id  # a participant's own fields: show the speaker's
        self.query_one("#speaker-work", Static).update(speaker_work(state, standup, member_id, self.app.today(),
                                                                    with_notes=own_notes))

    def _show_clock(self, clock) -> None:
        self.query_one(SpeakerClock).show(clock)
        status = clock_status(clock)
        if status != self._status_shown:
            self._status_shown = status
            self.query_one("#clock-status", Static).update(status)

    def _tick(self) -> None:
        standup = self._live
        if standup is None or self._view != "live":
            return
        shown = self.app.screen
        if shown is not self and not isinstance(shown, ModalScreen):
            return  # another ritual is on screen: nothing to draw, no bell
        clock = turn_clock(standup, self.round_time.now(standup))
        self._show_clock(clock)
        if clock is not None and not clock.paused and clock.band in ("amber", "red"):
            key = (standup.id, clock.member_id, clock.box_s)
            if key not in self._rung:  # the bell rings once, at 15 s left
                self._rung.add(key)
                self.app.bell()

    # ------------------------------------------------------------------ notes

    @on(Input.Changed, "#note-yesterday, #note-today")
    def _note_typed(self) -> None:
        if self._note_timer is not None:
            self._note_timer.stop()
        self._note_timer = self.set_timer(NOTE_SAVE_AFTER_S, lambda: self._flush_notes(with_blocker=False))

    def on_screen_suspend(self) -> None:
        self._flush_notes()

    @on(Input.Submitted, "#note-yesterday, #note-today")
    def _next_field(self, event: Input.Submitted) -> None:
        self._flush_notes(with_blocker=False)
        self.focus_next()

    @on(Input.Submitted, "#note-blocker")
    def _raise_blocker(self, event: Input.Submitted) -> None:
        standup_id, member_id = self._note_standup, self._note_member
        if standup_id is None or member_id is None:
            return
        blocker_id = self._raise_pending_blocker(standup_id, member_id)
        if blocker_id is not None:
            self._ask_helper(blocker_id, member_id)

    # ------------------------------------------------------------------ actions

    def check_action(self, action: str, parameters) -> bool | None:
        if not self.role_allows(action):
            return False
        if action in LIVE_ONLY:
            return self._view == "live"
        if action == "start":
            return self._view != "live"
        return True

    def action_start(self) -> None:
        state = self.app.session.state
        if live_standup(state) is not None:
            self.app.say("A standup is already running.", severity="warning")
            return
        members = [(m.id, m.name) for m in members_in_order(state)]
        if not members:
            self.app.say("The team has nobody yet: add members on planning (T).", severity="warning")
            return

        def start(present: list[str], length_text: str, shuffled: bool, facilitator: str | None) -> str | None:
            try:
                length = int(length_text)
            except ValueError:
                return f"Minutes must be a whole number from {MIN_LENGTH_MIN} to {MAX_LENGTH_MIN}."
            order = [member_id for member_id, _ in members if member_id in present]
            if shuffled:
                random.shuffle(order)
            self._shuffle = shuffled
            return self.app.submit("standup.start", id=new_id("standup-"), date=self.app.today().isoformat(),
                                   order=order, length_min=length, shuffled=shuffled,
                                   facilitator_id=facilitator or "", **self.round_time.started())

        self.app.push_screen(StartStandupDialog(members, next_facilitator(state), self._shuffle, start))

    def _at(self) -> tuple[Standup, float] | None:
        standup = live_standup(self.app.session.state)
        if standup is None:
            return None
        return standup, self.round_time.now(standup)

    def action_turn(self, action: str) -> None:
        self._flush_notes()
        if (live := self._at()) is not None:
            standup, at = live
            self.app.submit("standup.turn", id=standup.id, action=action, at=at, expect=standup.current)

    def action_pause(self) -> None:
        if (live := self._at()) is not None:
            standup, at = live
            action = "resume" if standup.running_since is None else "pause"
            self.app.submit("standup.timer", id=standup.id, action=action, at=at)

    def action_more(self) -> None:
        if (live := self._at()) is not None:
            standup, at = live
            self.app.submit("standup.timer", id=standup.id, action="more", at=at, seconds=60)

    def action_end(self) -> None:
        self._flush_notes()
        if (live := self._at()) is not None:
            standup, at = live
            self._summary_id = standup.id
            if self.app.submit("standup.end", id=standup.id, at=at) is not None:
                self._summary_id = None

    def action_capture(self) -> None:
        if self._note_member is not None:
            # At once, not on the next turn of the loop (``Widget.focus``): keys typed right after `i` (a fast
            # typist, a paste) are already queued and would reach the round's keys instead of the field.
            self.set_focus(self.query_one("#note-yesterday", Input))

    def action_leave(self) -> None:
        if isinstance(self.focused, Input):
            self._flush_notes()
            self.query_one(QueuePanel).focus()
        elif self._view == "summary":
            self._summary_id = None
            self.show_state(self.app.session.state)

    def action_park(self) -> None:
        standup = self._live

        def park(text: str) -> str | None:
            return self.app.submit("standup.park", id=standup.id, text=text) if standup else "No round is running."

        self.app.push_screen(PromptDialog("A topic for the parking lot (taken after the round)",
                                          "e.g. pricing for multi-year deals", park))

    def action_late(self) -> None:
        standup = self._live
        if standup is None:
            return
        state = self.app.session.state
        skipped = {u.member_id for u in standup.updates if u.absent and u.airtime_s <= 0}
        choices = [(m.id, m.name) for m in members_in_order(state) if m.id not in standup.order or m.id in skipped]
        if not choices:
            self.app.say("Everyone is already in the queue.", severity="information")
            return

        def join(member_id: str) -> str | None:
            live = self._at()
            if live is None:
                return "The round has ended."
            return self.app.submit("standup.turn", id=live[0].id, action="join", member_id=member_id, at=live[1])

        self.app.push_screen(PickDialog("Who has just joined? (they speak last)", choices, join))

    def action_resolve(self) -> None:
        state = self.app.session.state
        table = self.query_one("#blockers-table", DataTable)
        if self._view == "lobby" and table.has_focus and table.row_count:
            blocker_id = table.coordinate_to_cell_key(table.cursor_coordinate).row_key.value
            self._resolve(blocker_id)
            return
        member_id = current_speaker(self._live) if self._view == "live" and self._live else None
        candidates = open_blockers(state, member_id) or open_blockers(state)
        if not candidates:
            self.app.say("No open blockers.", severity="information")
            return
        names = {m.id: m.name for m in state.members.values()}
        today = self.app.today()
        choices = [(b.id, Text.assemble((f"day {blocker_age(b, today)} ", "bold"),
                                        safe(names.get(b.member_id, "—")), ": ", safe(b.text, max_cells=60)))
                   for b in candidates]
        self.app.push_screen(PickDialog("Which blocker is resolved?", choices, self._resolve_quietly))

    def _resolve_quietly(self, blocker_id: str) -> str | None:
        return self._resolve(blocker_id)

    def _resolve(self, blocker_id: str | None) -> str | None:
        blocker = self.app.session.state.blockers.get(blocker_id or "")
        if blocker is None:
            return "That blocker is gone."
        error = self.app.submit("blocker.resolve", id=blocker.id)
        if error is None:
            self.app.say(Text.assemble("Resolved: ", safe(blocker.text)), timeout=3)
        return error

    @on(DataTable.RowSelected, "#standups-table")
    def _show_summary(self, event: DataTable.RowSelected) -> None:
        self._summary_id = event.row_key.value
        self.show_state(self.app.session.state)
        self.query_one("#summary").focus()

    def running_clock(self) -> bool:
        """Whether a speaker's clock is running (quitting then asks first)."""
        standup = live_standup(self.app.session.state)
        return standup is not None and standup.running_since is not None
