"""The retrospective (key 4): review, reflect, group, vote, discuss, close, all by keyboard.

One list shows the phase's lines (cards by column, topics, vote targets, topics in vote order, action items); a
phase bar shows the phase, its timer, who is ready and whom this terminal is acting as (on one terminal the
facilitator writes cards and casts votes for each member in turn, for teams that vote out loud). The rules
(budgets, caps, phases, anonymity) are the domain's; this screen sends ops and draws the state."""

from __future__ import annotations

from rich.text import Text
from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical
from textual.geometry import Region
from textual.widgets import OptionList, Static, TextArea

from ...domain import retro as q
from ...domain.model import Retro
from ...domain.standup import RoundTime
from ..text import safe
from ..widgets.key_bar import KeyBar
from ..widgets.retro_view import (
    PHASE_HINTS,
    action_options,
    discuss_options,
    group_options,
    phase_bar,
    reflect_options,
    review_options,
    topic_detail,
    vote_options,
)
from ..widgets.room_bar import RoomBar
from .base import RitualScreen
from .retro_actions import RetroActions

TICK_S = 0.25
NOTES_SAVE_AFTER_S = 0.8


class RetroList(OptionList):
    BINDINGS = [
        Binding("j", "cursor_down", "Down", show=False, id="retro.down"),
        Binding("k", "cursor_up", "Up", show=False, id="retro.up"),
    ]

    def replace_prompts(self, prompts: dict[int, object]) -> None:
        """Give some options new prompts, redrawing only their lines. (``replace_option_prompt`` forgets every
        option's rendering and repaints the whole list: a vote on a retro of 40 topics redrew all 40.)"""
        cache = self._option_render_cache
        changed = {id(self.options[index]) for index in prompts}
        for key in [k for k in cache.keys() if id(k[0]) in changed]:
            cache.discard(key)
        heights = self._heights
        index_to_line = self._index_to_line
        width = self.scrollable_content_region.width - self._get_left_gutter_width()
        padding = self.get_component_styles("option-list--option").padding
        for index, prompt in prompts.items():
            option = self.options[index]
            option._set_prompt(prompt)
            if self._get_visual(option).get_height(self.styles, width - padding.width) + option._divider \
                    != heights.get(index):
                self._clear_caches()  # a line grew or shrank: the lines below move
                return
        for index in prompts:  # the lines, not the scrollbar beside them
            self.refresh(Region(0, index_to_line[index] - self.scroll_offset.y, width, heights[index]))


class RetroScreen(RetroActions, RitualScreen):
    TITLE_TEXT = "Retro"
    FACILITATOR_ACTIONS = frozenset({"new_retro", "phase", "reveal", "topic", "timer", "act_as", "settings",
                                     "close_retro"})
    BINDINGS = [
        Binding("N", "new_retro", "New retro", id="retro.new", tooltip="A retro of a sprint: template, votes"),
        Binding("greater_than_sign", "phase('next')", "Next phase", id="retro.next_phase"),
        Binding("less_than_sign", "phase('back')", "Back a phase", id="retro.previous_phase", show=False),
        Binding("a", "add", "Add", id="retro.add", tooltip="A card (reflect) or an action item (discuss, close)"),
        Binding("e", "edit", "Edit", id="retro.edit", tooltip="A card, a topic's name or an action item"),
        Binding("d", "delete_or_done", "Delete/done", id="retro.delete",
                tooltip="Delete a card or an action; in review: mark done"),
        Binding("c", "carried", "Carried", id="retro.carried", show=False, tooltip="In review: the action carries on"),
        Binding("space", "mark", "Mark", id="retro.mark", tooltip="Mark a card or topic to merge (group)"),
        Binding("m", "merge", "Merge", id="retro.merge", tooltip="Merge the marked into the line under the cursor"),
        Binding("s", "split", "Split out", id="retro.split", show=False, tooltip="A card out of its topic"),
        Binding("plus,v", "vote(1)", "+vote/+2 min", id="retro.plus",
                tooltip="Vote (vote phase); two more minutes on the topic (discuss); a minute more (other phases)"),
        Binding("minus,V", "vote(-1)", "−vote", id="retro.minus", show=False, tooltip="Take a vote back"),
        Binding("R", "reveal", "Reveal", id="retro.reveal", show=False, tooltip="Show everyone's votes"),
        Binding("r", "ready", "Ready", id="retro.ready", tooltip="Tick ready / finished for whom you act as"),
        Binding("n", "topic('next')", "Next topic", id="retro.next_topic", show=False),
        Binding("b", "topic('back')", "Previous topic", id="retro.previous_topic", show=False),
        Binding("i", "notes", "Notes", id="retro.notes", show=False, tooltip="The discussed topic's notes"),
        Binding("t", "timer", "Timer", id="retro.timer", tooltip="Start, pause or resume the phase's timer"),
        Binding("h,left", "column(-1)", "Column", id="retro.column_left", show=False),
        Binding("l,right", "column(1)", "Column", id="retro.column_right", show=False),
        Binding("A", "act_as", "Act as", id="retro.act_as", tooltip="Write and vote as a team member"),
        Binding("S", "settings", "Settings", id="retro.settings", show=False, tooltip="Votes and timers"),
        Binding("C", "close_retro", "Close retro", id="retro.close", show=False),
        Binding("escape", "leave_notes", "Leave notes", id="retro.leave_notes", show=False),
        Binding("u", "take_back('undo')", "Undo", id="retro.undo", show=False),
        Binding("ctrl+r", "take_back('redo')", "Redo", id="retro.redo", show=False),
    ]
    ACTIONS = tuple(dict.fromkeys(binding.action.partition("(")[0] for binding in BINDINGS))

    def __init__(self, **kwargs) -> None:
        super().__init__(**kwargs)
        self.retro: Retro | None = None
        self.acting: str = ""  # the member this terminal writes and votes as; "" = the session's own actor
        self.marked: set[str] = set()
        self._shown: tuple | None = None
        self._statics: dict[str, tuple] = {}  # what the phase bar and hint show (see _update_static)
        self._offered: tuple | None = None  # check_action of each of ACTIONS when the key bar was last built
        self._notes_topic: str | None = None
        self._notes_timer = None
        self._rung: set[tuple] = set()
        self._time: RoundTime | None = None

    def compose(self) -> ComposeResult:
        yield RoomBar(id="room-bar")
        yield Static(id="phase-bar", classes="list-heading")
        yield Static(id="phase-hint")
        with Horizontal(id="retro-body"):
            yield RetroList(id="retro-list")
            with Vertical(id="retro-side"):
                yield Static(id="topic-detail")
                yield TextArea(id="topic-notes", soft_wrap=True, show_line_numbers=False)
        yield Static(id="retro-empty")
        yield KeyBar()

    def on_mount(self) -> None:
        self._time = RoundTime(self.app.session.clock)
        self.set_interval(TICK_S, self._tick)
        self.show_state(self.app.session.state)

    @property
    def round_time(self) -> RoundTime:
        if self._time is None:
            self._time = RoundTime(self.app.session.clock)
        return self._time

    @property
    def actor(self) -> str:
        if self.acting and not self.role_allows("act_as"):  # the facilitator role was handed over
            self.acting = ""
        return self.acting or self.app.session.actor

    def acting_name(self, state) -> str:
        if self.acting and self.role_allows("act_as"):
            return q.name_of(state, self.acting)
        if getattr(self.app.session, "shared", False):  # a shared room: each terminal is its member
            return f"{q.name_of(state, self.app.session.actor)} (you)"
        return "you (A: a member)"

    # ------------------------------------------------------------------ drawing

    def draw(self, state) -> None:
        retro = q.current_retro(state)
        self.retro = retro
        empty = self.query_one("#retro-empty", Static)
        body = self.query_one("#retro-body")
        has = retro is not None
        empty.display = not has
        body.display = has
        self.query_one("#phase-hint").display = has
        # Rebuild the key bar only when the keys on offer changed: on every vote it would cost a repaint for nothing.
        offered = tuple(self.check_action(action, ()) for action in self.ACTIONS)
        if offered != self._offered:
            self._offered = offered
            self.refresh_bindings()
        if retro is None:
            self._update_static("#phase-bar", Text("Retro", style="bold"))
            empty.update("No retro yet. N starts one for a sprint: a template, anonymous cards, votes per person.")
            return
        now = self.round_time.now(retro)
        self._draw_bar(state, retro, now)
        hint = PHASE_HINTS.get(retro.phase, "") if retro.status == "open" else (
            "This retro is closed: its actions are items of the next sprint. N starts the next retro.")
        self._update_static("#phase-hint", Text(hint, style="dim"))
        phase = retro.phase if retro.status == "open" else "close"
        options = {
            "review": lambda: review_options(state, retro),
            "reflect": lambda: reflect_options(state, retro, self.actor),
            "group": lambda: group_options(state, retro, self.marked),
            "vote": lambda: vote_options(state, retro, self.actor),
            "discuss": lambda: discuss_options(state, retro, now),
            "close": lambda: action_options(state, retro),
        }[phase]()
        self._fill(options, retro)
        side = phase == "discuss" and bool(retro.discussing)
        self.query_one("#retro-side").display = side
        if side:
            self.query_one("#topic-detail", Static).update(topic_detail(state, retro, retro.discussing))
            self._show_notes(retro)
        elif self._notes_topic is not None:  # discuss is over (here or elsewhere): keep what was typed
            self.save_notes(anywhere=True)
            self._notes_topic = None
            if isinstance(self.focused, TextArea):
                self.query_one(RetroList).focus()

    def _fill(self, options, retro: Retro) -> None:
        listing = self.query_one(RetroList)
        key = (retro.id, retro.phase, tuple((o.id, str(o.prompt)) for o in options))
        if key == self._shown:
            return
        shown, self._shown = self._shown, key
        if shown is not None and self._update_lines_in_place(listing, shown, key, options):
            self._focus_list(listing)
            return
        keep = listing.highlighted_option.id if listing.highlighted_option is not None else None
        position = listing.highlighted or 0
        listing.clear_options()
        listing.add_options(options)
        ids = [o.id for o in options]
        if keep in ids:
            listing.highlighted = ids.index(keep)
        elif options:
            listing.highlighted = min(position, len(options) - 1)
        self._focus_list(listing)

    def _focus_list(self, listing: RetroList) -> None:
        """The list takes the focus back after a change, unless the notes have it. (Widget.focus repaints the
        whole widget, even when it has the focus already: not on every vote.)"""
        if self.focused is not listing and not isinstance(self.focused, TextArea):
            listing.focus()

    @staticmethod
    def _update_lines_in_place(listing: RetroList, shown: tuple, key: tuple, options) -> bool:
        """The same lines as shown (ids, in order), some with new text (a vote, a rename): give those their new
        prompts, leaving the cursor, the scroll and every other line as they are. False if the lines differ."""
        old, new = shown[2], key[2]
        if shown[:2] != key[:2] or len(old) != len(new) or listing.option_count != len(options):
            return False
        current = listing.options
        changed = {}
        for index, (was, now, option) in enumerate(zip(old, new, options, strict=True)):
            if was[0] != now[0] or current[index].id != now[0] or current[index].disabled != option.disabled:
                return False
            if was[1] != now[1]:
                changed[index] = option.prompt
        listing.replace_prompts(changed)
        return True

    def _update_static(self, selector: str, text: Text) -> None:
        """Update one of the fixed-height bars (phase bar, hint) if its text changed: no layout (their CSS fixes
        their height), and no repaint when a vote changed only the list."""
        look = (text.plain, str(text.style), tuple(text.spans))
        if self._statics.get(selector) != look:
            self._statics[selector] = look
            self.query_one(selector, Static).update(text, layout=False)

    def _draw_bar(self, state, retro: Retro, now: float) -> None:
        clock = q.retro_clock(retro, now)
        self._update_static("#phase-bar", phase_bar(state, retro, clock, self.actor, self.acting_name(state)))
        if clock is not None and clock.running and clock.band != "green":
            key = (retro.id, retro.phase, clock.topic_id, clock.box_s)
            if key not in self._rung:
                self._rung.add(key)
                self.app.bell()

    def _tick(self) -> None:
        retro = self.retro
        if retro is None or retro.status != "open" or retro.timer_since is None or self.app.screen is not self:
            return
        self._draw_bar(self.app.session.state, retro, self.round_time.now(retro))

    # ------------------------------------------------------------------ the discussed topic's notes

    def _show_notes(self, retro: Retro) -> None:
        notes = self.query_one("#topic-notes", TextArea)
        if retro.discussing != self._notes_topic:
            self.save_notes()
            self._notes_topic = retro.discussing
            talk = q.talk_of(retro, retro.discussing)
            notes.load_text(talk.notes if talk else "")

    @on(TextArea.Changed, "#topic-notes")
    def _notes_typed(self) -> None:
        if self._notes_timer is not None:
            self._notes_timer.stop()
        self._notes_timer = self.set_timer(NOTES_SAVE_AFTER_S, self.save_notes)

    def save_notes(self, anywhere: bool = False) -> None:
        """Save the notes typed for the topic they belong to (nothing typed is lost). ``anywhere``: also when the
        retro has just left discuss (the notes are then kept in the topic's talk by a note op sent first)."""
        if self._notes_timer is not None:
            self._notes_timer.stop()
            self._notes_timer = None
        retro = self.app.session.state.retros.get(self.retro.id) if self.retro else None
        topic = self._notes_topic
        if retro is None or topic is None or retro.status != "open":
            return
        if retro.phase not in q.NOTE_PHASES:
            if anywhere and self.query_one("#topic-notes", TextArea).text.strip():
                self.app.say("The retro left the discussion before your notes were saved; they are kept in the "
                             "notes box of the topic: go back to discuss (<) to save them.", severity="warning",
                             timeout=10)
            return
        text = self.query_one("#topic-notes", TextArea).text
        talk = q.talk_of(retro, topic)
        if text.strip() != (talk.notes if talk else ""):
            self.app.submit("retro.note", retro_id=retro.id, topic_id=topic, text=text)

    def flush_drafts(self) -> None:
        self.save_notes()

    def on_screen_suspend(self) -> None:
        self.save_notes()

    # ------------------------------------------------------------------ what the cursor is on

    def selected(self) -> tuple[str, str] | None:
        """(kind, id) of the highlighted line: col, card, topic, target, review, action."""
        option = self.query_one(RetroList).highlighted_option
        if option is None or not option.id:
            return None
        kind, _, rest = option.id.partition(":")
        return kind, rest

    def selected_target(self) -> str | None:
        """The vote target (topic or ungrouped card) under the cursor."""
        found = self.selected()
        if found is None or self.retro is None:
            return None
        kind, ident = found
        if kind in ("topic", "target"):
            return ident
        if kind == "card":
            return q.target_of(self.retro, ident)
        return None

    def column_under_cursor(self) -> str | None:
        """In reflect: the column of the highlighted line (a heading or a card)."""
        listing = self.query_one(RetroList)
        index = listing.highlighted
        while index is not None and index >= 0:
            option = listing.get_option_at_index(index)
            if option.id and option.id.startswith("col:"):
                return option.id[4:]
            index -= 1
        return self.retro.columns[0] if self.retro and self.retro.columns else None

    def check_action(self, action: str, parameters) -> bool | None:
        if not self.role_allows(action):
            return False
        retro = self.retro
        if action == "new_retro":
            return retro is None or retro.status == "closed"
        if action in ("act_as", "settings"):
            return retro is not None and retro.status == "open"
        if retro is None or retro.status != "open":
            return False
        phase = retro.phase
        allowed = {
            "mark": phase == "group", "merge": phase == "group", "split": phase == "group",
            "carried": phase == "review", "reveal": phase == "vote" and not retro.revealed,
            "topic": phase == "discuss", "notes": phase == "discuss" and bool(retro.discussing),
            "column": phase == "reflect",
            "ready": phase in q.READY_PHASES, "timer": retro.timer_box_s > 0,
            "add": phase in ("reflect", "discuss", "close"), "edit": phase in ("reflect", "group", "close"),
            "leave_notes": isinstance(self.focused, TextArea),
        }
        return allowed.get(action, True)


__all__ = ["RetroScreen", "safe"]
