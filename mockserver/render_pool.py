"""Where report documents are rendered: in the calling thread, or in helper processes.

Rendering a PDF or DOCX is 0.2-0.5 s of pure-Python CPU (fpdf2, python-docx). In a served
worker that time holds the GIL, so every other request of the worker (polls of other
clients) waits its turn behind it. :func:`use_render_processes` (called by each served
worker, ``RENDER_PROCESSES`` > 0) moves rendering to a small pool of processes of its own;
the request thread then only waits for the bytes, without the GIL. The pool starts with
the first download (``spawn``: a clean interpreter, never a fork of a threaded worker, and
a child of the worker that dies with it: ``PR_SET_PDEATHSIG``); a pool that broke (a helper
killed) is replaced at the next download.

Without it (the test suite, ``create_app`` in-process) documents render where they are asked.
"""

from __future__ import annotations

import multiprocessing
import os
import threading
from collections.abc import Mapping
from concurrent.futures import ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from typing import Any

__all__ = ["render_document", "use_render_processes"]

_lock = threading.Lock()
_processes = 0
_pool: ProcessPoolExecutor | None = None


def use_render_processes(count: int) -> None:
    """Render in ``count`` helper processes from now on (0: in the calling thread).

    A pool of another size is shut down; the next download starts one of the new size.
    """
    global _processes, _pool
    with _lock:
        _processes = max(0, count)
        retired, _pool = _pool, None
    if retired is not None:
        retired.shutdown(wait=True, cancel_futures=True)


def _render_here(extension: str, report: Mapping[str, Any] | None, report_id: str) -> bytes:
    from mockserver.content.docx_writer import render_docx
    from mockserver.content.pdf_writer import render_pdf

    render = render_pdf if extension == "pdf" else render_docx
    return render(report, report_id=report_id)


def _current_pool() -> ProcessPoolExecutor | None:
    global _pool
    with _lock:
        if _processes == 0:
            return None
        if _pool is None:
            _pool = ProcessPoolExecutor(
                max_workers=_processes,
                mp_context=multiprocessing.get_context("spawn"),
                initializer=_start_helper,
                initargs=(os.getpid(),),
            )
        return _pool


def _start_helper(worker_pid: int) -> None:
    """In a helper: die with the worker that started it, and import the renderers once."""
    from mockserver.process_guard import die_with_parent

    die_with_parent(worker_pid)
    import mockserver.content.docx_writer
    import mockserver.content.pdf_writer  # noqa: F401  (fpdf2, likewise)


def _forget_pool(broken: ProcessPoolExecutor) -> None:
    global _pool
    with _lock:
        if _pool is broken:
            _pool = None
    broken.shutdown(wait=False, cancel_futures=True)


def render_document(extension: str, report: Mapping[str, Any] | None, report_id: str) -> bytes:
    """The ``pdf`` or ``docx`` bytes of ``report``; in a helper process when configured."""
    pool = _current_pool()
    if pool is None:
        return _render_here(extension, report, report_id)
    try:
        return pool.submit(_render_here, extension, report, report_id).result()
    except BrokenProcessPool:
        _forget_pool(pool)  # the next download starts a new pool
        return _render_here(extension, report, report_id)
