"""One log format for the node, the gateway and the verifier: UTC timestamps, the level, the
logger, and the message's `key=value` fields; as text lines (default) or as JSON objects, one a
line, for a log shipper. Levels per module refine the process's level.

    VOTESTORE_LOG_FORMAT=json                      text (default) or json
    VOTESTORE_LOG_LEVELS=votestore.node.catchup=DEBUG,votestore.node.peer=WARNING

Both come from the environment (a Kubernetes Secret or ConfigMap sets them the same way for every
process); a bad value is a ConfigError, one line, before anything is logged. Messages never carry
secrets: callers log hashes, heights and indices, never keys, credentials or personal links.
"""

from __future__ import annotations

import json
import logging
import os
import re
import time
from collections.abc import Mapping
from typing import Final

from votestore.errors import ConfigError

LEVELS: Final = ("DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL")
FORMATS: Final = ("text", "json")
FORMAT_ENV: Final = "VOTESTORE_LOG_FORMAT"
LEVELS_ENV: Final = "VOTESTORE_LOG_LEVELS"
_FIELD: Final = re.compile(r"([a-z_][a-z0-9_]*)=(\S+)")
_LOGGER_NAME: Final = re.compile(r"[A-Za-z_][A-Za-z0-9_.]*")


def _utc(created: float) -> str:
    seconds = time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(created))
    return f"{seconds}.{int(created % 1 * 1000):03d}Z"


class TextFormatter(logging.Formatter):
    """`2026-12-06T23:34:41.123Z level=INFO logger=votestore.node event=commit height=5`"""

    def format(self, record: logging.LogRecord) -> str:
        line = f"{_utc(record.created)} level={record.levelname} logger={record.name} {record.getMessage()}"
        if record.exc_info:
            line += " exception=" + json.dumps(self.formatException(record.exc_info))
        return line


class JsonFormatter(logging.Formatter):
    """One JSON object a line: ts, level, logger, component, msg, and the message's key=value
    fields as their own keys (a field never overwrites ts, level, logger, component or msg)."""

    def __init__(self, component: str) -> None:
        super().__init__()
        self._component = component

    def format(self, record: logging.LogRecord) -> str:
        message = record.getMessage()
        document: dict[str, str] = dict(_FIELD.findall(message))
        document.update(
            ts=_utc(record.created),
            level=record.levelname,
            logger=record.name,
            component=self._component,
            msg=message,
        )
        if record.exc_info:
            document["exception"] = self.formatException(record.exc_info)
        return json.dumps(document, ensure_ascii=False)


def check_level(level: str, where: str = "log_level") -> str:
    if level.upper() not in LEVELS:
        raise ConfigError(f"{where} {level!r} is not one of {', '.join(LEVELS)}")
    return level.upper()


def parse_module_levels(text: str) -> dict[str, str]:
    """`a.b=DEBUG,c=WARNING` -> {"a.b": "DEBUG", "c": "WARNING"}; empty text -> {}."""
    levels: dict[str, str] = {}
    for part in filter(None, (p.strip() for p in text.split(","))):
        name, sep, level = part.partition("=")
        if not sep or not _LOGGER_NAME.fullmatch(name.strip()):
            raise ConfigError(
                f"{LEVELS_ENV}: {part!r} is not LOGGER=LEVEL (e.g. votestore.node.catchup=DEBUG)"
            )
        levels[name.strip()] = check_level(level.strip(), f"{LEVELS_ENV}: level of {name.strip()}")
    return levels


def setup(component: str, level: str = "INFO", env: Mapping[str, str] | None = None) -> None:
    """Configure the root logger for one process (left alone if it has handlers already):
    `component` is node, gateway or verifier; `level` the process's level; format and per-module
    levels from `env` (default: os.environ)."""
    env = os.environ if env is None else env
    fmt = env.get(FORMAT_ENV, "text").strip().lower() or "text"
    if fmt not in FORMATS:
        raise ConfigError(f"{FORMAT_ENV} {fmt!r} is not one of {', '.join(FORMATS)}")
    root_level = check_level(level)
    modules = parse_module_levels(env.get(LEVELS_ENV, ""))
    root = logging.getLogger()
    if not root.handlers:  # else whoever embeds us (a test runner, an app) keeps its own logging
        handler = logging.StreamHandler()
        handler.setFormatter(JsonFormatter(component) if fmt == "json" else TextFormatter())
        root.addHandler(handler)
        root.setLevel(root_level)
    for name, module_level in modules.items():
        logging.getLogger(name).setLevel(module_level)
