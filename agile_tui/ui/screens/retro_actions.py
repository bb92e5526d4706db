"""The retro screen's keys: each sends one op (the domain checks it) or opens the dialog that does."""

from __future__ import annotations

from textual.widgets import OptionList, TextArea

from ...domain import new_id
from ...domain import retro as q
from ...domain.planning import active_sprint
from ..widgets.dialogs import PromptDialog
from ..widgets.retro_dialogs import ActionDialog, RetroSettingsDialog, RetroSetupDialog
from ..widgets.standup_dialogs import ConfirmDialog, PickDialog


class RetroActions:
    """Mixed into RetroScreen (which provides retro, acting, actor, marked, selected(), round_time …)."""

    def _send(self, type_: str, **args) -> str | None:
        return self.app.submit(type_, **args)

    def _timed(self, type_: str, **args) -> str | None:
        retro = self.retro
        return self._send(type_, retro_id=retro.id, at=self.round_time.now(retro), **args)

    def _as_member(self) -> dict:
        return {"member_id": self.acting} if self.acting and self.role_allows("act_as") else {}

    # ------------------------------------------------------------------ setup

    def action_new_retro(self) -> None:
        state = self.app.session.state
        sprints = sorted(state.sprints.values(), key=lambda s: s.start, reverse=True)
        if not sprints:
            self.app.say("A retro looks back on a sprint: create one on planning first.", severity="warning")
            return
        default = active_sprint(state) or sprints[0]

        def start(sprint_id, template, columns_text, anonymous, votes, cap) -> str | None:
            try:
                votes_n, cap_n = int(votes), int(cap)
            except ValueError:
                return "Votes and the most on one topic are whole numbers from 1 to 12."
            args = {"template": template, "anonymous": anonymous, "votes_per_person": votes_n,
                    "max_votes_per_topic": cap_n, **self.round_time.started()}
            if template == "custom":
                args["columns"] = [c.strip() for c in columns_text.split(",") if c.strip()]
            return self._send("retro.create", id=new_id("retro-"), sprint_id=sprint_id, **args)

        self.app.push_screen(RetroSetupDialog([(s.id, f"{s.name} ({s.status})") for s in sprints], default.id,
                                              start))

    def action_settings(self) -> None:
        retro = self.retro
        keys = [key for key, _ in RetroSettingsDialog.FIELDS]

        def save(values: dict[str, str]) -> str | None:
            try:
                numbers = {k: int(v) for k, v in values.items()}
            except ValueError:
                return "Every setting is a whole number."
            return self._send("retro.settings", retro_id=retro.id, **numbers)

        self.app.push_screen(RetroSettingsDialog({k: getattr(retro, k) for k in keys}, save))

    def action_act_as(self) -> None:
        state = self.app.session.state
        choices = [("", "you (the facilitator)")] + [(m.id, m.name) for m in state.members.values() if m.active]

        def pick(member_id: str) -> None:
            self.acting = member_id
            self._shown = None
            self.show_state(self.app.session.state)

        self.app.push_screen(PickDialog("Write and vote as…", choices, pick))

    # ------------------------------------------------------------------ the flow

    def action_phase(self, direction: str) -> None:
        self.save_notes()
        retro = self.retro
        state = self.app.session.state
        waiting = q.not_ready(state, retro) if direction == "next" else []
        if not waiting:
            self._timed("retro.phase", action=direction, expect=retro.phase)
            return
        names = ", ".join(q.name_of(state, m) for m in waiting)

        def answered(yes: bool | None) -> None:
            if yes:
                self._timed("retro.phase", action="next", expect=retro.phase, force=True)

        self.app.push_screen(ConfirmDialog(f"Not ready yet: {names}.", "Move on to the next phase anyway?"),
                             answered)

    def action_timer(self) -> None:
        retro = self.retro
        action = "pause" if retro.timer_since is not None else ("resume" if retro.timer_spent_s else "start")
        self._timed("retro.timer", action=action)

    def action_take_back(self, which: str) -> None:
        self.app.take_back(which)

    def action_ready(self) -> None:
        retro = self.retro
        if not self.acting and self.app.session.actor not in q.expected(self.app.session.state, retro):
            self.app.say("Ready is ticked for a member: A picks whom you act as.", severity="warning")
            return
        who = self.actor
        self._send("retro.ready", retro_id=retro.id, ready=who not in retro.ready, **self._as_member())

    def action_close_retro(self) -> None:
        retro = self.retro
        count = len(retro.actions)

        def answered(yes: bool | None) -> None:
            if yes:
                self.save_notes()
                self._send("retro.close", id=retro.id, at=self.round_time.now(retro))

        self.app.push_screen(ConfirmDialog(
            "Close this retro?", f"Its {count} action item{'s' * (count != 1)} become items of the next sprint, "
            "with their owners, and the next retro reviews them. A closed retro stays closed."), answered)

    # ------------------------------------------------------------------ cards, topics, actions

    def action_add(self) -> None:
        retro = self.retro
        if retro.phase == "reflect":
            column = self.column_under_cursor()

            def write(text: str) -> str | None:
                return self._send("retro.card", retro_id=retro.id, id=new_id("card-"), column=column, text=text,
                                  **self._as_member())

            self.app.push_screen(PromptDialog(f"A card in {column}", "what you think, in a sentence", write))
            return
        topic = retro.discussing if retro.phase == "discuss" else None
        state = self.app.session.state
        members = {m.name: m.id for m in state.members.values() if m.active}

        def save(title: str, owner: str, due: str) -> str | None:
            owner_id = members.get(owner) or next(
                (i for n, i in members.items() if n.casefold() == owner.casefold()), None)
            if owner and owner_id is None:
                return f"There is nobody called {owner!r} in the team."
            args = {"title": title, "owner": owner_id or "", "due": due or None}
            if topic:
                args["topic_id"] = topic
            return self._send("retro.action", retro_id=retro.id, id=new_id("action-"), **args)

        self.app.push_screen(ActionDialog(sorted(members), save, q.target_title(retro, topic) if topic else ""))

    def action_edit(self) -> None:
        retro = self.retro
        found = self.selected()
        if found is None:
            return
        kind, ident = found
        if kind == "card":
            card = q.card(retro, ident)

            def save_card(text: str) -> str | None:
                return self._send("retro.card_update", retro_id=retro.id, id=card.id, text=text)

            self.app.push_screen(PromptDialog("Change the card", "", save_card, value=card.text))
        elif kind == "topic":
            topic = q.topic(retro, ident)

            def rename(title: str) -> str | None:
                return self._send("retro.topic", retro_id=retro.id, topic_id=topic.id, title=title)

            self.app.push_screen(PromptDialog("Name the topic", "", rename, value=topic.title))
        elif kind == "action":
            action = next(a for a in retro.actions if a.id == ident)

            def retitle(title: str) -> str | None:
                return self._send("retro.action_update", retro_id=retro.id, id=action.id, title=title)

            self.app.push_screen(PromptDialog("Change the action item", "", retitle, value=action.title))

    def action_delete_or_done(self) -> None:
        retro = self.retro
        found = self.selected()
        if found is None:
            return
        kind, ident = found
        if kind == "review":
            from_retro, _, action_id = ident.partition(":")
            self._send("retro.review", retro_id=retro.id, action_id=action_id, from_retro=from_retro, outcome="done")
        elif kind == "card" and retro.phase in q.CARD_PHASES:
            self._send("retro.card_update", retro_id=retro.id, id=ident, delete=True)
        elif kind == "action":
            self._send("retro.action_update", retro_id=retro.id, id=ident, delete=True)

    def action_carried(self) -> None:
        found = self.selected()
        if found is not None and found[0] == "review":
            from_retro, _, action_id = found[1].partition(":")
            self._send("retro.review", retro_id=self.retro.id, action_id=action_id, from_retro=from_retro,
                       outcome="carried")

    def action_mark(self) -> None:
        found = self.selected()
        if found is None or found[0] not in ("card", "topic"):
            return
        ident = found[1]
        self.marked ^= {ident}
        self._shown = None
        self.show_state(self.app.session.state)
        self.query_one(OptionList).action_cursor_down()

    def action_merge(self) -> None:
        retro = self.retro
        found = self.selected()
        if found is None:
            return
        kind, ident = found
        marked = [m for m in self.marked if m != ident]
        if not marked:
            self.app.say("Mark the cards or topics to merge first (space), then m on where they go.", timeout=5)
            return
        cards = [m for m in marked if q.card(retro, m) is not None]
        topics = [m for m in marked if q.topic(retro, m) is not None]
        if kind == "topic":
            error = self._send("retro.group", retro_id=retro.id, topic_id=ident, card_ids=cards, topic_ids=topics)
        else:  # onto a card: a new topic of that card and the marked ones
            error = self._send("retro.group", retro_id=retro.id, topic_id=new_id("topic-"),
                               card_ids=[ident, *cards], topic_ids=topics)
        if error is None:
            self.marked.clear()
            self._shown = None
            self.show_state(self.app.session.state)

    def action_split(self) -> None:
        found = self.selected()
        if found is not None and found[0] == "card":
            self._send("retro.ungroup", retro_id=self.retro.id, card_id=found[1])

    def action_vote(self, step: int) -> None:
        retro = self.retro
        if retro.phase != "vote":
            if step > 0 and retro.timer_box_s > 0:
                self._timed("retro.timer", action="more")
            return
        target = self.selected_target()
        if target is None:
            return
        count = q.votes_of(retro, self.actor).get(target, 0) + step
        if count < 0:
            return
        self._send("retro.vote", retro_id=retro.id, topic_id=target, count=count, **self._as_member())

    def action_reveal(self) -> None:
        self._send("retro.reveal", retro_id=self.retro.id)

    def action_topic(self, direction: str) -> None:
        self.save_notes()
        self._timed("retro.discuss", action=direction, expect=self.retro.discussing)

    def action_notes(self) -> None:
        self.query_one("#topic-notes", TextArea).focus()

    def action_leave_notes(self) -> None:
        self.save_notes()
        self.query_one(OptionList).focus()

    def action_column(self, step: int) -> None:
        retro = self.retro
        column = self.column_under_cursor()
        columns = list(retro.columns)
        target = columns[(columns.index(column) + step) % len(columns)] if column in columns else columns[0]
        listing = self.query_one(OptionList)
        for index in range(listing.option_count):
            if listing.get_option_at_index(index).id == f"col:{target}":
                listing.highlighted = index
                return

    def on_option_list_option_selected(self, event: OptionList.OptionSelected) -> None:
        """enter on a line: in discuss, talk about that topic; in review, mark it done."""
        retro = self.retro
        if retro is None or retro.status != "open" or not event.option.id:
            return
        kind, _, ident = event.option.id.partition(":")
        if retro.phase == "discuss" and kind == "target" and ident != retro.discussing:
            self.save_notes()
            self._timed("retro.discuss", action="jump", topic_id=ident)
        elif retro.phase == "reflect" and kind == "col":
            self.action_add()
        elif retro.phase == "review" and kind == "review":
            self.action_delete_or_done()
