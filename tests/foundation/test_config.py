"""Settings: every contract name read from the environment; bad values stop with one line."""

import subprocess
import sys

import pytest

from s7.config import ConfigError, Settings, load_settings, parse_business_hours


def test_plain_postgres_uris_map_to_psycopg3(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("DATABASE_URL", "postgresql://u:p@db.x.supabase.co:5432/postgres?sslmode=require")
    assert load_settings().database_url == "postgresql+psycopg://u:p@db.x.supabase.co:5432/postgres?sslmode=require"
    monkeypatch.setenv("DATABASE_URL", "postgres://u:p@host/db")
    assert load_settings().database_url == "postgresql+psycopg://u:p@host/db"


def test_default_is_embedded_sqlite_in_sandbox(monkeypatch: pytest.MonkeyPatch, tmp_path) -> None:
    monkeypatch.chdir(tmp_path)
    for name in ("DATABASE_URL", "WHATSAPP_TOKEN"):
        monkeypatch.delenv(name, raising=False)
    settings = load_settings()
    assert settings.is_sqlite and settings.sandbox
    assert settings.database_url.startswith("sqlite:///")


@pytest.mark.parametrize(
    ("env", "named"),
    [
        ({"PORT": "abc"}, "PORT"),
        ({"DATABASE_URL": "mysql://x"}, "DATABASE_URL"),
        ({"WEBHOOK_SIGNATURE_MODE": "sometimes"}, "WEBHOOK_SIGNATURE_MODE"),
        ({"HUMAN_INACTIVITY_MINUTES": "-1"}, "HUMAN_INACTIVITY_MINUTES"),
        ({"BUSINESS_HOURS": "lunes 9 a 18"}, "BUSINESS_HOURS"),
        ({"TIMEZONE": "Mars/Olympus"}, "TIMEZONE"),
        ({"META_GRAPH_VERSION": "23"}, "META_GRAPH_VERSION"),
        ({"WHATSAPP_TOKEN": "EAAB", "WHATSAPP_PHONE_NUMBER_ID": "1", "SESSION_SECRET": "s" * 32}, "META_APP_SECRET"),
        ({"WHATSAPP_TOKEN": "EAAB", "WHATSAPP_PHONE_NUMBER_ID": "1", "META_APP_SECRET": "x"}, "SESSION_SECRET"),
        ({"WHATSAPP_TOKEN": "EAAB", "SESSION_SECRET": "s" * 32, "META_APP_SECRET": "x"}, "WHATSAPP_PHONE_NUMBER_ID"),
    ],
)
def test_bad_values_name_the_variable(monkeypatch: pytest.MonkeyPatch, env: dict[str, str], named: str) -> None:
    for key, value in env.items():
        monkeypatch.setenv(key, value)
    with pytest.raises(ConfigError) as error:
        load_settings()
    assert str(error.value).startswith(named)
    assert "\n" not in str(error.value)


def test_signature_optional_allows_running_without_app_secret(monkeypatch: pytest.MonkeyPatch) -> None:
    env = {
        "WHATSAPP_TOKEN": "EAAB",
        "WHATSAPP_PHONE_NUMBER_ID": "1",
        "SESSION_SECRET": "s" * 32,
        "WEBHOOK_SIGNATURE_MODE": "optional",
    }
    for key, value in env.items():
        monkeypatch.setenv(key, value)
    settings = load_settings()
    assert not settings.sandbox and settings.WEBHOOK_SIGNATURE_MODE == "optional"


def test_fractional_minutes_and_origins() -> None:
    settings = Settings(
        _env_file=None,
        HUMAN_INACTIVITY_MINUTES="0.05",
        PANEL_ORIGIN="https://a.com",
        PANEL_ORIGINS="https://b.com/, https://c.com",
    )  # type: ignore[call-arg]
    assert settings.HUMAN_INACTIVITY_MINUTES == 0.05
    assert settings.panel_origins == ["https://a.com", "https://b.com", "https://c.com"]


def test_business_hours_parse() -> None:
    hours = parse_business_hours("mon-fri 09:00-19:00, sat 10:00-14:00")
    assert hours[0] == [(540, 1140)] and hours[4] == [(540, 1140)] and hours[5] == [(600, 840)]
    assert 6 not in hours


def test_cli_reports_a_bad_setting_in_one_line_without_traceback(tmp_path) -> None:
    result = subprocess.run(
        [sys.executable, "-m", "s7.cli", "migrate"],
        env={"PATH": "/usr/bin:/bin", "PORT": "nope", "HOME": str(tmp_path)},
        capture_output=True,
        text=True,
        cwd=tmp_path,
        timeout=60,
    )
    assert result.returncode != 0
    assert result.stderr.strip().splitlines() == [
        "error: PORT: Input should be a valid integer, unable to parse string as an integer"
    ]
