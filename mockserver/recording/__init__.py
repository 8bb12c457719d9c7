"""``mockserver record``: a pass-through proxy in front of a live deployment (or the mock)
that writes each report's observed lifecycle as a scenario file (``schemas/scenario-file.json``)
for ``mockserver serve --scenario-file`` and the kit's ``--examples-from`` to replay."""

from __future__ import annotations

from mockserver.recording.proxy import (
    RecordingError,
    RecordingProxy,
    recording_proxy,
    run_recording_proxy,
)
from mockserver.recording.recorder import LifecycleRecorder

__all__ = [
    "LifecycleRecorder",
    "RecordingError",
    "RecordingProxy",
    "recording_proxy",
    "run_recording_proxy",
]
