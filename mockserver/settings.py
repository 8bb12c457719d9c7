"""The mock's configuration, read and checked once from a Flask config mapping.

The options themselves (keys, defaults, meaning, command-line flags) are declared once, in
:data:`mockserver.options.OPTIONS`; each fills the :class:`Settings` field it names. Each key
can come from ``create_app(config)``, from the CLI, or from an environment variable
``MOCKSERVER_<KEY>`` (Flask's ``from_prefixed_env``; values are parsed as JSON when they can be).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Literal

from mockserver.core.clock import parse_timestamp
from mockserver.core.fault_rules import FaultRule, FaultSpecError, parse_rules
from mockserver.core.rate_limit import DOCUMENTED_LIMIT, WINDOWS, RateLimitPolicy
from mockserver.core.recorded_scenario import (
    ReplayLibrary,
    ReplayScenario,
    replay_name,
    replay_scenario,
)
from mockserver.core.scenarios import SCENARIOS
from mockserver.options import DEFAULTS, SettingsError
from schemas.scenario_files import ScenarioFileError, load_scenario_files

__all__ = ["DEFAULTS", "Settings", "SettingsError"]

ValidationMode = Literal["off", "log", "raise"]


@dataclass(frozen=True)
class Settings:
    """Checked configuration."""

    time_scale: float
    start_time: float | None
    default_scenario: str
    seed: int
    jitter: bool
    signing_secret: str | None
    public_base_url: str | None
    url_ttl_seconds: int
    store_url: str
    control_api: bool
    validate_responses: ValidationMode
    api_keys: frozenset[str] | None
    journal_size: int
    max_body_bytes: int
    retention_seconds: float
    faults: tuple[FaultRule, ...]
    rate_limit: RateLimitPolicy | None  # None: not enforced, no X-RateLimit-* headers
    inspector_api_key: str
    scenario_files: ReplayLibrary  # the loaded scenario files, replayed by file:NAME

    @classmethod
    def from_config(cls, config: Mapping[str, Any]) -> Settings:
        """Check every key; raise :class:`SettingsError` naming the first bad one."""
        merged = {**DEFAULTS, **{k: v for k, v in config.items() if k in DEFAULTS}}
        time_scale = _number(merged, "TIME_SCALE")
        if time_scale < 0:
            raise SettingsError(f"TIME_SCALE={time_scale!r}: use 0 (frozen) or a positive number")
        start = merged["START_TIME"]
        try:
            start_time = None if start in (None, "") else parse_timestamp(str(start))
        except ValueError as error:
            raise SettingsError(f"START_TIME={start!r} is not an ISO 8601 timestamp") from error
        scenario_files = _scenario_files(merged["SCENARIO_FILES"])
        scenario = _default_scenario(str(merged["SCENARIO"]), scenario_files)
        mode = str(merged["VALIDATE_RESPONSES"])
        if mode not in ("off", "log", "raise"):
            raise SettingsError(f"VALIDATE_RESPONSES={mode!r}: use off, log or raise")
        retention = _number(merged, "RETENTION_SECONDS")
        if retention < 0:
            raise SettingsError(
                f"RETENTION_SECONDS={retention!r}: use a positive number of virtual seconds, "
                "or 0 to keep every report"
            )
        keys = merged["API_KEYS"]
        if isinstance(keys, str):
            keys = [key for key in keys.split(",") if key]
        return cls(
            time_scale=time_scale,
            start_time=start_time,
            default_scenario=scenario,
            seed=int(_number(merged, "SEED")),
            jitter=_flag(merged, "JITTER"),
            signing_secret=merged["SIGNING_SECRET"] or None,
            public_base_url=merged["PUBLIC_BASE_URL"] or None,
            url_ttl_seconds=int(_number(merged, "URL_TTL_SECONDS")),
            store_url=str(merged["STORE"]),
            control_api=_flag(merged, "CONTROL_API"),
            validate_responses=mode,  # type: ignore[arg-type]
            api_keys=None if keys is None else frozenset(str(key) for key in keys),
            journal_size=_whole_number(merged, "JOURNAL_SIZE"),
            max_body_bytes=_whole_number(merged, "MAX_CONTENT_LENGTH"),
            retention_seconds=retention,
            faults=_faults(merged),
            rate_limit=_rate_limit(merged),
            inspector_api_key=str(merged["INSPECTOR_API_KEY"] or DEFAULTS["INSPECTOR_API_KEY"]),
            scenario_files=scenario_files,
        )


def _faults(config: Mapping[str, Any]) -> tuple[FaultRule, ...]:
    try:
        return parse_rules(config["FAULTS"] or None)
    except FaultSpecError as error:
        raise SettingsError(f"FAULTS={config['FAULTS']!r}: {error}") from error


def _scenario_file_paths(value: object) -> list[str]:
    """Paths from ``a.json; recorded/`` (the variable, the joined flags) or a list of them."""
    if value in (None, ""):
        return []
    if isinstance(value, list | tuple):
        return [str(path) for path in value]
    return [path.strip() for path in str(value).split(";") if path.strip()]


def _scenario_files(value: object) -> ReplayLibrary:
    paths = _scenario_file_paths(value)
    if not paths:
        return ReplayLibrary()
    try:
        loaded = load_scenario_files(paths)
    except ScenarioFileError as error:
        raise SettingsError(str(error)) from error
    made: dict[int, ReplayScenario] = {}  # a file's name and stem share one scenario
    by_name: dict[str, ReplayScenario] = {}
    for name, found in loaded.items():
        if id(found) not in made:
            made[id(found)] = replay_scenario(found.name, found.document, found.source)
        by_name[name] = made[id(found)]
    return ReplayLibrary(by_name)


def _default_scenario(name: str, files: ReplayLibrary) -> str:
    """The server's default scenario: a named one, or ``file:NAME`` of a loaded file."""
    replayed = replay_name(name)
    if replayed is None:
        if name not in SCENARIOS:
            known = ", ".join(SCENARIOS)
            raise SettingsError(
                f"SCENARIO={name!r} is unknown. Known scenarios: {known}, or file:NAME of a "
                "file loaded with --scenario-file"
            )
        return name
    if not files.names():
        raise SettingsError(
            f"SCENARIO={name!r} replays a scenario file, but none is loaded: add "
            f"--scenario-file PATH (MOCKSERVER_SCENARIO_FILES) with the file called "
            f"{replayed!r}, or choose a named scenario"
        )
    if files.find(replayed) is None:
        loaded = ", ".join(f"file:{known}" for known in files.names())
        raise SettingsError(
            f"SCENARIO={name!r}: no loaded scenario file is called {replayed!r}. Loaded: "
            f"{loaded}; choose one of them, or add its file with --scenario-file PATH"
        )
    return name


def _rate_limit(config: Mapping[str, Any]) -> RateLimitPolicy | None:
    if not _flag(config, "RATE_LIMIT"):
        return None
    per_minute = _number(config, "RATE_LIMIT_PER_MINUTE")
    if not per_minute.is_integer() or per_minute < 1:
        raise SettingsError(
            f"RATE_LIMIT_PER_MINUTE={config['RATE_LIMIT_PER_MINUTE']!r}: use a whole number of "
            f"requests, 1 or more (documented: {DOCUMENTED_LIMIT})"
        )
    window = str(config["RATE_LIMIT_WINDOW"])
    if window not in WINDOWS:
        raise SettingsError(f"RATE_LIMIT_WINDOW={window!r}: use {' or '.join(WINDOWS)}")
    return RateLimitPolicy(limit=int(per_minute), window=window)


def _number(config: Mapping[str, Any], key: str) -> float:
    value = config[key]
    try:
        return float(value)
    except (TypeError, ValueError) as error:
        raise SettingsError(f"{key}={value!r} must be a number") from error


def _whole_number(config: Mapping[str, Any], key: str) -> int:
    number = _number(config, key)
    if not number.is_integer() or number < 1:
        raise SettingsError(f"{key}={config[key]!r}: use a whole number, 1 or more")
    return int(number)


def _flag(config: Mapping[str, Any], key: str) -> bool:
    value = config[key]
    if isinstance(value, bool):
        return value
    if str(value).lower() in ("1", "true", "yes", "on"):
        return True
    if str(value).lower() in ("0", "false", "no", "off", ""):
        return False
    raise SettingsError(f"{key}={value!r} must be true or false")
