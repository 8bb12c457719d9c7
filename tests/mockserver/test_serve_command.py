"""``mockserver serve`` as the container image runs it, and its options.

The image is built and run for real with podman by ``make container-test``
(``scripts/container_test.py``, run by CI after these tests); here its recipe runs on the test
machine itself: the ``CMD`` and ``HEALTHCHECK`` of ``Dockerfile`` are read from the file and run
with the file's ``ENV`` values (and a free port), exactly as the container would run them.
"""

from __future__ import annotations

import json
import os
import re
import shlex
import subprocess
import sys
import tomllib
from collections.abc import Callable
from fnmatch import fnmatch
from pathlib import Path

import pytest
import requests

from .conftest import SERVE_COMMAND, LiveServer, free_port

DOCKERFILE = Path(__file__).resolve().parents[2] / "Dockerfile"
KEY = {"X-API-Key": "sk-container"}


def dockerfile_instructions() -> list[tuple[str, str]]:
    """``(INSTRUCTION, arguments)`` of the final stage, continuation lines joined."""
    joined = DOCKERFILE.read_text().replace("\\\n", " ")
    instructions = []
    for line in joined.splitlines():
        if line.strip() and not line.lstrip().startswith("#"):
            name, _, arguments = line.strip().partition(" ")
            if name.upper() == "FROM":
                instructions = []  # a new stage: only the last one is the image
            instructions.append((name.upper(), arguments.strip()))
    return instructions


def dockerfile_env() -> dict[str, str]:
    """The ``ENV`` of the image, with ``MOCKSERVER_PORT`` moved to a free port."""
    env: dict[str, str] = {}
    for name, arguments in dockerfile_instructions():
        if name == "ENV":
            env.update(pair.split("=", 1) for pair in shlex.split(arguments))
    env["MOCKSERVER_PORT"] = str(free_port())
    return env


def exec_form(instruction: str) -> list[str]:
    """The JSON ``["program", "arg"]`` command of ``CMD`` (or of ``HEALTHCHECK ... CMD``)."""
    arguments = dict(dockerfile_instructions())[instruction]
    command: list[str] = json.loads(arguments[arguments.index("[") :])
    return command


def container_env(env: dict[str, str]) -> dict[str, str]:
    """``env`` with this virtualenv's programs first on ``PATH``, as the image has them."""
    path = f"{Path(sys.executable).parent}{os.pathsep}{os.environ['PATH']}"
    return {**env, "PATH": path}


def run_healthcheck(env: dict[str, str]) -> int:
    command = exec_form("HEALTHCHECK")
    check = subprocess.run(command, env={**os.environ, **container_env(env)}, timeout=10)
    return check.returncode


@pytest.fixture
def container(start_server: Callable[..., LiveServer]) -> tuple[LiveServer, dict[str, str]]:
    env = dockerfile_env()
    server = start_server(command=exec_form("CMD"), env=container_env(env))
    return server, env


def test_the_image_runs_as_a_non_root_user() -> None:
    users = [arguments for name, arguments in dockerfile_instructions() if name == "USER"]
    assert users and users[-1] not in ("root", "0")


def test_the_image_is_built_on_python_slim_unless_another_base_is_given() -> None:
    text = DOCKERFILE.read_text()
    assert re.search(r"^ARG BASE_IMAGE=python:3\.11-slim$", text, re.M)
    assert re.search(r"^FROM \$\{BASE_IMAGE\} AS python$", text, re.M)
    assert dockerfile_instructions()[0] == ("FROM", "python")


def test_the_image_is_configured_only_through_mockserver_variables() -> None:
    assert exec_form("CMD") == ["mockserver", "serve"]


def test_the_image_command_serves_healthz(container: tuple[LiveServer, dict[str, str]]) -> None:
    server, _ = container
    health = requests.get(f"{server.url}/healthz", timeout=5)
    assert health.json()["data"]["status"] == "ok"


def test_the_image_command_serves_a_report_to_completion(
    container: tuple[LiveServer, dict[str, str]],
) -> None:
    server, _ = container
    body = {"case_id": "case_container", "type": "technical_report"}
    created = requests.post(f"{server.url}/api/reports", json=body, headers=KEY, timeout=5)
    report_id = created.json()["data"]["id"]
    requests.post(f"{server.url}/_mock/clock/advance", json={"seconds": 900}, timeout=5)
    polled = requests.get(f"{server.url}/api/reports/{report_id}", headers=KEY, timeout=5)
    pdf = requests.get(polled.json()["data"]["output"]["pdf_url"], timeout=10)
    assert pdf.content.startswith(b"%PDF-")


def test_the_healthcheck_passes_while_the_server_runs(
    container: tuple[LiveServer, dict[str, str]],
) -> None:
    _, env = container
    assert run_healthcheck(env) == 0


def test_the_healthcheck_fails_once_the_server_stopped(
    container: tuple[LiveServer, dict[str, str]],
) -> None:
    server, env = container
    server.stop()
    assert run_healthcheck(env) != 0


def test_environment_variables_configure_the_server(
    start_server: Callable[..., LiveServer],
) -> None:
    server = start_server(env={"MOCKSERVER_TIME_SCALE": "0"})
    assert requests.get(f"{server.url}/_mock/clock", timeout=5).json()["data"]["time_scale"] == 0


def test_an_option_wins_over_its_environment_variable(
    start_server: Callable[..., LiveServer],
) -> None:
    server = start_server("--time-scale", "7", env={"MOCKSERVER_TIME_SCALE": "0"})
    assert requests.get(f"{server.url}/_mock/clock", timeout=5).json()["data"]["time_scale"] == 7


def test_several_workers_on_the_memory_store_are_refused() -> None:
    result = subprocess.run(
        [*SERVE_COMMAND, "--workers", "2", "--store", "memory://"],
        capture_output=True,
        text=True,
        timeout=30,
    )
    assert result.returncode == 2 and "--store sqlite:///" in result.stderr


def test_the_werkzeug_server_still_serves_one_process(
    start_server: Callable[..., LiveServer],
) -> None:
    server = start_server("--server", "werkzeug")
    assert requests.get(f"{server.url}/healthz", timeout=5).status_code == 200


def test_a_store_that_cannot_be_opened_stops_the_command_with_its_reason() -> None:
    result = subprocess.run(
        [*SERVE_COMMAND, "--store", f"redis://127.0.0.1:{free_port()}/0"],
        capture_output=True,
        text=True,
        timeout=30,
    )
    assert result.returncode == 2 and "Cannot reach the Redis store" in result.stderr


def test_every_variable_the_service_section_of_the_readme_names_is_read() -> None:
    from mockserver.settings import DEFAULTS

    readme = (DOCKERFILE.parent / "README.md").read_text()
    section = readme.split("## Running it as a service", 1)[1].split("\n## ", 1)[0]
    named = set(re.findall(r"MOCKSERVER_([A-Z_]+)", section))
    read = set(DEFAULTS) | {"HOST", "PORT", "WORKERS", "SERVER"}
    read |= {"THREADS", "BODY_TIMEOUT", "HEADER_TIMEOUT", "MAX_CONNECTIONS"}  # serve's own
    read |= {"DOWNLOAD_THREADS", "RENDER_PROCESSES"}  # read by each worker (serving.py)
    assert named and named <= read, sorted(named - read)


def test_every_package_of_the_project_goes_into_the_wheel_the_image_installs() -> None:
    root = DOCKERFILE.parent
    found = tomllib.loads((root / "pyproject.toml").read_text())["tool"]["setuptools"]
    patterns = found["packages"]["find"]["include"]
    packages = {
        ".".join(init.parent.relative_to(root).parts)
        for top in ("mockserver", "schemas", "contract_tests", "clients_under_test")
        for init in (root / top).rglob("__init__.py")
    }
    shipped = {name for name in packages if any(fnmatch(name, p) for p in patterns)}
    assert shipped == packages
