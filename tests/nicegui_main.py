"""Main file for NiceGUI's `user` fixture: the real app wiring, on the test's database."""

from nicegui import ui

from s7.app import configure
from s7.config import get_settings

configure()
ui.run(storage_secret=get_settings().session_secret, reload=False, show=False, fastapi_docs=True)
