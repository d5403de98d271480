"""Builds the app and calls ui.run (same as `s7 serve`)."""

from s7.cli import serve_app

if __name__ in {"__main__", "__mp_main__"}:
    serve_app()
