"""The standup's note fields: whose notes they hold, saving what was typed (after a pause, before the speaker
changes, the screen changes or the app quits), and a blocker typed there becoming a record with who helps and
the item it blocks. Mixed into StandupScreen (its ``@on`` handlers stay there and call these)."""

from __future__ import annotations

from textual.widgets import Input

from ...domain.model import Standup
from ...domain.ops import new_id
from ...domain.standup import members_in_order, open_items_of, update_of
from ..widgets.standup_dialogs import PickDialog

NOTE_FIELDS = ("yesterday", "today")


class StandupNotes:
    """Mixed into StandupScreen (which provides app, query_one, _note_member, _note_standup, _note_timer, _live)."""

    def _note_writer(self, speaker: str) -> str:
        """Whose notes the fields hold: the speaker's (the facilitator types for whoever speaks); in a shared
        room a participant's own (a draft nobody else sees until their turn starts)."""
        session = self.app.session
        return session.actor if getattr(session, "role", "") == "participant" else speaker

    def _fill_notes(self, standup: Standup, member_id: str) -> None:
        """Show the speaker's notes when the speaker changes; while they talk, what is typed stays."""
        if member_id == self._note_member and standup.id == self._note_standup:
            return
        self._flush_notes()
        self._note_member, self._note_standup = member_id, standup.id
        update = update_of(standup, member_id)
        for name in NOTE_FIELDS:
            self.query_one(f"#note-{name}", Input).value = getattr(update, name) if update else ""

    def _flush_notes(self, with_blocker: bool = True) -> None:
        """Save what was typed for the speaker the fields belong to (only what changed); unless typing merely
        paused, a blocker typed but not yet entered is raised too."""
        if self._note_timer is not None:
            self._note_timer.stop()
            self._note_timer = None
        member_id = self._note_member
        state = self.app.session.state
        standup = state.standups.get(self._note_standup or "")
        if member_id is None or standup is None:
            return
        if with_blocker:
            self._raise_pending_blocker(standup.id, member_id)
        update = update_of(standup, member_id)
        changes = {}
        for name in NOTE_FIELDS:
            value = self.query_one(f"#note-{name}", Input).value
            if value != (getattr(update, name) if update else ""):
                changes[name] = value
        if changes:
            self.app.submit("standup.note", id=standup.id, member_id=member_id, **changes)

    def flush_drafts(self) -> None:
        """Called before the app quits: nothing typed is lost."""
        self._flush_notes()

    def _raise_pending_blocker(self, standup_id: str, member_id: str) -> str | None:
        """What is in the blockers field becomes a blocker record (on enter, and before the speaker changes or
        the app quits, so nothing typed is lost). Returns its id; a refusal keeps the text in the field."""
        field = self.query_one("#note-blocker", Input)
        text = field.value.strip()
        if not text:
            return None
        blocker_id = new_id("blocker-")
        if self.app.submit("blocker.open", id=blocker_id, member_id=member_id, text=text,
                           standup_id=standup_id) is not None:
            return None
        field.value = ""
        return blocker_id

    def _ask_helper(self, blocker_id: str, member_id: str) -> None:
        """Who helps, then which item it blocks: enter picks, escape skips."""
        state = self.app.session.state
        helpers = [("", "nobody yet")] + [(m.id, m.name) for m in members_in_order(state) if m.id != member_id]

        def helper(key: str) -> str | None:
            return self.app.submit("blocker.update", id=blocker_id, helper_id=key) if key else None

        sprint_id = self._live.sprint_id if self._live else None
        mine = open_items_of(state, member_id, sprint_id)
        others = sorted((i for i in state.items.values() if i.sprint_id == sprint_id and sprint_id is not None
                         and i.status != "done" and i not in mine), key=lambda i: i.rank)
        choices = [("", "no item")] + [(i.id, i.title) for i in [*mine, *others]]

        def link(key: str) -> str | None:
            return self.app.submit("blocker.update", id=blocker_id, item_id=key) if key else None

        def then_link(_result) -> None:
            if len(choices) > 1:
                self.app.push_screen(PickDialog("Which sprint item does it block?", choices, link))

        self.app.push_screen(PickDialog("Who helps with this blocker?", helpers, helper), then_link)
