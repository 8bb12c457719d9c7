"""The podman commands of the README's container block, as ``make container-test`` runs them.

One definition for both: ``ContainerCommands.as_in_readme()`` renders the names the README
uses, and ``tests/test_readme.py`` checks that the README's block (marked
``<!-- container-test -->``) is exactly those commands. ``make container-test`` runs the same
commands with names of its own and a free host port, so it never touches a user's
``reports-mock`` container and leaves port 8080 alone.
"""

from __future__ import annotations

import os
import re
import shlex
import socket
import subprocess
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

__all__ = [
    "README_MARKER",
    "ROOT",
    "SERVICE_SETTINGS",
    "ContainerCommands",
    "ContainerTestError",
    "free_port",
    "readme_block_commands",
]

ROOT = Path(__file__).resolve().parent.parent
README_MARKER = "<!-- container-test -->"
LOCAL_BASE_IMAGE = "localhost/debian-minbase:bookworm"
SYSTEM_CA_BUNDLE = "/etc/ssl/certs/ca-certificates.crt"
SERVICE_SETTINGS = {
    "MOCKSERVER_WORKERS": "2",
    "MOCKSERVER_STORE": "sqlite:///data/reports-mock.db",
    "MOCKSERVER_TIME_SCALE": "100",
}

Runner = Callable[..., subprocess.CompletedProcess[str]]


class ContainerTestError(Exception):
    """A step of the container test failed; the message says which and what was seen."""


def free_port() -> int:
    """A TCP port nobody listens on at 127.0.0.1 right now."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


def ca_bundle_of_this_machine() -> str | None:
    """The CA bundle pip trusts here, for a build behind a TLS-intercepting proxy."""
    for candidate in (os.environ.get("PIP_CERT"), os.environ.get("SSL_CERT_FILE")):
        if candidate and Path(candidate).is_file():
            return candidate
    return SYSTEM_CA_BUNDLE if Path(SYSTEM_CA_BUNDLE).is_file() else None


@dataclass(frozen=True)
class ContainerCommands:
    """The argv of each step, for one image, container, volume and published port."""

    image: str = "reports-mock"
    container: str = "reports-mock"
    volume: str = "reports-mock-data"
    host_port: int = 8080
    base_image: str = LOCAL_BASE_IMAGE
    ca_bundle: str | None = SYSTEM_CA_BUNDLE

    @classmethod
    def as_in_readme(cls) -> ContainerCommands:
        return cls()

    @classmethod
    def for_this_machine(cls, host_port: int) -> ContainerCommands:
        return cls(
            container="reports-mock-container-test",
            volume="reports-mock-container-test-data",
            host_port=host_port,
            ca_bundle=ca_bundle_of_this_machine(),
        )

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.host_port}"

    def settings(self) -> list[str]:
        """podman's settings file for these machines (``run`` in container_test.py sets it)."""
        return ["export", "CONTAINERS_CONF=$PWD/scripts/containers.conf"]

    def base(self) -> list[str]:
        return ["scripts/container-base.sh"]

    def build(self) -> list[str]:
        secret = [] if self.ca_bundle is None else ["--secret", f"id=ca-certificates,src={self.ca_bundle}"]  # fmt: skip
        return [
            "podman", "build", "--format", "docker", "--build-arg", f"BASE_IMAGE={self.base_image}",
            *secret, "-t", self.image, ".",
        ]  # fmt: skip

    def create_volume(self) -> list[str]:
        return ["podman", "volume", "create", self.volume]

    def run(self) -> list[str]:
        settings = [arg for item in SERVICE_SETTINGS.items() for arg in ("-e", "=".join(item))]
        return [
            "podman", "run", "-d", "--name", self.container,
            "-p", f"127.0.0.1:{self.host_port}:8080", "-v", f"{self.volume}:/data",
            *settings, self.image,
        ]  # fmt: skip

    def python_in_image(self, program: str, *args: str) -> list[str]:
        """A one-off ``python -c program args`` in the image (not part of the README)."""
        return [
            "podman", "run", "--rm", "--no-healthcheck", "--entrypoint", "python", self.image,
            "-c", program, *args,
        ]  # fmt: skip

    def healthcheck(self) -> list[str]:
        return ["podman", "healthcheck", "run", self.container]

    def health_status(self) -> list[str]:
        return ["podman", "inspect", "--format", "{{.State.Health.Status}}", self.container]

    def stop(self) -> list[str]:
        return ["podman", "stop", self.container]

    def start(self) -> list[str]:
        return ["podman", "start", self.container]

    def logs(self) -> list[str]:
        return ["podman", "logs", self.container]

    def remove_container(self) -> list[str]:
        return ["podman", "rm", "--force", "--ignore", self.container]

    def remove(self) -> list[list[str]]:
        return [self.remove_container(), ["podman", "volume", "rm", "--force", self.volume]]

    def readme_sequence(self) -> list[list[str]]:
        """Every command in the order the README shows (and the test runs) them."""
        return [
            self.settings(),
            self.base(),
            self.build(),
            self.create_volume(),
            self.run(),
            self.healthcheck(),
            self.health_status(),
            self.stop(),
            self.start(),
            *self.remove(),
        ]

    def remove_leftovers(self, run: Runner) -> None:
        """Removes this container and its volume, if a run left them (or to end one)."""
        for argv in self.remove():
            run(argv, timeout=60, check=False)


def readme_block_commands(readme: str) -> list[list[str]]:
    """The commands of the README's ``<!-- container-test -->`` sh block, one argv each.

    Continuation lines are joined, ``# comments`` dropped and ``a && b`` split in two.
    """
    match = re.search(re.escape(README_MARKER) + r"\n```sh\n(.*?)```", readme, re.S)
    if match is None:
        raise ContainerTestError(f"README.md has no {README_MARKER} block")
    commands: list[list[str]] = []
    for line in match.group(1).replace("\\\n", " ").splitlines():
        words = shlex.split(line, comments=True)
        while words:
            end = words.index("&&") if "&&" in words else len(words)
            commands.append(words[:end])
            words = words[end + 1 :]
    return commands
