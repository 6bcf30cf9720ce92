"""structlog configured once: readable console locally, JSON lines when PASSAGE_LOG_FORMAT=json."""

from __future__ import annotations

import logging
import re
import sys
from typing import Any

import structlog

_configured = False
# C0 and C1 control characters and DEL: from a request path they would reach a terminal raw.
_CONTROL = re.compile("[\x00-\x1f\x7f-\x9f]")
MULTILINE_FIELDS = frozenset({"exception", "stack"})  # tracebacks keep their line breaks


def escape(text: str) -> str:
    """`text` with every control character written as a visible escape (`\\x1b`)."""
    return _CONTROL.sub(lambda match: f"\\x{ord(match.group()):02x}", text)


def escape_control_characters(_logger: Any, _name: str, event_dict: dict[str, Any]) -> dict[str, Any]:
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
        else structlog.dev.ConsoleRenderer(colors=sys.stderr.isatty(), exception_formatter=structlog.dev.plain_traceback)
    )
    logging.basicConfig(level=level, stream=sys.stderr, format="%(name)s %(levelname)s %(message)s")
    for handler in logging.getLogger().handlers:
        handler.addFilter(_escape_record)
    for noisy in ("kafka", "aiokafka", "faust", "mode", "alembic", "uvicorn.access"):
        logging.getLogger(noisy).setLevel(logging.WARNING)
    structlog.configure(
        processors=[
            structlog.contextvars.merge_contextvars,
            structlog.processors.add_log_level,
            structlog.processors.TimeStamper(fmt="iso", utc=True),
            structlog.processors.format_exc_info,
            escape_control_characters,
            renderer,
        ],
        wrapper_class=structlog.make_filtering_bound_logger(logging.getLevelName(level)),
        logger_factory=structlog.PrintLoggerFactory(file=sys.stderr),
        cache_logger_on_first_use=True,
    )


def get_logger(name: str) -> structlog.stdlib.BoundLogger:
    return structlog.get_logger(name)
