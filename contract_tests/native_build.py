"""Builds the virtual-clock preload library from its C source, once per source version.

The source ships inside the package (``contract_tests/native/virtual_clock.c``), so a
pip-installed kit builds it on first use with the system's C compiler, into a cache keyed by the
source's hash: a changed source gets a new library, and an unchanged one is built once per user.
"""

from __future__ import annotations

import hashlib
import os
import shutil
import subprocess
import tempfile
from pathlib import Path

from contract_tests.errors import KitError, UsageError

__all__ = ["LIBRARY_SOURCE", "library_cache_dir", "virtual_clock_library"]

LIBRARY_SOURCE = Path(__file__).with_name("native") / "virtual_clock.c"
_COMPILE_FLAGS = ["-shared", "-fPIC", "-O2", "-Wall", "-fvisibility=hidden"]
_LINK_FLAGS = ["-ldl", "-lpthread"]


def library_cache_dir() -> Path:
    """``$XDG_CACHE_HOME/reports-mock`` (default ``~/.cache/reports-mock``)."""
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base) / "reports-mock"


def _compiler() -> str:
    for candidate in (os.environ.get("CC"), "cc", "gcc", "clang"):
        if candidate and shutil.which(candidate):
            return candidate
    raise UsageError(
        "no C compiler found to build the kit's virtual-clock library for command clients: "
        "install gcc (Debian: apt-get install gcc libc6-dev) or set CC to a compiler"
    )


def virtual_clock_library(cache_dir: Path | None = None) -> Path:
    """The path of the built library, compiling it first if this source was never built."""
    source = LIBRARY_SOURCE.read_bytes()
    digest = hashlib.sha256(source).hexdigest()[:16]
    directory = cache_dir if cache_dir is not None else library_cache_dir()
    library = directory / f"virtual_clock-{digest}.so"
    if library.is_file():
        return library
    compiler = _compiler()
    directory.mkdir(parents=True, exist_ok=True)
    # Built under a temporary name and renamed: concurrent first uses never see half a file.
    handle, partial = tempfile.mkstemp(prefix=".virtual_clock-", suffix=".so", dir=directory)
    os.close(handle)
    command = [compiler, *_COMPILE_FLAGS, "-o", partial, str(LIBRARY_SOURCE), *_LINK_FLAGS]
    try:
        built = subprocess.run(command, capture_output=True, text=True, check=False)
        if built.returncode != 0:
            raise KitError(
                f"building the virtual-clock library failed ({' '.join(command)}):\n"
                f"{built.stderr.strip()}\ninstall gcc and libc6-dev (Debian), or set CC"
            )
        os.replace(partial, library)
    finally:
        if os.path.exists(partial):
            os.remove(partial)
    return library
