"""Every option of the mock, declared once.

From :data:`OPTIONS` come the defaults (:data:`DEFAULTS`), the fields of
:class:`~mockserver.settings.Settings` (each option's ``field``), the ``mockserver serve``
command line and its help texts (:func:`add_serve_options`), and the environment variables
(``MOCKSERVER_<KEY>``, read by :func:`from_environment` and by ``create_app``). Adding an
option is one entry here and one field of ``Settings``; a test checks they match.
"""

from __future__ import annotations

import argparse
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any, Literal

from mockserver.core.rate_limit import DOCUMENTED_LIMIT, WINDOWS
from mockserver.core.recorded_scenario import REPLAY_PREFIX
from mockserver.core.scenarios import DEFAULT_SCENARIO, SCENARIOS
from mockserver.core.signing import DOWNLOAD_TTL_SECONDS

__all__ = [
    "DEFAULTS",
    "ENVIRONMENT_PREFIX",
    "OPTIONS",
    "SERVE_DEFAULTS",
    "Option",
    "SettingsError",
    "add_serve_options",
    "config_from_arguments",
    "serve_option",
]

ENVIRONMENT_PREFIX = "MOCKSERVER_"


class SettingsError(ValueError):
    """Raised for a configuration value the mock cannot run with; says which key and why."""


#: How ``mockserver serve`` takes an option: ``value`` (``--flag VALUE``), ``switch``
#: (``--flag`` sets true), ``off_switch`` (``--no-flag`` sets false), ``repeat`` (``--flag``
#: repeatable, joined with ``;``), or ``none`` (environment and ``create_app`` only).
CommandLine = Literal["value", "switch", "off_switch", "repeat", "none"]


def _non_negative(text: str) -> float:
    value = float(text)
    if value < 0:
        raise argparse.ArgumentTypeError(f"{text} is negative: use 0 (frozen) or more")
    return value


def _positive_int(text: str) -> int:
    value = int(text)
    if value < 1:
        raise argparse.ArgumentTypeError(f"{text} is not a positive whole number")
    return value


def _positive_seconds(text: str) -> float:
    value = float(text)
    if not value > 0:
        raise argparse.ArgumentTypeError(f"{text} is not a positive number of seconds")
    return value


def _scenario_name(text: str) -> str:
    """A named scenario, or ``file:NAME`` (checked against the loaded files by ``Settings``)."""
    if text in SCENARIOS or (text.startswith(REPLAY_PREFIX) and len(text) > len(REPLAY_PREFIX)):
        return text
    raise argparse.ArgumentTypeError(
        f"{text!r} is not a scenario: use one of {', '.join(SCENARIOS)}, or file:NAME to "
        "replay a scenario file loaded with --scenario-file"
    )


def _header_timeout(text: str) -> int:
    value = _positive_int(text)
    if value > 60:
        raise argparse.ArgumentTypeError(f"{text} is over 60: granian waits at most 60 seconds")
    return value


@dataclass(frozen=True)
class Option:
    """One option: its config key, default, meaning, and how the command line takes it."""

    key: str  # the create_app config key; the environment variable is MOCKSERVER_<key>
    default: Any
    help: str  # what it does; the default and the variable are added to the --help text
    field: str | None  # the Settings field it fills; None: read by `mockserver serve` only
    flag: str | None = None  # e.g. "--time-scale"; None: no command-line option
    command_line: CommandLine = "value"
    parse: Callable[[str], Any] | None = None  # argparse type of a value option
    choices: tuple[str, ...] | None = None
    metavar: str | None = None
    shown_default: str | None = None  # the default in words, where its value says little

    @property
    def variable(self) -> str:
        """The environment variable of the option."""
        return ENVIRONMENT_PREFIX + self.key

    def help_text(self) -> str:
        """The ``--help`` text: meaning, default, environment variable."""
        shown = self.shown_default
        if shown is None:
            shown = "off" if self.default is False else str(self.default)
        return f"{self.help} (default {shown}; env {self.variable})".replace("%", "%%")


OPTIONS: tuple[Option, ...] = (
    # --- serving: read by `mockserver serve`, not by the app ---------------------------------
    Option("HOST", "127.0.0.1", "address to bind", None, "--host"),
    Option("PORT", 8080, "port to listen on; 0 picks a free one", None, "--port", parse=int),
    Option(
        "WORKERS",
        1,
        "worker processes; more than one needs --store sqlite:///... or redis://...",
        None,
        "--workers",
        parse=_positive_int,
    ),
    Option(
        "SERVER",
        "granian",
        "granian (production) or werkzeug (one process, for debugging)",
        None,
        "--server",
        choices=("granian", "werkzeug"),
    ),
    Option(
        "THREADS",
        None,
        "Python threads per worker running the app",
        None,
        "--threads",
        parse=_positive_int,
        shown_default="2 on memory://, 4 on SQLite and Redis",
    ),
    Option(
        "HEADER_TIMEOUT",
        10,
        "seconds a client has to send its request headers, or its next request on a "
        "kept-alive connection (at most 60)",
        None,
        "--header-timeout",
        parse=_header_timeout,
    ),
    Option(
        "BODY_TIMEOUT",
        10.0,
        "seconds a client has to send a whole request body before a 408",
        None,
        "--body-timeout",
        parse=_positive_seconds,
    ),
    Option(
        "MAX_CONNECTIONS",
        4096,
        "connections each worker holds open at once; more wait to be accepted",
        None,
        "--max-connections",
        parse=_positive_int,
    ),
    Option(
        "DOWNLOAD_THREADS",
        2,
        "threads per worker for downloads, so documents never hold the polls' threads",
        None,
        command_line="none",
        parse=_positive_int,
    ),
    Option(
        "RENDER_PROCESSES",
        1,
        "helper processes per worker that render PDF and DOCX off the polls' GIL; 0 renders "
        "in the request's thread",
        None,
        command_line="none",
        parse=int,
    ),
    # --- the app ---------------------------------------------------------------------------
    Option(
        "TIME_SCALE",
        1.0,
        "virtual seconds per real second: 100 makes 5 minutes pass in 3 s; 0 freezes",
        "time_scale",
        "--time-scale",
        parse=_non_negative,
    ),
    Option(
        "START_TIME",
        None,
        "ISO 8601 time the virtual clock starts at",
        "start_time",
        "--start-time",
        shown_default="now",
    ),
    Option(
        "SCENARIO",
        DEFAULT_SCENARIO,
        f"scenario of reports created without an X-Mock-Scenario header: "
        f"{', '.join(sorted(SCENARIOS))}, or file:NAME of a --scenario-file",
        "default_scenario",
        "--scenario",
        parse=_scenario_name,
        metavar="NAME",
    ),
    Option(
        "SCENARIO_FILES",
        None,
        "a scenario file (JSON: an observed lifecycle, see `mockserver record`) or a directory "
        "of them; reports created with X-Mock-Scenario: file:NAME replay it (repeatable; the "
        "variable takes paths separated by ';')",
        "scenario_files",
        "--scenario-file",
        command_line="repeat",
        metavar="PATH",
        shown_default="none",
    ),
    Option("SEED", 0, "seed of case profiles and report ids", "seed", "--seed", parse=int),
    Option(
        "JITTER",
        False,
        "vary step durations within the documented windows, reproducibly from --seed",
        "jitter",
        "--jitter",
        command_line="switch",
    ),
    Option(
        "SIGNING_SECRET",
        None,
        "HMAC secret of download URLs",
        "signing_secret",
        "--signing-secret",
        shown_default="random, shared through the store",
    ),
    Option(
        "PUBLIC_BASE_URL",
        None,
        "base of download URLs",
        "public_base_url",
        "--public-base-url",
        shown_default="the URL the request came to",
    ),
    Option(
        "URL_TTL_SECONDS", DOWNLOAD_TTL_SECONDS, "lifetime of a download URL", "url_ttl_seconds"
    ),
    Option(
        "STORE",
        "memory://",
        "sqlite:///path.db (workers on one host, survives restarts) or redis://host:6379/0 "
        "(replicas on several hosts)",
        "store_url",
        "--store",
    ),
    Option(
        "RETENTION_SECONDS",
        24 * 3600,
        "virtual seconds a report is kept; 0 keeps every report",
        "retention_seconds",
        "--retention",
        parse=_non_negative,
    ),
    Option(
        "CONTROL_API",
        True,
        "--no-control-api: do not serve /_mock/ (a public sandbox); the variable takes true/false",
        "control_api",
        "--no-control-api",
        command_line="off_switch",
        shown_default="served",
    ),
    Option(
        "VALIDATE_RESPONSES",
        "off",
        "check every response against schemas/",
        "validate_responses",
        "--validate-responses",
        choices=("off", "log", "raise"),
    ),
    Option(
        "API_KEYS",
        None,
        "accepted keys, comma-separated",
        "api_keys",
        shown_default='any key that starts with "sk-"',
    ),
    Option("JOURNAL_SIZE", 1000, "requests kept by GET /_mock/requests", "journal_size"),
    Option(
        "MAX_CONTENT_LENGTH",
        1024 * 1024,
        "largest request body in bytes; larger bodies get a 413",
        "max_body_bytes",
    ),
    Option(
        "FAULTS",
        None,
        "inject a fault into every report's requests, e.g. '503@polls=3,4', "
        "'drop@rate=0.05', 'latency=100-900@rate=0.5' (repeatable; see the README)",
        "faults",
        "--fault",
        command_line="repeat",
        metavar="RULE",
        shown_default="none",
    ),
    Option(
        "RATE_LIMIT",
        False,
        "enforce the documented limit: X-RateLimit-* headers, 429 past it",
        "rate_limit",
        "--rate-limit",
        command_line="switch",
    ),
    Option(
        "RATE_LIMIT_PER_MINUTE",
        DOCUMENTED_LIMIT,
        "requests per virtual minute per API key with --rate-limit",
        "rate_limit",
        "--rate-limit-per-minute",
        parse=_positive_int,
    ),
    Option(
        "RATE_LIMIT_WINDOW",
        "fixed",
        "count per clock minute (fixed) or over the last 60 s (sliding)",
        "rate_limit",
        "--rate-limit-window",
        choices=WINDOWS,
    ),
    Option(
        "INSPECTOR_API_KEY",
        "sk-inspector",
        "the key the inspector page creates reports with",
        "inspector_api_key",
    ),
)

#: The app's defaults, by config key (what ``create_app`` starts from).
DEFAULTS: dict[str, Any] = {o.key: o.default for o in OPTIONS if o.field is not None}
#: The defaults of the options only ``mockserver serve`` reads.
SERVE_DEFAULTS: dict[str, Any] = {o.key: o.default for o in OPTIONS if o.field is None}


def add_serve_options(parser: argparse.ArgumentParser) -> None:
    """Add every option that has a flag to the ``serve`` command, with its help text.

    Each lands in the namespace under its config key; an option left out is ``None`` there,
    so that its environment variable, then its default, applies.
    """
    for option in OPTIONS:
        if option.flag is None:
            continue
        common: dict[str, Any] = {"dest": option.key, "default": None, "help": option.help_text()}
        if option.command_line == "switch":
            parser.add_argument(option.flag, action="store_const", const=True, **common)
        elif option.command_line == "off_switch":
            parser.add_argument(option.flag, action="store_const", const=False, **common)
        elif option.command_line == "repeat":
            parser.add_argument(option.flag, action="append", metavar=option.metavar, **common)
        else:
            parse: Callable[[str], Any] = option.parse or str
            parser.add_argument(
                option.flag, type=parse, choices=option.choices, metavar=option.metavar, **common
            )


def config_from_arguments(arguments: argparse.Namespace) -> dict[str, Any]:
    """The options given on the command line, by config key (app and serving options)."""
    given: dict[str, Any] = {}
    for option in OPTIONS:
        value = getattr(arguments, option.key, None)
        if value is None:
            continue
        given[option.key] = "; ".join(value) if option.command_line == "repeat" else value
    return given


def serve_option(key: str, arguments: argparse.Namespace, environ: Mapping[str, str]) -> Any:
    """A serving option (host, port, workers, server): from the command line, else from
    ``MOCKSERVER_<key>``, else its default; a bad variable raises :class:`SettingsError`."""
    option = next(o for o in OPTIONS if o.key == key)
    given = getattr(arguments, key, None)
    if given is not None:
        return given
    raw = environ.get(option.variable)
    if raw is None:
        return option.default
    try:
        value = option.parse(raw.strip()) if option.parse is not None else raw.strip()
    except (ValueError, argparse.ArgumentTypeError) as error:
        raise SettingsError(f"{option.variable}={raw!r}: {error}") from error
    if option.choices is not None and value not in option.choices:
        raise SettingsError(f"{option.variable}={raw!r}: use {' or '.join(option.choices)}")
    return value
