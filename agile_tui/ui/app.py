"""The App: one screen per ritual (as modes), the op pipeline to the store, themes, help and commands."""

from __future__ import annotations

import asyncio
import gc
import signal
import tomllib
from collections.abc import Iterable
from datetime import date
from functools import partial
from pathlib import Path

from rich.text import Text
from textual.app import App
from textual.binding import Binding
from textual.reactive import reactive
from textual.screen import ModalScreen, Screen

from ..config import Memory
from ..domain import OpRejected
from ..session import RoomSession, SaveReport
from .commands import RitualCommands
from .screens.planning import PlanningScreen
from .shared_room import SharedRoom
from .text import plain
from .themes import DEFAULT_THEME, STATUS_DEFAULTS, load_themes, shipped_folder


class AgileApp(SharedRoom, App):
    CSS_PATH = Path(__file__).parent / "app.tcss"  # absolute, so subclasses elsewhere find it too
    TITLE = "agile-tui"
    DEFAULT_MODE = "planning"  # start straight on planning: no blank default screen first
    # The other rituals load when first opened: the app paints planning without importing them (and plotext).
    MODES = {"planning": PlanningScreen, "standup": lambda: _screen("standup", "StandupScreen"),
             "metrics": lambda: _screen("metrics", "MetricsScreen"), "retro": lambda: _screen("retro", "RetroScreen")}
    COMMANDS = App.COMMANDS | {RitualCommands}
    ENABLE_COMMAND_PALETTE = True
    BINDINGS = [
        Binding("1", "ritual('planning')", "Plan", id="app.planning"),
        Binding("2", "ritual('standup')", "Standup", id="app.standup"),
        Binding("3", "ritual('metrics')", "Metrics", id="app.metrics"),
        Binding("4", "ritual('retro')", "Retro", id="app.retro"),
        Binding("question_mark", "help", "Keys", id="app.help"),
        Binding("W", "toggle_presence", "Who's here", id="app.presence", show=False,
                tooltip="Show or hide who is here (a shared room)"),
        Binding("q", "quit", "Quit", id="app.quit"),
    ]

    save_status: reactive[str] = reactive("saved", init=False, repaint=False)  # the header repaints itself

    def __init__(self, session: RoomSession, memory: Memory | None = None, config_dir: Path | None = None,
                 problems: Iterable[str] = (), today: date | None = None) -> None:
        super().__init__()
        self.session = session
        self.memory = memory
        self.config_dir = config_dir
        self.startup_problems = list(problems)
        self._fixed_today = today
        self._loop: asyncio.AbstractEventLoop | None = None
        session.on_saved = self._saved_from_thread
        if hasattr(session, "listener"):  # a shared room: the hub's news come in from the sync threads
            session.listener = self._sync_from_thread
        self._remote_pending = False
        self._theme_messages = self._load_themes()

    # ------------------------------------------------------------------ set-up

    def get_theme_variable_defaults(self) -> dict[str, str]:
        return dict(STATUS_DEFAULTS)

    def _load_themes(self) -> list[str]:
        """Register every theme file and pick the remembered one. Done before the app starts, so the
        stylesheet is parsed once, already in the right theme. Returns what to tell the user."""
        folders = [shipped_folder()]
        if self.config_dir is not None:
            folders.append(self.config_dir / "themes")
        themes, problems = load_themes(folders)
        for theme in themes:
            self.register_theme(theme)
        messages = [str(problem) for problem in problems]
        wanted = (self.memory.theme if self.memory else None) or DEFAULT_THEME
        if wanted not in self.available_themes:
            if self.memory and self.memory.theme:
                messages.append(f"Theme {wanted!r} is not available; using {DEFAULT_THEME}.")
            wanted = DEFAULT_THEME if DEFAULT_THEME in self.available_themes else "textual-dark"
        self._start_theme(wanted)
        return messages

    def _start_theme(self, name: str) -> None:
        """Put the app in theme ``name`` before it runs. ``self.theme = name`` here would run Textual's theme
        watcher, which is made for a running app: it queues a full re-parse of the stylesheet (app.tcss and every
        widget's default CSS: 10-20 ms before the first frame) that also drops the parse cache, so what the first
        screen needs is parsed once more as it mounts. Nothing is parsed yet at this point, so the stylesheet
        only needs the theme's variables: the one parse that comes with the first screen uses them. The rest is
        what the watcher does (theme classes, ANSI colour mapping), and our own watcher (the remembered theme).
        Themes chosen later go through ``self.theme`` as usual."""
        self.set_reactive(App.theme, name)
        dark = self.current_theme.dark
        classes = {c: False for c in self.classes if c.startswith("-theme-")}
        classes.update({f"-theme-{name}": True, "-dark-mode": dark, "-light-mode": not dark})
        self.update_classes(classes, update=False)
        self._refresh_truecolor_filter(self.ansi_theme)
        self.stylesheet.set_variables(self.get_css_variables())
        self.watch_theme(name)

    def on_mount(self) -> None:
        self._loop = asyncio.get_running_loop()
        for sig in (signal.SIGHUP, signal.SIGTERM) if not self.is_headless else ():  # the terminal closed
            try:  # (a dropped SSH link) or a kill
                self._loop.add_signal_handler(sig, self._hang_up)
            except (NotImplementedError, RuntimeError, ValueError):  # not the main thread (tests), or no such
                pass
        for message in self._theme_messages:
            self.say(message, severity="warning", timeout=8)
        self._apply_keymap()
        for problem in self.startup_problems:
            self.say(problem, severity="error", timeout=15)
        self.show_unseen_notes()
        self.call_after_refresh(self._settle_memory)
        self.call_after_refresh(self._warm_metrics)

    @staticmethod
    def _settle_memory() -> None:
        """After the first frame: move everything alive so far out of the collector's way. Full collections
        over thousands of items otherwise cost hundreds of ms on an unlucky key press. The collector is off
        until now when the app is started by the command (``cli.cmd_run``); from here it runs again."""
        gc.freeze()  # no collection first: that would cost ~100 ms; freezing alone is cheap
        gc.set_threshold(20_000, 20, 20)
        gc.enable()

    def _warm_metrics(self) -> None:
        """After the first frame: index the room's samples by metric in a thread worker, so the metrics board
        (key 3) of a big room opens without building it (~50 ms at 200,000 samples). A 3 pressed sooner waits
        for the rest of the build rather than starting its own (the index is built under a lock)."""
        state = self.session.state
        if state.samples:
            self.run_worker(partial(_warm_metrics, state), name="metrics-warm", group="metrics-warm", thread=True,
                            exit_on_error=False)

    def _apply_keymap(self) -> None:
        """``<config>/keymap.toml``: ``binding-id = "keys"`` remaps any binding."""
        if self.config_dir is None:
            return
        path = self.config_dir / "keymap.toml"
        if not path.exists():
            return
        try:
            keymap = tomllib.loads(path.read_text(encoding="utf-8"))
            self.set_keymap({str(k): str(v) for k, v in keymap.items() if isinstance(v, str)})
        except (OSError, tomllib.TOMLDecodeError) as error:
            self.say(f"keymap.toml was ignored: {error}", severity="warning")

    def say(self, message: object, severity: str = "information", timeout: float = 4) -> None:
        """Show a toast. Messages often hold user text, so they are never read as markup."""
        text = message.plain if isinstance(message, Text) else str(message)
        self.notify(plain(text), severity=severity, timeout=timeout, markup=False)

    def today(self) -> date:
        return self._fixed_today or self.session.clock.now().date()

    def status_styles(self) -> dict[str, str]:
        """Theme colours for statuses. Cached per theme: building the theme's variables costs ~1.5 ms."""
        cached = getattr(self, "_status_styles", None)
        if cached is None or cached[0] != self.theme:
            variables = self.css_variables()
            self._status_styles = (self.theme, {name: variables.get(name, "") for name in STATUS_DEFAULTS})
        return self._status_styles[1]

    def css_variables(self) -> dict[str, str]:
        """``get_css_variables``, cached per theme (it regenerates the whole colour system each call)."""
        cached = getattr(self, "_css_variables", None)
        if cached is None or cached[0] != self.theme:
            self._css_variables = (self.theme, self.get_css_variables())
        return self._css_variables[1]

    def watch_theme(self, theme: str) -> None:
        if self.memory is not None and self.memory.theme != theme and theme in self.available_themes:
            self.memory.theme = theme
            try:
                self.memory.save()
            except OSError:
                pass
        if self.screen_stack and hasattr(self.screen, "show_state"):
            self.screen.show_state(self.session.state)

    def set_theme(self, name: str) -> None:
        self.theme = name

    # ------------------------------------------------------------------ the op pipeline

    def submit(self, type: str, **args) -> str | None:
        """Apply an op and redraw. Returns None when applied, else the reason it was refused (also shown)."""
        try:
            self.session.submit(type, **args)
        except OpRejected as refusal:
            self.say(refusal.reason, severity="error", timeout=6)
            return refusal.reason
        self.changed()
        return None

    def take_back(self, which: str) -> bool:
        """Undo (or redo) the user's last change, saying what it was. Returns whether it happened."""
        stack = getattr(self.session.state, which).get(self.session.actor, ())
        label = stack[-1].get("label", "") if stack else ""
        if self.submit(which) is None:
            self.say(f"{'Undid' if which == 'undo' else 'Redid'}: {label}", timeout=3)
            return True
        return False

    def changed(self) -> None:
        """The room changed (an op of ours, an import, later a remote op): show it; the header says saving."""
        self._set_save_status("saving")
        screen = self.screen
        if hasattr(screen, "show_state"):
            screen.show_state(self.session.state)

    def _saved_from_thread(self, report: SaveReport) -> None:
        loop = self._loop
        if loop is None or loop.is_closed():
            return
        try:
            loop.call_soon_threadsafe(self._saved, report)
        except RuntimeError:
            pass  # the app is shutting down; the op is on disk all the same

    def _saved(self, report: SaveReport) -> None:
        if report.error:
            self._set_save_status(f"not saved: {report.error}")
            self.say(report.error, severity="error", timeout=10)
        elif report.pending == 0:
            self._set_save_status("saved")

    def _set_save_status(self, status: str) -> None:
        self.save_status = status

    def watch_save_status(self) -> None:
        """Only the header shows it: repaint the room bar of the screen in view (others redraw when shown)."""
        if self.screen_stack:
            bar = self.screen.query_one_optional("#room-bar")
            if bar is not None:
                bar.refresh()

    # ------------------------------------------------------------------ actions

    def action_ritual(self, mode: str) -> None:
        if self.current_mode != mode:
            self.switch_mode(mode)

    def planning_action(self, action: str) -> None:
        self.ritual_action("planning", action)

    def ritual_action(self, mode: str, action: str) -> None:
        """Go to a ritual's screen and run one of its actions (for the command palette)."""
        self.action_ritual(mode)

        async def run() -> None:
            stack = self._screen_stacks.get(mode) or []
            if self.current_mode == mode and len(stack) > 1 and not isinstance(stack[-1], ModalScreen):
                self.pop_screen()  # e.g. a metric's detail: the command belongs to the board beneath
                self.call_after_refresh(run)
                return
            screen = self.get_screen_for_mode(mode)
            name = action.split("(")[0]
            if hasattr(screen, "role_allows") and not screen.role_allows(name):
                self.say("Only the facilitator can do that; ask them, or ask for the facilitator role.",
                         severity="warning")
                return
            if screen.check_action(name, ()) is False:
                self.say(f"That is not available on the {mode} screen right now.", severity="warning")
                return
            await screen.run_action(action)

        self.call_after_refresh(run)

    def get_screen_for_mode(self, mode: str) -> Screen:
        return self._screen_stacks[mode][-1] if self._screen_stacks.get(mode) else self.screen

    def action_help(self) -> None:
        from .widgets.help_screen import HelpScreen  # (loaded when needed: a quicker start)

        screen = self.screen
        if isinstance(screen, HelpScreen):
            return
        rows: list[tuple[str, str, str, str]] = []
        seen: set[tuple[str, str]] = set()
        for key, active in screen.active_bindings.items():
            binding = active.binding
            if not binding.id or (binding.id, key) in seen:
                continue  # only our own bindings: Textual's scrolling and clipboard keys are not ours to list
            seen.add((binding.id, key))
            node = active.node
            where = ("everywhere" if node is self else getattr(screen, "TITLE_TEXT", "this screen")
                     if node is screen else WIDGET_PLACES.get(type(node).__name__, type(node).__name__))
            rows.append((key_label(key), binding.tooltip or binding.description or binding.action, where,
                         binding.id))
        rows.append(("ctrl+p", "Command palette: every command of the app", "everywhere", "command_palette"))
        self.push_screen(HelpScreen(getattr(screen, "TITLE_TEXT", "agile-tui"), rows))

    async def action_quit(self) -> None:
        """Quit, saving every draft first (standup notes, retro notes); while a clock runs, ask first (the
        round or retro stays open and resumes when the room is reopened)."""
        for stack in self._screen_stacks.values():
            for screen in stack:
                if hasattr(screen, "flush_drafts"):
                    screen.flush_drafts()
        running = self._running_clock()
        if running:
            from .widgets.standup_dialogs import ConfirmDialog  # (loaded when needed: a quicker start)

            if isinstance(self.screen, ConfirmDialog):
                return

            async def answered(yes: bool | None) -> None:
                if yes:
                    await self._quit_now()

            self.push_screen(ConfirmDialog(f"The {running} is running. Quit anyway?",
                                           "It stays open: reopening the room resumes it with the right time."),
                             answered)
            return
        await self._quit_now()

    def _running_clock(self) -> str:
        """Which clock runs ("" when none): the standup's speaker clock or a retro's timer."""
        from ..domain.standup import live_standup  # (loaded when needed: a quicker start)

        state = self.session.state
        standup = live_standup(state)
        if standup is not None and standup.running_since is not None:
            return "standup clock"
        if any(r.status == "open" and r.timer_since is not None for r in state.retros.values()):
            return "retro timer"
        return ""

    def _hang_up(self) -> None:
        """Leave at once, saving every draft first; no question asked (there may be nobody to answer)."""
        for stack in self._screen_stacks.values():
            for screen in stack:
                if hasattr(screen, "flush_drafts"):
                    screen.flush_drafts()
        self.exit()

    async def _quit_now(self) -> None:
        await asyncio.to_thread(self.session.flush)
        self.exit()


WIDGET_PLACES = {"ItemTable": "in a list", "ItemEditor": "in the editor", "StartStandupDialog": "in the dialog",
                 "RetroList": "in the list"}
KEY_NAMES = {"question_mark": "?", "slash": "/", "plus": "+", "minus": "-", "asterisk": "*",
             "greater_than_sign": ">", "less_than_sign": "<"}


def key_label(key: str) -> str:
    return KEY_NAMES.get(key, key)


def _warm_metrics(state) -> None:
    """(In a thread worker.) The metrics module loads here, after the first frame, rather than at start."""
    from ..domain import metrics

    metrics.warm(state)


def _screen(module: str, name: str) -> Screen:
    """A ritual's screen, imported on first use."""
    from importlib import import_module

    return getattr(import_module(f"{__package__}.screens.{module}"), name)()


def make_app(session: RoomSession, **kwargs) -> AgileApp:
    return AgileApp(session, **kwargs)


__all__ = ["AgileApp", "make_app"]
