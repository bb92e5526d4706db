"""The burndown of the active sprint: open points per day against the ideal line (plotext)."""

from __future__ import annotations

from textual_plotext import PlotextPlot

from ...domain.planning import Burndown


class BurndownChart(PlotextPlot):
    def __init__(self, **kwargs) -> None:
        super().__init__(**kwargs)
        self._data: Burndown | None = None
        self._title = ""

    def show(self, data: Burndown | None, title: str) -> None:
        if data == self._data and title == self._title:
            return  # plotext redraws the whole chart: skip when nothing changed
        self._data, self._title = data, title
        plt = self.plt
        plt.clear_data()
        plt.clear_figure()
        plt.title(title)
        if data is None or not data.days:
            self.refresh()
            return
        xs = list(range(1, len(data.ideal) + 1))
        plt.plot(xs, data.ideal, label="ideal", marker="braille")
        if data.remaining:
            plt.plot(xs[: len(data.remaining)], data.remaining, label="open points", marker="braille")
        step = max(1, len(xs) // 5)
        plt.xticks(xs[::step], [str(x) for x in xs[::step]])
        plt.xlabel("day of sprint")
        plt.ylim(0, max([*data.ideal, *data.remaining, 1]))
        self.refresh()
