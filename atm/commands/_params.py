"""Turning command-line text into the plain values atm's commands take, without loading pydantic.

Typer coerces every parameter value through a pydantic TypeAdapter, which costs a process about 0.1 s (importing
pydantic and building the adapters): more than the rest of an indexed `atm assets list`. atm's parameters are
plain (text, whole numbers with bounds, paths, flags, lists of text), so those get a converter of their own with
the same rules and the same kind of usage error; anything else keeps Typer's own coercion.
"""

from __future__ import annotations

import types
import typing
from pathlib import Path
from typing import Any, Callable

import typer


def _text(value: Any, param, ctx) -> str:
    if isinstance(value, str):
        return value
    raise typer.BadParameter(f"{value!r} is not text.", ctx=ctx, param=param)


def _flag(value: Any, param, ctx) -> bool:
    if isinstance(value, bool):
        return value
    folded = str(value).strip().lower()
    if folded in ("1", "true", "yes", "y", "on"):
        return True
    if folded in ("0", "false", "no", "n", "off"):
        return False
    raise typer.BadParameter(f"{value!r} is not true or false.", ctx=ctx, param=param)


def _path(value: Any, param, ctx) -> Path:
    return value if isinstance(value, Path) else Path(_text(value, param, ctx))


def _whole(low: int | None, high: int | None) -> Callable:
    def convert(value: Any, param, ctx) -> int:
        try:
            number = value if isinstance(value, int) and not isinstance(value, bool) else int(str(value).strip())
        except ValueError:
            raise typer.BadParameter(f"{value!r} is not a whole number.", ctx=ctx, param=param) from None
        if (low is not None and number < low) or (high is not None and number > high):
            span = f"from {low} to {high}" if low is not None and high is not None else (
                f"at least {low}" if low is not None else f"at most {high}")
            raise typer.BadParameter(f"{number} is not {span}.", ctx=ctx, param=param)
        return number
    return convert


class PlainParam:
    """Typer's runtime-parameter contract (`coerce`) for one plain parameter."""

    def __init__(self, convert: Callable) -> None:
        self.convert = convert

    def coerce(self, value: Any, param, ctx) -> Any:
        many = param.multiple or param.nargs == -1
        if value is None:
            return () if many else None
        if many:
            if isinstance(value, str):
                raise typer.BadParameter("Value must be an iterable.", ctx=ctx, param=param)
            return [self.convert(v, param, ctx) for v in value]
        return self.convert(value, param, ctx)


def _base(annotation: Any) -> tuple[Any, bool]:
    """The annotation without Optional, and whether it is a list of it."""
    origin = typing.get_origin(annotation)
    if origin in (typing.Union, types.UnionType):
        rest = [a for a in typing.get_args(annotation) if a is not type(None)]
        if len(rest) != 1:
            return None, False
        return _base(rest[0])
    if origin is list:
        inner = typing.get_args(annotation)
        base, nested = _base(inner[0]) if inner else (None, True)
        return (base, True) if not nested else (None, False)
    return annotation, False


def install(param) -> None:
    """Give `param` a plain converter when its type is one atm uses; otherwise leave Typer's own."""
    descriptor = getattr(param, "type_descriptor", None)
    if descriptor is None or not hasattr(param, "_runtime_param") or descriptor.file_annotation is not None:
        return
    info = descriptor.parameter_info
    if getattr(info, "parser", None) is not None or getattr(info, "click_type", None) is not None:
        return
    base, many = _base(descriptor.annotation)
    if many != (param.multiple or param.nargs == -1):
        return
    if base is str:
        convert = _text
    elif base is bool:
        convert = _flag
    elif base is Path:
        convert = _path
    elif base is int and not getattr(info, "clamp", False):
        convert = _whole(info.min, info.max)
    else:
        return
    param._runtime_param = PlainParam(convert)
