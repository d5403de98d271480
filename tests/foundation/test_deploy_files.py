"""The deploy files agree with the app: Railway probes a route that exists and starts a real
command; the Dockerfile builds from the base CI makes locally; CI runs the container test."""

import json
import re
from pathlib import Path

from s7.cli import build_parser

ROOT = Path(__file__).resolve().parents[2]


def test_railway_probes_readyz_and_starts_s7_serve() -> None:
    from s7.api.health import router

    config = json.loads((ROOT / "railway.json").read_text())
    assert config["build"]["builder"] == "DOCKERFILE"
    assert (ROOT / config["build"]["dockerfilePath"]).is_file()
    deploy = config["deploy"]
    assert deploy["healthcheckPath"] == "/readyz" in {route.path for route in router.routes}
    program, command = deploy["startCommand"].split()
    assert program == "s7" and build_parser().parse_args([command]).command == command


def test_dockerfile_builds_from_the_base_ci_makes() -> None:
    dockerfile = (ROOT / "Dockerfile").read_text()
    assert re.search(r"^ARG BASE_IMAGE=debian:bookworm-slim$", dockerfile, re.M)
    stages = re.findall(r"^FROM (\S+)", dockerfile, re.M)
    assert stages == ["${BASE_IMAGE}", "${BASE_IMAGE}"]  # build stage + slim runtime stage
    runtime = dockerfile.rsplit("FROM ", 1)[1]
    assert "USER sector7" in runtime and "/opt/uv" not in runtime  # uv and pip stay in the build stage
    assert "debian:bookworm-slim" in (ROOT / ".ci" / "container-test").read_text()


def test_ci_runs_the_container_test_after_the_suite() -> None:
    lines = [line.strip() for line in (ROOT / ".ci" / "run").read_text().splitlines()]
    assert lines.index("bash .ci/container-test") > lines.index("make test")
    assert "set -euo pipefail" in lines
