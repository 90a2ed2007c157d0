"""The wiring: settings, the FastAPI app factory, the CLI and the scheduler. Nothing imports it."""
