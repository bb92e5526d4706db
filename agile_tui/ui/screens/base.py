"""What every ritual screen shares: the room header on top, the footer of keys below, and a redraw
from the room's state whenever it changes (or when the screen comes back into view)."""

from __future__ import annotations

import asyncio
from time import monotonic

from textual import events
from textual.reactive import Reactive
from textual.screen import Screen
from textual.types import NoActiveAppError
from textual.widget import Widget

from ..widgets.key_bar import KeyBar
from ..widgets.room_bar import RoomBar

# How long a frame waits for the widgets (see RitualScreen.on_idle): always a few turns of the event loop (a
# focus move takes four), then no longer than one frame period at Textual's 60 fps.
FRAME_HOLD_TURNS = 8
FRAME_HOLD_S = 1 / 60


class RitualScreen(Screen):
    TITLE_TEXT = "ritual"

    # Textual's Screen.focused repaints the whole screen on every focus move, so opening the item editor
    # redrew every line of both lists. The widgets that gain and lose focus repaint themselves.
    focused: Reactive[Widget | None] = Reactive(None, repaint=False)

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        # A new screen starts "behind" the app's CSS (Textual counts CSS refreshes, a screen from -1), so the
        # first switch to a mode re-parses the whole stylesheet (~10-20 ms; for planning, before the first
        # frame). A screen with nothing mounted yet is behind nothing: its widgets are styled from the current
        # stylesheet as they mount. Screens shown before hold on to their count, and are refreshed as usual.
        try:
            self._css_update_count = self.app._css_update_count
        except NoActiveAppError:
            pass

    def _compositor_refresh(self) -> None:
        """Draw a frame, unless the app is in a batch update (then ``App._display`` throws the frame away).
        Textual lays out a mode's first screen while the app starts, in a batch that lasts until the app is
        ready, and rendered a whole frame there for nothing (15-25 ms before the first frame); the frame after the
        batch then repainted only what had changed since, so the first frame shown lacked both lists (they came
        a frame later). Here the screen is marked for a full repaint instead, and the app prompts it once past
        the batch: the first frame shown is the whole screen."""
        if self.app._batch_count and self is self.app.screen and not self.app.is_inline:
            self.refresh()
            self.app.call_later(self.check_idle)
            return
        super()._compositor_refresh()

    # Actions that run the ritual's flow: hidden from a participant of a shared room (the facilitator's).
    FACILITATOR_ACTIONS: frozenset[str] = frozenset()

    def on_mount(self) -> None:
        if getattr(self.app.session, "shared", False):
            from ..widgets.presence import PresencePanel

            # First among the screen's widgets: the room bar, mounted after it, paints over its top corner.
            self.mount(PresencePanel(id="presence"), before=0)

    def role_allows(self, action: str) -> bool:
        """May this terminal's role run ``action``? (Always, in a room that is not shared.)"""
        return getattr(self.app.session, "role", "") != "participant" or action not in self.FACILITATOR_ACTIONS

    def check_action(self, action: str, parameters) -> bool | None:
        return self.role_allows(action)

    def on_screen_resume(self) -> None:
        self.show_state(self.app.session.state)

    def show_state(self, state) -> None:
        """Redraw from ``state``. Subclasses draw their body in ``draw``."""
        if not self.is_mounted:
            return
        self.query_one(RoomBar).show(state, self.app.today())
        self.draw(state)

    async def on_idle(self, event: events.Idle) -> None:
        """Hold the next frame until this screen's widgets have handled what they were sent.

        Textual composes a frame as soon as the screen itself is idle with something to repaint, though its
        widgets may still be handling messages caused by the same key: after a focus move the list that lost
        the focus restyles itself, which repaints its scrollbar; the field that got it restyles itself. Their
        repaints then reach the screen just after the frame and cost a second one, a frame period (~17 ms)
        later. Waiting here (a few turns of the event loop, seldom longer than one frame period) puts them all
        in the first frame. Runs before Textual's own idle handler of the screen, which starts the frame."""
        turns, since = 0, monotonic()
        while self.is_current and self._widgets_busy():
            if turns >= FRAME_HOLD_TURNS and monotonic() - since > FRAME_HOLD_S:
                return
            turns += 1
            await asyncio.sleep(0)

    def _widgets_busy(self) -> bool:
        """Has the app, or a widget of this screen (scrollbars included), messages waiting?"""
        if self.app.message_queue_size:
            return True
        for widget in self.walk_children(Widget):
            if widget.message_queue_size:
                return True
            if widget.is_scrollable:
                if widget.show_vertical_scrollbar and widget.vertical_scrollbar.message_queue_size:
                    return True
                if widget.show_horizontal_scrollbar and widget.horizontal_scrollbar.message_queue_size:
                    return True
        return False

    def on_descendant_focus(self, event) -> None:
        """Redraw the key bar in the same frame as the focus change (Textual's own signal comes a frame
        later, and would cost a second frame on every `a` and `escape`)."""
        for bar in self.query(KeyBar):
            bar.rebuild()

    def draw(self, state) -> None:  # pragma: no cover - each screen draws itself
        raise NotImplementedError
