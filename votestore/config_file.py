"""The one typed reader of the project's TOML files (node.toml, gateway.toml, election definitions).

A file's shape is the dataclass the program uses, with what each value must be in its annotations
(the types below); pydantic checks a parsed document against it. Whatever is wrong comes back as
one `ConfigError` line naming the file, the key and what is wrong — an unknown key, a missing
one, a wrong type, a bound — never a traceback and never a silent default for a typo.
"""

from __future__ import annotations

import tomllib
from collections.abc import Mapping
from pathlib import Path
from typing import Annotated, Any, Final, TypeVar

from pydantic import (
    AfterValidator,
    BeforeValidator,
    ConfigDict,
    Field,
    StrictBool,
    StrictFloat,
    StrictInt,
    StrictStr,
    TypeAdapter,
    ValidationError,
    ValidationInfo,
    with_config,
)
from pydantic_core import ErrorDetails

from votestore.errors import ConfigError

T = TypeVar("T")

FILE_SHAPE: Final = ConfigDict(extra="forbid")
"""Every table of a file refuses keys it does not name (`@with_config(FILE_SHAPE)`)."""

table = with_config(FILE_SHAPE)


def _text_path(value: object) -> object:
    if isinstance(value, Path):
        return value
    if not isinstance(value, str) or not value:
        raise ValueError("must be a non-empty string (a path)")
    return Path(value)


def _against_file(value: Path, info: ValidationInfo) -> Path:
    base = (info.context or {}).get("base")
    return value if base is None else base / value  # an absolute path stays absolute


RelativePath = Annotated[Path, BeforeValidator(_text_path), AfterValidator(_against_file)]
"""A path as the file writes it, relative to the file's own directory."""


def _host_port(value: str) -> str:
    host, _, port = value.rpartition(":")
    if not host or not port.isdigit():
        raise ValueError(f"must be host:port, got {value!r}")
    return value


HostPort = Annotated[StrictStr, AfterValidator(_host_port)]
NonEmptyStr = Annotated[StrictStr, Field(min_length=1)]
NonNegativeInt = Annotated[StrictInt, Field(ge=0)]
Port = Annotated[StrictInt, Field(ge=0, le=65535)]
PositiveInt = Annotated[StrictInt, Field(gt=0)]
PositiveNumber = Annotated[StrictFloat, Field(gt=0)]
"""A float; an integer in the file is taken as one, true/false and strings are refused."""
AtLeastOne = Annotated[StrictFloat, Field(ge=1)]
Flag = StrictBool


def read_toml(path: Path, what: str = "config file", max_bytes: int | None = None) -> dict[str, Any]:
    """The parsed document of `path`; ConfigError naming the file if it is absent, too large,
    not UTF-8 or not TOML."""
    try:
        raw = path.read_bytes()
    except FileNotFoundError:
        raise ConfigError(f"{what} {path} not found") from None
    except OSError as exc:
        raise ConfigError(f"{what} {path} unreadable: {exc.strerror}") from None
    if max_bytes is not None and len(raw) > max_bytes:
        raise ConfigError(f"{what} {path} exceeds {max_bytes} bytes")
    try:
        return tomllib.loads(raw.decode("utf-8"))
    except (UnicodeDecodeError, tomllib.TOMLDecodeError) as exc:
        raise ConfigError(f"{what} {path} unreadable: {exc}") from None


def parse(shape: type[T], document: Mapping[str, object], where: str | Path, base: Path | None = None) -> T:
    """`document` as a `shape` (a dataclass decorated with `table`); relative paths are taken
    from `base`. ConfigError, one line, on the first thing wrong (every unknown key at once)."""
    try:
        return TypeAdapter(shape).validate_python(document, context={"base": base})
    except ValidationError as exc:
        raise ConfigError(f"{where}: {describe(exc.errors())}") from None


def describe(errors: list[ErrorDetails]) -> str:
    """What is wrong, for a person: unknown keys first (a typo explains the rest), else the first
    error with its key."""
    unknown = [_key(e["loc"]) for e in errors if e["type"] in _UNKNOWN]
    if unknown:
        return f"unknown keys {unknown}"
    error = errors[0]
    key = _key(error["loc"])
    if error["type"] == "missing":
        return f"missing key '{key}'"
    return f"{key} {_what(error)}"


_UNKNOWN: Final = frozenset({"unexpected_keyword_argument", "extra_forbidden"})
_EXPECTED: Final = {
    "string_type": "must be a string",
    "int_type": "must be an integer",
    "int_parsing": "must be an integer",
    "float_type": "must be a number",
    "bool_type": "must be true or false",
    "dict_type": "must be a table",
    "dataclass_type": "must be a table",
    "list_type": "must be a list",
    "string_too_short": "must not be empty",
}


def _what(error: ErrorDetails) -> str:
    kind, context = error["type"], error.get("ctx", {})
    if kind in _EXPECTED:
        return _EXPECTED[kind]
    if kind == "greater_than_equal":
        return f"must be at least {_number(context['ge'])}"
    if kind == "greater_than":
        return f"must be more than {_number(context['gt'])}"
    if kind == "less_than_equal":
        return f"must be at most {_number(context['le'])}"
    if kind == "value_error":
        return str(context.get("error", error["msg"]))
    if kind.endswith("_type") and isinstance(error["msg"], str):
        return "has the wrong type: " + error["msg"].lower()
    return str(error["msg"]).lower()


def _number(bound: object) -> object:
    return int(bound) if isinstance(bound, float) and bound.is_integer() else bound


def _key(location: tuple[int | str, ...]) -> str:
    """`limits.client_burst`, `peers.7`, `contests[2].id` (lists counted from 1, as people do)."""
    key = ""
    for part in location:
        if part == "[key]":
            continue
        if isinstance(part, int):
            key += f"[{part + 1}]"
        else:
            key += f".{part}" if key else str(part)
    return key or "(document)"
