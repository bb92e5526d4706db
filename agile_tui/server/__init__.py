"""The hub: one live room shared by many agile-tui terminals (``agile-tui serve``). See app.py for the HTTP API,
hub.py for rooms in memory, oplog.py for the durable log, and domain/privacy.py for what each viewer is sent.

Nothing here is imported by the app or the CLI until ``serve`` runs: FastAPI and uvicorn load only then."""
