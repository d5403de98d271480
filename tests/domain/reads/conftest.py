"""The bot stand-in of the WhatsApp tests, for the health read model tests."""

from tests.whatsapp.conftest import bot_calls  # noqa: F401 - re-exported fixture
