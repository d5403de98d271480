"""The `s7` command speaks Spanish and helps: no command, every --help, its own errors."""

import pytest

from s7.cli import _COMMANDS, main


def _run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    with pytest.raises(SystemExit) as exited:
        main(list(argv))
    out, err = capsys.readouterr()
    return int(exited.value.code or 0), out, err


def test_no_command_prints_the_spanish_overview(capsys) -> None:
    code, out, _ = _run(capsys)
    assert code == 2
    assert out.startswith("uso: s7") and "comandos:" in out and "make run" in out
    assert all(name in out for name in _COMMANDS)
    assert "usage" not in out and "positional arguments" not in out and "show this help" not in out


@pytest.mark.parametrize("command", list(_COMMANDS))
def test_every_command_has_a_useful_spanish_help(capsys, command: str) -> None:
    code, out, _ = _run(capsys, command, "--help")
    assert code == 0 and out.startswith(f"uso: s7 {command}")
    assert "muestra esta ayuda y sale" in out and _COMMANDS[command][1].split()[0] in out
    assert "usage" not in out and "options:" not in out


def test_usage_errors_are_spanish(capsys) -> None:
    code, _, err = _run(capsys, "create-user")
    assert code == 2 and "error: falta: --email" in err
    code, _, err = _run(capsys, "create-user", "--email", "a@b.com", "--role", "jefe")
    assert code == 2 and "'jefe' no es una opción" in err
    code, _, err = _run(capsys, "servir")
    assert code == 2 and "'servir' no es una opción" in err


@pytest.mark.parametrize("email", ["notanemail", "ana@", "@tienda.com", "ana@tienda", "ana pérez@tienda.com"])
def test_create_user_checks_the_email_shape(capsys, pg_db, email: str) -> None:
    code, _, err = _run(capsys, "create-user", "--email", email, "--password", "clave-segura-1")
    assert code == 2 and err.startswith("error: Ese email no parece válido")


def test_create_user_accepts_demo_local_addresses(capsys, pg_db) -> None:
    main(["create-user", "--email", "Carla@Sector7.local", "--name", "Carla", "--password", "clave-segura-1"])
    assert "Usuario carla@sector7.local creado (vendedor)" in capsys.readouterr().out
