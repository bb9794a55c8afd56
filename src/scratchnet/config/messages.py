"""The one-line form of the errors users cause: bad overrides, values, data.

Used wherever a user error is shown: the entry points (exit 2) and a sweep's pre-flight check
(which names the job the error came from).
"""

import dataclasses
import typing
from types import UnionType
from typing import Union

from hydra.errors import HydraException, MissingConfigException
from omegaconf.errors import (
    ConfigAttributeError,
    ConfigKeyError,
    OmegaConfBaseException,
    ValidationError,
)

from scratchnet.core.errors import RuntimeFailure, ScratchnetError

USAGE_ERRORS = (ScratchnetError, HydraException, OmegaConfBaseException)


def _first_line(err: BaseException) -> str:
    lines = str(err).strip().splitlines()
    return lines[0].strip().rstrip(".") if lines else ""


def _allowed(err: BaseException) -> str:
    """What would have been accepted, when the error knows: group options or schema keys."""
    options = [o for o in getattr(err, "options", None) or [] if not o.startswith("base_")]
    if isinstance(err, MissingConfigException) and options:
        return f"allowed: {', '.join(options)}"
    schema = getattr(err, "object_type", None)
    if isinstance(err, ConfigKeyError | ConfigAttributeError) and dataclasses.is_dataclass(schema):
        return f"allowed keys: {', '.join(f.name for f in dataclasses.fields(schema))}"
    if isinstance(err, ValidationError) and dataclasses.is_dataclass(schema):
        kind = typing.get_type_hints(schema).get(str(getattr(err, "key", "")))
        if kind is not None:
            return f"allowed: {_describe_type(kind)}"
    return ""


_TYPE_NAMES = {int: "an integer", float: "a number", bool: "true or false", str: "a string"}


def _describe_type(kind: object) -> str:
    """`int | None` -> 'an integer or null', as the schema declares a field."""
    members = typing.get_args(kind) if typing.get_origin(kind) in (UnionType, Union) else (kind,)
    names = [_TYPE_NAMES.get(m, getattr(m, "__name__", str(m))) for m in members if m is not None]
    names += ["null"] if type(None) in members else []
    return " or ".join(dict.fromkeys(n for n in names if n != "NoneType"))


def one_line(err: BaseException) -> str:
    """The error's first line, its cause's first line and what is allowed, on one line.

    The cause is left out where the error's own message already says it: an OSError ("[Errno 2]
    ..."), a RuntimeFailure (a full disk), or a cause whose line the message contains.
    """
    parts: list[str] = []
    said = isinstance(err.__cause__, OSError) or isinstance(err, RuntimeFailure)
    cause = None if said else err.__cause__
    for seen in (err, cause):
        if seen is None:
            continue
        for text in (_first_line(seen), _allowed(seen)):
            if text and not any(text in part for part in parts):
                parts.append(text)
    return "; ".join(parts) or type(err).__name__
