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
        ({"BUSINESS_HOURS": "lunes 9 a 18 y sábados"}, "BUSINESS_HOURS"),
        ({"BUSINESS_HOURS": "lunes 18-9"}, "BUSINESS_HOURS"),
        ({"ENABLE_JOBS": "quizás"}, "ENABLE_JOBS"),
        ({"ADMIN_EMAIL": "duena@tienda.com"}, "ADMIN_PASSWORD"),
        ({"ADMIN_EMAIL": "notanemail", "ADMIN_PASSWORD": "clave-segura-1"}, "ADMIN_EMAIL"),
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
        "DATABASE_URL": "postgresql://tienda@db.example/tienda",
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
    assert result.stderr.strip().splitlines() == ["error: PORT: tiene que ser un número entero (recibí 'nope')"]


@pytest.mark.parametrize(
    ("env", "line"),
    [
        ({"PORT": "0"}, "PORT: tiene que ser 1 o más (recibí '0')"),
        (
            {"WEBHOOK_SIGNATURE_MODE": "a veces"},
            "WEBHOOK_SIGNATURE_MODE: tiene que ser uno de: required, optional (recibí 'a veces')",
        ),
        ({"HUMAN_INACTIVITY_MINUTES": "-1"}, "HUMAN_INACTIVITY_MINUTES: tiene que ser mayor que 0 (recibí '-1')"),
        ({"ENABLE_JOBS": "quizás"}, "ENABLE_JOBS: tiene que ser true o false (recibí 'quizás')"),
        ({"TIMEZONE": "Mars/Olympus"}, "TIMEZONE: zona horaria desconocida 'Mars/Olympus'"),
        (
            {"WHATSAPP_TOKEN": "EAAB", "SESSION_SECRET": "s" * 32, "META_APP_SECRET": "x"},
            "WHATSAPP_PHONE_NUMBER_ID: falta",
        ),
    ],
)
def test_settings_errors_are_one_spanish_line(monkeypatch: pytest.MonkeyPatch, env: dict[str, str], line: str) -> None:
    for key, value in env.items():
        monkeypatch.setenv(key, value)
    with pytest.raises(ConfigError) as error:
        load_settings()
    assert str(error.value).startswith(line) and "\n" not in str(error.value)


def test_business_hours_in_spanish() -> None:
    spanish = parse_business_hours("lun-vie 9:00-18:00, sáb 10-14")
    assert spanish[0] == spanish[4] == [(540, 1080)] and spanish[5] == [(600, 840)] and 6 not in spanish
    assert parse_business_hours("Lunes a viernes 9 a 18; sábado 10-14hs") == spanish
    assert parse_business_hours("mié 9-13, miercoles 15-19")[2] == [(540, 780), (900, 1140)]
    assert parse_business_hours("vie-lun 10-12").keys() == {4, 5, 6, 0}
