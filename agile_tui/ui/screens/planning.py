"""Planning (key 1): the sprint and the backlog side by side with the burndown, edited at keyboard speed."""

from __future__ import annotations

from datetime import date

from rich.text import Text
from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical
from textual.widgets import Input, Static

from ...domain import new_id, planning
from ...domain.model import ITEM_KINDS
from ..text import safe
from ..widgets.item_editor import ItemEditor
from ..widgets.item_table import ItemTable
from ..widgets.key_bar import KeyBar
from ..widgets.room_bar import RoomBar
from .base import RitualScreen
from .planning_sprints import SprintActions

CHART_DELAY_S = 0.3


class PlanningScreen(SprintActions, RitualScreen):
    TITLE_TEXT = "Planning"
    FACILITATOR_ACTIONS = frozenset({"start_sprint", "close_sprint", "add_member"})
    BINDINGS = [
        Binding("a", "add", "Add", id="planning.add", tooltip="Add an item to the focused list"),
        Binding("e", "edit", "Edit", id="planning.edit", tooltip="Edit the selected item"),
        Binding("d", "delete", "Delete", id="planning.delete", tooltip="Delete the selected item (u undoes)"),
        Binding("u", "undo", "Undo", id="planning.undo"),
        Binding("ctrl+r", "redo", "Redo", id="planning.redo"),
        Binding("space", "cycle_status", "Status", id="planning.status", tooltip="todo → doing → done"),
        Binding("b", "block", "Block", id="planning.block", tooltip="Mark blocked: a blocker, open until resolved"),
        Binding("r", "resolve", "Resolve", id="planning.resolve", show=False,
                tooltip="Resolve the selected item's open blockers"),
        Binding("K", "move(-1)", "Move up", id="planning.move_up", show=False),
        Binding("J", "move(1)", "Move down", id="planning.move_down", show=False),
        Binding("m", "move_list", "Sprint⇄backlog", id="planning.move_list"),
        Binding("slash", "filter", "Filter", id="planning.filter"),
        Binding("n", "new_sprint", "New sprint", id="planning.new_sprint", show=False),
        Binding("E", "edit_sprint", "Edit sprint", id="planning.edit_sprint", show=False,
                tooltip="Name, dates, capacity and goal"),
        Binding("S", "start_sprint", "Start sprint", id="planning.start_sprint", show=False),
        Binding("C", "close_sprint", "Close sprint", id="planning.close_sprint", show=False),
        Binding("T", "add_member", "Add member", id="planning.add_member", show=False,
                tooltip="Add a team member with a role"),
        Binding("B", "toggle_chart", "Burndown", id="planning.burndown", show=False),
        Binding("F", "focus_metrics", "Focus metrics", id="planning.focus_metrics", show=False,
                tooltip="The sprint's focus metrics (up to three)"),
        Binding("escape", "clear_filter", "Clear filter", id="planning.clear_filter", show=False),
    ]

    def __init__(self, **kwargs) -> None:
        super().__init__(**kwargs)
        self._filter = ""
        self._chart_wanted: bool | None = None
        self._last_table: ItemTable | None = None
        self._headings_shown: dict[str, Text] = {}
        self._chart = None
        self._names_cache: tuple | None = None

    def compose(self) -> ComposeResult:
        yield RoomBar(id="room-bar")
        with Horizontal(id="planning-body"):
            with Vertical(id="lists"):
                yield Static(id="sprint-heading", classes="list-heading")
                yield ItemTable("sprint", id="sprint-table")
                yield Static(id="backlog-heading", classes="list-heading")
                yield ItemTable(None, id="backlog-table")
            yield Vertical(id="chart-slot")
        yield KeyBar()

    def on_mount(self) -> None:
        self.query_one("#sprint-table").focus()
        self.show_state(self.app.session.state)
        # The chart (plotext: ~100 ms to import and draw) comes a moment after the lists are on screen.
        self.set_timer(CHART_DELAY_S, self._mount_chart)
        self.set_timer(CHART_DELAY_S, self._editor)

    async def _mount_chart(self) -> None:
        """The burndown (plotext) arrives after the first paint, so opening the app never waits for it."""
        if self._chart is not None:
            return
        from ..widgets.burndown import BurndownChart

        self._chart = BurndownChart(id="burndown")
        await self.query_one("#chart-slot").mount(self._chart)
        self.draw(self.app.session.state)

    def on_resize(self) -> None:
        self._layout()

    # ------------------------------------------------------------------ drawing

    def _layout(self) -> None:
        wide = self.size.width >= 120
        show_chart = wide if self._chart_wanted is None else self._chart_wanted
        self.query_one("#chart-slot").display = show_chart

    def draw(self, state) -> None:
        today = self.app.today()
        sprint = planning.planning_sprint(state)
        names = self._names(state)
        ages = {i: planning.open_blocker_days(state, i, today) for i in
                {b.item_id for b in state.blockers.values() if b.item_id and not b.resolved_on}}
        ages = {k: v for k, v in ages.items() if v is not None and k in state.items}
        styles = self.app.status_styles()
        sprint_table = self.query_one("#sprint-table", ItemTable)
        sprint_table.list_id = sprint.id if sprint else "sprint"
        sprint_items = planning.items_in(state, sprint.id) if sprint else []
        backlog_items = planning.items_in(state, None)
        if self._filter:
            sprint_items = [i for i in sprint_items if planning.matches(state, i, self._filter)]
            backlog_items = [i for i in backlog_items if planning.matches(state, i, self._filter)]
        sprint_table.sync(sprint_items, names, ages, styles)
        self.query_one("#backlog-table", ItemTable).sync(backlog_items, names, ages, styles)
        self._headings(state, sprint, today)
        chart = self._chart
        if chart is not None and self.query_one("#chart-slot").display:
            if sprint is not None and sprint.status == "active":
                chart.show(planning.burndown(state, sprint, today), f"Burndown · {sprint.name}")
            else:
                chart.show(None, "Burndown: starts with the sprint")

    def _names(self, state) -> dict[str, str]:
        cached = self._names_cache
        if cached is None or cached[0] is not state.members:
            self._names_cache = (state.members, {m.id: m.name for m in state.members.values()})
        return self._names_cache[1]

    def _headings(self, state, sprint, today: date) -> None:
        heading = Text(no_wrap=True, overflow="ellipsis")
        if sprint is None:
            heading.append("No sprint yet", style="bold")
            heading.append(" · n creates one, then m moves backlog items into it", style="dim")
        else:
            items = planning.items_in(state, sprint.id)  # memoised: no second scan of every item
            committed = planning.points(items)
            done = planning.points(i for i in items if i.status == "done")
            heading.append_text(safe(sprint.name, style="bold"))
            heading.append(f" · {sprint.status} · ")
            over = sprint.capacity and committed > sprint.capacity
            heading.append(f"{committed}/{sprint.capacity} pts committed", style="bold")
            if over:
                heading.append(f" (over capacity by {committed - sprint.capacity})", style="bold")
            heading.append(f" · {done} done")
            if sprint.status == "planned":
                heading.append(" · S starts it", style="dim")
        self._update_heading("#sprint-heading", heading)
        backlog = planning.items_in(state, None)
        count = f"{len(backlog)} item{'' if len(backlog) == 1 else 's'}"
        filt = ""
        if self._filter:
            shown = self.query_one("#backlog-table", ItemTable).row_count
            shown_sprint = self.query_one("#sprint-table", ItemTable).row_count
            filt = Text.assemble(" · filter ", safe(self._filter, style="italic"),
                                 f": {shown} shown here, {shown_sprint} in the sprint",
                                 " · nothing matches" if not shown and not shown_sprint else "",
                                 " · escape clears")
        self._update_heading("#backlog-heading", Text.assemble(
            ("Backlog", "bold"), f" · {count} · {planning.points(backlog)} points", filt))

    def _update_heading(self, selector: str, text: Text) -> None:
        """Headings are one line tall: update without a relayout, and only when they change."""
        if self._headings_shown.get(selector) != text:
            self._headings_shown[selector] = text
            self.query_one(selector, Static).update(text, layout=False)

    # ------------------------------------------------------------------ helpers

    def _table(self) -> ItemTable:
        focused = self.focused
        if isinstance(focused, ItemTable):
            return focused
        return self._last_table or self.query_one("#sprint-table", ItemTable)

    def on_descendant_focus(self, event) -> None:
        super().on_descendant_focus(event)
        if isinstance(event.widget, ItemTable):
            self._last_table = event.widget

    def _selected(self):
        item_id = self._table().selected_id
        return self.app.session.state.items.get(item_id) if item_id else None

    def _submit(self, type: str, **args) -> str | None:
        """Send an op; returns the refusal's reason (also shown), or None when it was applied."""
        return self.app.submit(type, **args)

    def _list_sprint_id(self, table: ItemTable) -> str | None:
        if table.id == "backlog-table":
            return None
        sprint = planning.planning_sprint(self.app.session.state)
        return sprint.id if sprint else None

    # ------------------------------------------------------------------ item actions

    async def _editor(self) -> ItemEditor:
        """The editor line is mounted just after the first paint (or at once if a key wants it sooner)."""
        found = self.query(ItemEditor)
        if found:
            return found.first()
        editor = ItemEditor(id="item-editor")
        await self.mount(editor, before=self.query_one(KeyBar))
        return editor

    async def action_add(self) -> None:
        table = self._table()
        list_id = self._list_sprint_id(table)
        if table.id == "sprint-table" and list_id is None:
            self.app.say("There is no sprint to add to yet: n creates one (or add to the backlog).",
                            severity="warning")
            return
        self._last_table = table
        where = "the backlog" if list_id is None else "the sprint"
        (await self._editor()).open(heading=f"New item in {where}", item_id=None, list_id=list_id,
                                        members=self._member_names())

    async def action_edit(self) -> None:
        item = self._selected()
        if item is None:
            return
        self._last_table = self._table()
        state = self.app.session.state
        owner = state.members.get(item.owner)
        (await self._editor()).open(heading="Edit item", item_id=item.id, list_id=item.sprint_id,
                                        members=self._member_names(), title=item.title,
                                        owner=owner.name if owner else "", estimate=item.estimate,
                                        kind=item.kind)

    @on(ItemTable.Selected)
    async def _row_selected(self) -> None:
        await self.action_edit()

    def _member_names(self) -> list[str]:
        return [m.name for m in self.app.session.state.members.values() if m.active]

    @on(ItemEditor.Submitted)
    def _save_item(self, event: ItemEditor.Submitted) -> None:
        state = self.app.session.state
        owner_id = ""
        current = state.items.get(event.item_id) if event.item_id else None
        current_owner = state.members.get(current.owner) if current and current.owner else None
        if current_owner is not None and event.owner.strip() == current_owner.name:
            owner_id = current_owner.id  # unchanged: keep it, even if two members share the name
        elif event.owner.strip():
            wanted = event.owner.strip().casefold()
            matches = [m for m in state.members.values() if m.name.casefold() == wanted] or \
                      [m for m in state.members.values() if m.name.casefold().startswith(wanted)]
            if len(matches) != 1:
                event.editor.show_error(f"Owner: no single team member matches {event.owner.strip()!r}.")
                return
            owner_id = matches[0].id
        kind = event.kind.strip().casefold() or "task"
        args = dict(title=event.title, owner=owner_id, estimate=event.estimate.strip(), kind=kind)
        if kind not in ITEM_KINDS:
            event.editor.show_error(f"Kind is one of {', '.join(ITEM_KINDS)}.")
            return
        if event.item_id is None:
            item_id = new_id("item-")
            error = self._submit("item.add", id=item_id, sprint_id=event.list_id,
                                 rank=planning.append_rank(state, event.list_id), **args)
        else:
            item_id = event.item_id
            error = self._submit("item.update", id=item_id, **args)
        if error:
            event.editor.show_error(error)
            return
        table = self._last_table if self._last_table else self._table()
        table.select(item_id)
        if event.item_id is None:
            # Stay in the editor for the next item: keyboard speed.
            where = "the backlog" if event.list_id is None else "the sprint"
            event.editor.open(heading=Text.assemble("Added ", safe(event.title.strip(), max_cells=40),
                                                    f" · next item in {where}"),
                              item_id=None, list_id=event.list_id, members=self._member_names())
        else:
            event.editor.action_close()

    @on(ItemEditor.Closed)
    def _editor_closed(self) -> None:
        (self._last_table or self.query_one("#sprint-table", ItemTable)).focus()

    def action_delete(self) -> None:
        item = self._selected()
        if item is not None and not self._submit("item.delete", id=item.id):
            self.app.say(Text.assemble("Deleted ", safe(item.title, max_cells=40), " · u undoes"), timeout=4)

    def action_undo(self) -> None:
        self._history("undo")

    def action_redo(self) -> None:
        self._history("redo")

    def _history(self, which: str) -> None:
        state = self.app.session.state
        stack = (state.undo if which == "undo" else state.redo).get(self.app.session.actor, ())
        label = stack[-1]["label"] if stack else ""
        touched = list(stack[-1].get("entities", {}).get("items", {})) if stack else []
        if not self._submit(which):
            self.app.say(f"{'Undid' if which == 'undo' else 'Redid'}: {label}", timeout=3)
            for table in self.query(ItemTable):  # show what came back
                for item_id in touched:
                    if item_id in table.ids:
                        table.select(item_id)
                        table.focus()
                        return

    def action_cycle_status(self) -> None:
        item = self._selected()
        if item is not None:
            self._submit("item.update", id=item.id, status=planning.next_status(item.status))

    def action_block(self) -> None:
        item = self._selected()
        if item is None:
            return

        state = self.app.session.state
        current = next((b for b in state.blockers.values() if b.item_id == item.id and not b.resolved_on), None)

        def save(note: str) -> str | None:
            if not note.strip():
                return "Say what blocks it, in a few words."
            if current is not None:  # already blocked: change what blocks it
                return self._submit("blocker.update", id=current.id, text=note)
            return self._submit("blocker.open", id=new_id("blocker-"), item_id=item.id, text=note,
                                block_item=True)

        from ..widgets.dialogs import PromptDialog  # (loaded when needed: a quicker start)

        self.app.push_screen(PromptDialog(f"What blocks {item.title[:60]}?", "The blocker, in a few words",
                                          save, value=current.text if current else item.note))

    def action_resolve(self) -> None:
        """Resolve the selected item's open blockers (the standup shows the same records)."""
        item = self._selected()
        if item is None:
            return
        state = self.app.session.state
        blockers = [b for b in state.blockers.values() if b.item_id == item.id and not b.resolved_on]
        if not blockers:
            self.app.say("Nothing blocks this item.", timeout=3)
            return
        for blocker in sorted(blockers, key=lambda b: b.opened_on):
            if self._submit("blocker.resolve", id=blocker.id):
                return
        self.app.say(f"Resolved {len(blockers)} blocker{'s' if len(blockers) > 1 else ''}.", timeout=3)

    def action_move(self, delta: int) -> None:
        item = self._selected()
        if item is None:
            return
        shown = set(self._table().ids) if self._filter else None
        rank = planning.moved_rank(self.app.session.state, item.id, delta, shown)
        if rank is not None:
            self._submit("item.update", id=item.id, rank=rank)

    def action_move_list(self) -> None:
        item = self._selected()
        if item is None:
            return
        state = self.app.session.state
        sprint = planning.planning_sprint(state)
        if item.sprint_id is None:
            if sprint is None:
                self.app.say("There is no sprint to move it into: n creates one.", severity="warning")
                return
            self._submit("item.update", id=item.id, sprint_id=sprint.id,
                         rank=planning.append_rank(state, sprint.id))
        else:
            self._submit("item.update", id=item.id, sprint_id=None, rank=planning.append_rank(state, None))

    # ------------------------------------------------------------------ filter

    async def action_filter(self) -> None:
        """The filter box is mounted the first time it is wanted (opening the app stays quick)."""
        found = self.query("#filter")
        if found:
            box = found.first(Input)
        else:
            box = Input(placeholder="Filter: words, owner:NAME, status:todo|doing|done|blocked", id="filter")
            await self.query_one("#lists").mount(box, before=0)
        box.display = True
        box.focus()

    @on(Input.Changed, "#filter")
    def _filter_changed(self, event: Input.Changed) -> None:
        self._filter = event.value.strip()
        self.draw(self.app.session.state)

    @on(Input.Submitted, "#filter")
    def _filter_done(self) -> None:
        (self._last_table or self.query_one("#sprint-table", ItemTable)).focus()

    def action_clear_filter(self) -> None:
        editors = self.query(ItemEditor)
        if editors and editors.first().is_open:
            editors.first().action_close()
            return
        found = self.query("#filter")
        box = found.first(Input) if found else None
        if box is not None and (box.display or self._filter):
            box.value = ""
            box.display = False
            self._filter = ""
            self.draw(self.app.session.state)
            (self._last_table or self.query_one("#sprint-table", ItemTable)).focus()

    def action_toggle_chart(self) -> None:
        self._chart_wanted = not self.query_one("#chart-slot").display
        self._layout()
        self.draw(self.app.session.state)
