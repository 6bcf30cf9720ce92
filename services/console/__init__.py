"""The officer console (SPEC section 13): server-rendered pages under /console/ of the query service."""

from services.console.app import create_console

__all__ = ["create_console"]
