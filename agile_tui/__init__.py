"""agile-tui: a keyboard-first terminal app for a team's live agile rituals.

The package root stays cheap to import: nothing heavy is imported here.
"""

__version__ = "0.1.0"
