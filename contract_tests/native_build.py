"""Builds the kit's native helpers from their C sources, once per source version.

Two helpers ship as C sources inside the package (``contract_tests/native/``): the
virtual-clock preload library of command clients (``virtual_clock.c``) and the syscall tracer
of clients that bypass libc (``syscall_clock.c``). A pip-installed kit builds each on first use
with the system's C compiler, into a cache keyed by the hash of the source and the flags: a
changed source gets a new build, an unchanged one is built once per user. ``make setup`` builds
both ahead.
"""

from __future__ import annotations

import hashlib
import os
import shutil
import subprocess
import tempfile
from collections.abc import Sequence
from pathlib import Path

from contract_tests.errors import KitError, UsageError

__all__ = [
    "LIBRARY_SOURCE",
    "NATIVE_SOURCES",
    "NativeBuildFailed",
    "build_native",
    "library_cache_dir",
    "virtual_clock_library",
]

NATIVE_SOURCES = Path(__file__).with_name("native")
LIBRARY_SOURCE = NATIVE_SOURCES / "virtual_clock.c"
_LIBRARY_FLAGS = ("-shared", "-fPIC", "-O2", "-Wall", "-fvisibility=hidden")
_LIBRARY_LINK_FLAGS = ("-ldl", "-lpthread")


class NativeBuildFailed(KitError):
    """Raised when the C compiler refuses a native helper; carries the compiler's message."""


def library_cache_dir() -> Path:
    """``$RMK_NATIVE_CACHE``, else ``$XDG_CACHE_HOME/reports-mock`` (``~/.cache/reports-mock``)."""
    explicit = os.environ.get("RMK_NATIVE_CACHE")
    if explicit:
        return Path(explicit)
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base) / "reports-mock"


def _compiler(preferred: str | None) -> str:
    for candidate in (preferred, os.environ.get("CC"), "cc", "gcc", "clang"):
        if candidate and shutil.which(candidate):
            return candidate
    raise UsageError(
        "no C compiler found to build the kit's native helpers for command clients: "
        "install gcc (Debian: apt-get install gcc libc6-dev; `make setup` does) or set CC"
    )


def build_native(
    source: Path,
    target_name: str,
    flags: Sequence[str],
    link_flags: Sequence[str] = (),
    *,
    cache_dir: Path | None = None,
    compiler: str | None = None,
) -> Path:
    """The path of ``source`` built with ``flags``, compiling it first if never built.

    The result is named ``<target_name>-<hash>`` (``target_name`` may carry a suffix such as
    ``.so`` after a ``{hash}`` placeholder) and written under a temporary name then renamed, so
    concurrent first uses never see half a file.
    """
    text = source.read_bytes()
    digest = hashlib.sha256(text + " ".join([*flags, *link_flags]).encode()).hexdigest()[:16]
    directory = cache_dir if cache_dir is not None else library_cache_dir()
    target = directory / target_name.format(hash=digest)
    if target.is_file() and os.access(target, os.R_OK):
        return target
    cc = _compiler(compiler)
    directory.mkdir(parents=True, exist_ok=True)
    handle, partial = tempfile.mkstemp(prefix=f".{source.stem}-", dir=directory)
    os.close(handle)
    command = [cc, *flags, "-o", partial, str(source), *link_flags]
    try:
        built = subprocess.run(command, capture_output=True, text=True, timeout=120, check=False)
        if built.returncode != 0:
            raise NativeBuildFailed(
                f"building {source.name} failed ({' '.join(command)}):\n"
                f"{built.stderr.strip()}\ninstall gcc and libc6-dev (Debian; `make setup` does), or set CC"
            )
        os.chmod(partial, 0o755)
        os.replace(partial, target)
    finally:
        if os.path.exists(partial):
            os.remove(partial)
    return target


def virtual_clock_library(cache_dir: Path | None = None) -> Path:
    """The path of the built preload library, compiling it first if this source was never built."""
    return build_native(
        LIBRARY_SOURCE,
        "virtual_clock-{hash}.so",
        _LIBRARY_FLAGS,
        _LIBRARY_LINK_FLAGS,
        cache_dir=cache_dir,
    )
