"""The app's side of a shared room: the hub's news arrive from the sync threads (``SyncNote``) and become
redraws, messages and the presence panel; the facilitator's commands (hand the role over, show the invite)."""

from __future__ import annotations

from functools import partial


class SharedRoom:
    """Mixed into AgileApp (which provides session, say, screen_stack …)."""

    def _sync_from_thread(self, note) -> None:
        loop = self._loop
        if loop is None or loop.is_closed():
            return
        if note.kind == "state":  # a burst of remote ops becomes one redraw
            if self._remote_pending:
                return
            self._remote_pending = True
        try:
            loop.call_soon_threadsafe(self._sync_note, note)
        except RuntimeError:
            pass

    def _sync_note(self, note) -> None:
        if note.kind == "state":
            self._remote_pending = False
            self._remote_changed()
        elif note.kind == "connection":
            self._refresh_people(bindings=False)
        elif note.kind == "people":
            self._refresh_people(bindings=True)
        elif note.kind in ("refused", "message") and self.session.mark_seen(note):
            self._show_note(note)
            if note.kind == "refused":
                self._remote_changed()

    def show_unseen_notes(self) -> None:
        """What the sync said before the app could show it (it starts sending at once, the app a moment later)."""
        if hasattr(self.session, "take_unseen"):
            for note in self.session.take_unseen():
                self._show_note(note)

    def _show_note(self, note) -> None:
        if note.kind == "refused":
            self.say(refusal_text(note), severity="error", timeout=8)
        else:
            self.say(note.text, severity=note.severity, timeout=8)

    def _ritual_screen(self):
        """The topmost screen that draws the room (under any dialog)."""
        return next((s for s in reversed(self.screen_stack) if hasattr(s, "show_state")), None)

    def _remote_changed(self) -> None:
        screen = self._ritual_screen()
        if screen is not None:
            screen.show_state(self.session.state)
        self._refresh_people(bindings=True)

    def _refresh_people(self, bindings: bool) -> None:
        screen = self._ritual_screen()
        if screen is None or not screen.is_mounted:
            return
        panel = screen.query_one_optional("#presence")
        if panel is not None:
            panel.refresh()
        bar = screen.query_one_optional("#room-bar")
        if bar is not None:
            bar.refresh()
        if bindings:
            screen.refresh_bindings()

    def action_toggle_presence(self) -> None:
        screen = self._ritual_screen()
        panel = screen.query_one_optional("#presence") if screen is not None else None
        if panel is None:
            self.say("This room is not shared: `agile-tui share --server URL` shares it with a hub.",
                     severity="warning")
            return
        panel.display = not panel.display

    def action_hand_over(self) -> None:
        session = self.session
        if not getattr(session, "shared", False):
            self.say("This room is not shared, so it has no roles.", severity="warning")
            return
        if session.role != "facilitator":
            self.say("Only the facilitator can hand the role over.", severity="warning")
            return
        others = [p for p in session.participants if p.get("participant_id") != session.link.participant_id]
        if not others:
            self.say("Nobody else has joined yet: send them the invite first.", severity="warning")
            return
        from .widgets.standup_dialogs import PickDialog  # (loaded when needed: a quicker start)

        def hand(participant_id: str) -> None:
            self.run_worker(partial(self._hand_over, participant_id), thread=True, exit_on_error=False,
                            group="hand-over")

        choices = [(p["participant_id"], f"{p.get('name', '?')}{'  ● here' if p.get('here') else ''}")
                   for p in others]
        self.push_screen(PickDialog("Hand the facilitator role to", choices, lambda key: hand(key)))

    def _hand_over(self, participant_id: str) -> None:
        from ..sync.client import HubRefused, HubUnreachable

        try:
            self.session.hand_over(participant_id)
        except (HubRefused, HubUnreachable) as error:
            self.call_from_thread(self.say, f"The role was not handed over: {error}", "error", 8)

    def action_invite(self) -> None:
        link = getattr(self.session, "link", None)
        url = link.invite_url() if link is not None else ""
        if not url:
            self.say("Only whoever shared the room has its invite; ask them.", severity="warning")
            return
        line = f"agile-tui join {url}"
        self.copy_to_clipboard(line)
        self.say(f"Invite (copied): {line}", timeout=20)


def refusal_text(note) -> str:
    what = note.op.type if note.op is not None else "a change"
    return f"The hub did not take your change ({what}): {note.text}"
