"""The mock's configuration, read and checked once from a Flask config mapping.

Each key can come from ``create_app(config)``, from the CLI, or from an environment variable
``MOCKSERVER_<KEY>`` (Flask's ``from_prefixed_env``; values are parsed as JSON when they can be).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Literal

from mockserver.clock import parse_timestamp
from mockserver.faults import FaultRule, FaultSpecError, parse_rules
from mockserver.rate_limit import DOCUMENTED_LIMIT, WINDOWS, RateLimitPolicy
from mockserver.scenarios import DEFAULT_SCENARIO, SCENARIOS
from mockserver.signing import DOWNLOAD_TTL_SECONDS

__all__ = ["DEFAULTS", "Settings", "SettingsError"]

ValidationMode = Literal["off", "log", "raise"]

DEFAULTS: dict[str, Any] = {
    "TIME_SCALE": 1.0,  # virtual seconds per real second; 0 freezes the clock
    "START_TIME": None,  # ISO timestamp the virtual clock starts at; None: the real time
    "SCENARIO": DEFAULT_SCENARIO,  # scenario of reports created without X-Mock-Scenario
    "SEED": 0,  # chooses case profiles, report ids and (with JITTER) timings
    "JITTER": False,  # vary step durations within the documented windows, from SEED
    "SIGNING_SECRET": None,  # HMAC secret of download URLs; None: random, shared via the store
    "PUBLIC_BASE_URL": None,  # base of download URLs; None: the URL the request came to
    "URL_TTL_SECONDS": DOWNLOAD_TTL_SECONDS,
    "STORE": "memory://",
    "CONTROL_API": True,  # serve /_mock/*; switch off for a public sandbox
    "VALIDATE_RESPONSES": "off",  # check every response against schemas/: off, log or raise
    "API_KEYS": None,  # list of accepted keys; None: any key that starts with "sk-"
    "JOURNAL_SIZE": 1000,  # requests kept by GET /_mock/requests
    "RETENTION_SECONDS": 24 * 3600,  # virtual seconds a report is kept; 0 keeps every report
    "MAX_CONTENT_LENGTH": 1024 * 1024,  # Flask's own: larger bodies get a 413
    "FAULTS": None,  # injected faults of every report, e.g. "503@rate=0.1; drop@polls=3"
    "RATE_LIMIT": False,  # enforce the documented per-key rate limit (off: see the README)
    "RATE_LIMIT_PER_MINUTE": DOCUMENTED_LIMIT,  # requests per virtual minute per API key
    "RATE_LIMIT_WINDOW": "fixed",  # fixed (clock minutes) or sliding (the last 60 s)
}


class SettingsError(ValueError):
    """Raised for a configuration value the mock cannot run with; says which key and why."""


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
    faults: tuple[FaultRule, ...] = ()
    rate_limit: RateLimitPolicy | None = None  # None: not enforced, no X-RateLimit-* headers

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
        scenario = str(merged["SCENARIO"])
        if scenario not in SCENARIOS:
            known = ", ".join(SCENARIOS)
            raise SettingsError(f"SCENARIO={scenario!r} is unknown. Known scenarios: {known}")
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
            journal_size=int(_number(merged, "JOURNAL_SIZE")),
            max_body_bytes=int(_number(merged, "MAX_CONTENT_LENGTH")),
            retention_seconds=retention,
            faults=_faults(merged),
            rate_limit=_rate_limit(merged),
        )


def _faults(config: Mapping[str, Any]) -> tuple[FaultRule, ...]:
    try:
        return parse_rules(config["FAULTS"] or None)
    except FaultSpecError as error:
        raise SettingsError(f"FAULTS={config['FAULTS']!r}: {error}") from error


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


def _flag(config: Mapping[str, Any], key: str) -> bool:
    value = config[key]
    if isinstance(value, bool):
        return value
    if str(value).lower() in ("1", "true", "yes", "on"):
        return True
    if str(value).lower() in ("0", "false", "no", "off", ""):
        return False
    raise SettingsError(f"{key}={value!r} must be true or false")
