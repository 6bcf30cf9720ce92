"""structlog configured once: readable console locally, JSON lines when PASSAGE_LOG_FORMAT=json.

Every line carries `logger` (the module's name) and `level`, plus whatever the work in hand bound
with `structlog.contextvars` (case_id, event_id, correlation_id, delivery_id). Lines of other
libraries (faust, kafka, uvicorn) go through the same renderer. Output goes to whatever
`sys.stderr` is at the moment of writing, never a stream captured at configuration: so pytest's
capture, which swaps sys.stderr per test, sees log lines like any other output. Control
characters in values are escaped (SPEC section 7), in our lines and the libraries' alike.
"""

from __future__ import annotations

import logging
import re
import sys
from collections.abc import Mapping, MutableMapping
from typing import Any, TextIO, cast

import structlog

_configured = False
# C0 and C1 control characters and DEL: from a request path they would reach a terminal raw.
_CONTROL = re.compile("[\x00-\x1f\x7f-\x9f]")
MULTILINE_FIELDS = frozenset({"exception", "stack"})  # tracebacks keep their line breaks


def escape(text: str) -> str:
    """`text` with every control character written as a visible escape (`\\x1b`)."""
    return _CONTROL.sub(lambda match: f"\\x{ord(match.group()):02x}", text)


def escape_control_characters(_logger: Any, _name: str, event_dict: MutableMapping[str, Any]) -> Mapping[str, Any]:
    """structlog processor: escape control characters in every string value (SPEC section 7)."""
    for key, value in event_dict.items():
        if isinstance(value, str) and key not in MULTILINE_FIELDS and _CONTROL.search(value):
            event_dict[key] = escape(value)
    return event_dict


def _escape_record(record: logging.LogRecord) -> bool:
    """Filter on the standard library's handlers (uvicorn, faust, kafka): the same escaping."""
    message = record.getMessage()
    if _CONTROL.search(message):
        record.msg, record.args = escape(message), None
    return True


class _CurrentStderr:
    """A file-like object that writes to the current sys.stderr."""

    def write(self, text: str) -> int:
        return sys.stderr.write(text)

    def flush(self) -> None:
        sys.stderr.flush()

    def isatty(self) -> bool:
        return sys.stderr.isatty()


class _NamedPrintLogger(structlog.PrintLogger):
    def __init__(self, name: str) -> None:
        super().__init__(cast(TextIO, _CurrentStderr()))  # the part of TextIO PrintLogger uses
        self.name = name


def _named_logger(*args: str) -> _NamedPrintLogger:
    """structlog's logger factory: `get_logger(name)` passes the name; add_logger_name reads it."""
    return _NamedPrintLogger(args[0] if args else "passage")


def configure_logging(log_format: str = "console", level: str = "INFO") -> None:
    global _configured
    if _configured:
        return
    _configured = True
    # Plain tracebacks: the console renderer's default (rich, when installed) prints every frame's
    # local variables, which hold payloads, names and SQL parameters.
    renderer = (
        structlog.processors.JSONRenderer()
        if log_format == "json"
        else structlog.dev.ConsoleRenderer(
            colors=sys.stderr.isatty(), exception_formatter=structlog.dev.plain_traceback
        )
    )
    shared: list[structlog.typing.Processor] = [
        structlog.contextvars.merge_contextvars,
        structlog.stdlib.add_logger_name,
        structlog.processors.add_log_level,
        structlog.processors.TimeStamper(fmt="iso", utc=True),
    ]
    # Other libraries' stdlib lines: the same renderer, with their logger name and level.
    handler = logging.StreamHandler(_CurrentStderr())
    handler.setFormatter(
        structlog.stdlib.ProcessorFormatter(
            foreign_pre_chain=shared,
            processors=[
                structlog.stdlib.ProcessorFormatter.remove_processors_meta,
                structlog.processors.format_exc_info,
                renderer,
            ],
        )
    )
    handler.addFilter(_escape_record)
    logging.basicConfig(level=level, handlers=[handler], force=True)
    for noisy in ("kafka", "aiokafka", "faust", "mode", "alembic", "uvicorn.access"):
        logging.getLogger(noisy).setLevel(logging.WARNING)
    structlog.configure(
        processors=[
            *shared,
            structlog.processors.format_exc_info,
            escape_control_characters,
            renderer,
        ],
        wrapper_class=structlog.make_filtering_bound_logger(logging.getLevelName(level)),
        logger_factory=_named_logger,
        cache_logger_on_first_use=True,
    )


def get_logger(name: str) -> structlog.stdlib.BoundLogger:
    """A logger whose every line says `logger=<name>` (lazy: configured on first use, not at import)."""
    return structlog.get_logger(name)
