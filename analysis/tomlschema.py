"""TOML files validated by pydantic models, with errors as one line ``FILE:LINE: key: message``.

Shared by the study config (:mod:`analysis.config_schema`) and the codebook
(:mod:`analysis.ingest.codebook_schema`). tomllib gives no positions, so :func:`key_lines` scans
the text for table headers and keys; :func:`one_line_error` turns the first problem of a
pydantic ``ValidationError`` (first in file order) into one line with the type expected, the
value found and, for a near-miss name, a suggestion ("did you mean `disclosure`?").
"""

from __future__ import annotations

import datetime as dt
import difflib
import re
import types
import typing
from collections.abc import Mapping
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, ValidationError
from pydantic.fields import FieldInfo


class Table(BaseModel):
    """A TOML table: unknown keys are errors, values are never coerced (``"no"`` is not false)."""

    model_config = ConfigDict(extra="forbid", strict=True, frozen=True)


# ----------------------------------------------------------------------------- line finding
_HEADER = re.compile(r"^\s*(\[\[?)\s*([^\]]+?)\s*\]\]?\s*(?:#.*)?$")
_KEYLINE = re.compile(
    r"^\s*((?:\"[^\"]*\"|'[^']*'|[A-Za-z0-9_\-]+)(?:\s*\.\s*(?:\"[^\"]*\"|'[^']*'|[A-Za-z0-9_\-]+))*)\s*="
)
_KEYPART = re.compile(r"\"([^\"]*)\"|'([^']*)'|([A-Za-z0-9_\-]+)")


def _split_key(s: str) -> tuple[str, ...]:
    return tuple(a or b or c for a, b, c in _KEYPART.findall(s))


def _occurrences(text: str) -> list[tuple[tuple[Any, ...], int]]:
    """Every (key path, 1-based line) of the text, tables and keys, in order."""
    out: list[tuple[tuple[Any, ...], int]] = []
    counts: dict[tuple[str, ...], int] = {}
    table: tuple[Any, ...] = ()
    for no, line in enumerate(text.splitlines(), 1):
        m = _HEADER.match(line)
        if m and not _KEYLINE.match(line):
            parts = _split_key(m.group(2))
            if m.group(1) == "[[":
                i = counts.get(parts, -1) + 1
                counts[parts] = i
                table = (*parts[:-1], parts[-1], i) if parts else ()
            else:
                # a sub-table of the latest array entry, e.g. [sources.columns]
                base = parts
                for arr, i in counts.items():
                    if parts[: len(arr)] == arr:
                        base = (*arr, i, *parts[len(arr) :])
                table = base
            out.append((table, no))
            continue
        k = _KEYLINE.match(line)
        if k:
            out.append(((*table, *_split_key(k.group(1))), no))
    return out


def key_lines(text: str) -> dict[tuple[Any, ...], int]:
    """Map of key path -> 1-based line (array-of-tables entries carry their index)."""
    index: dict[tuple[Any, ...], int] = {}
    for key, no in _occurrences(text):
        index.setdefault(key, no)
    return index


def line_of(index: Mapping[tuple[Any, ...], int], loc: tuple[Any, ...]) -> int | None:
    """Line of ``loc`` or of its closest enclosing key/table found in the text."""
    for n in range(len(loc), 0, -1):
        for key in (loc[:n], (*loc[:n], 0)):  # (*loc, 0): a table written as [[x]]
            if key in index:
                return index[key]
    return None


def dotted(loc: tuple[Any, ...]) -> str:
    """``("inputs", "surveys", 0, "path")`` -> ``inputs.surveys[0].path``."""
    out = ""
    for p in loc:
        if isinstance(p, int):
            out += f"[{p}]"
            continue
        part = str(p) if re.fullmatch(r"[A-Za-z0-9_\-]+", str(p)) else f'"{p}"'
        out += f".{part}" if out else part
    return out


def located(label: str, text: str, loc: tuple[Any, ...], message: str) -> str:
    """``label:LINE: key.path: message`` (the line is left out when the key is not in the text)."""
    line = line_of(key_lines(text), loc)
    at = f":{line}" if line else ""
    key = f" {dotted(loc)}:" if loc else ""
    return one_line(f"{label}{at}:{key} {message}")


def one_line(message: str) -> str:
    """``message`` with its control characters escaped: an error is always one line."""
    return "".join(c if c.isprintable() or c == " " else repr(c)[1:-1] for c in message)


def toml_syntax_error(label: str, exc: Exception, text: str = "") -> str:
    """tomllib's message ``... (at line 5, column 8)`` as ``label:5: invalid TOML: ... (column 8)``.

    Two mistakes get their own words: a key given twice in a table, and a table written both
    as ``[x]`` and ``[[x]]`` (tomllib says "Cannot overwrite a value" / "Cannot declare").
    """
    msg = str(exc)
    m = re.search(r"\s*\(at line (\d+), column (\d+)\)$", msg)
    if not m:
        m = re.search(r"\s*\(at end of document\)$", msg)
        tail = msg[: m.start()] if m else msg
        unclosed = _unclosed_string_line(text) if m else None
        if unclosed:  # tomllib reports a string left open at the end of the document
            return f"{label}:{unclosed}: invalid TOML: a string is not closed on its line"
        return f"{label}: invalid TOML: {tail}" + (" (at the end of the file)" if m else "")
    line, col, what = int(m.group(1)), m.group(2), msg[: m.start()]
    better = _explained(text, line) if text else None
    if better:
        return one_line(f"{label}:{better[0]}: invalid TOML: {better[1]}")
    return one_line(f"{label}:{line}: invalid TOML: {what} (column {col})")


def _unclosed_string_line(text: str) -> int | None:
    """The first ``key = "...`` line whose one-line string is not closed."""
    for no, ln in enumerate(text.splitlines(), 1):
        k = _KEYLINE.match(ln)
        if not k:
            continue
        value = ln[k.end() :].strip()
        if not value or value[0] not in "'\"" or value[:3] in ("'''", '"""'):
            continue
        quote = value[0]
        body = value[1:] if quote == "'" else re.sub(r"\\.", "", value[1:])
        if quote not in body:
            return no
    return None


def _explained(text: str, line: int) -> tuple[int, str] | None:
    lines = text.splitlines()
    single: dict[tuple[str, ...], int] = {}
    double: dict[tuple[str, ...], int] = {}
    for no, ln in enumerate(lines, 1):
        h = _HEADER.match(ln)
        if h and not _KEYLINE.match(ln):
            (double if h.group(1) == "[[" else single).setdefault(_split_key(h.group(2)), no)
    for name, no in single.items():
        if name in double:
            table = ".".join(name)
            return no, (
                f"[{table}] (line {no}) and [[{table}]] (line {double[name]}) are both used: write "
                f"[[{table}]] (double brackets) for each entry"
            )
    if not 0 < line <= len(lines):
        return None
    occurrences = _occurrences("\n".join(lines[:line]))
    here = [key for key, no in occurrences if no == line]
    if here and _KEYLINE.match(lines[line - 1]):
        first = next(no for key, no in occurrences if key == here[0])
        if first != line:
            return line, f"`{dotted(here[0])}` is given twice (lines {first} and {line})"
    return None


# ----------------------------------------------------------------------------- describing types
def _unwrap_optional(tp: Any) -> tuple[Any, bool]:
    if typing.get_origin(tp) in (typing.Union, types.UnionType):
        args = [a for a in typing.get_args(tp) if a is not type(None)]
        if len(args) == 1:
            return args[0], True
    return tp, False


def _strip_annotated(tp: Any) -> Any:
    while typing.get_origin(tp) is typing.Annotated:
        tp = typing.get_args(tp)[0]
    return tp


def describe_type(tp: Any, where: str = "") -> str:
    """What a TOML value of annotation ``tp`` looks like, in words (docs and errors)."""
    tp = _strip_annotated(tp)
    tp, _ = _unwrap_optional(tp)
    tp = _strip_annotated(tp)
    origin = typing.get_origin(tp)
    if tp is str:
        return "a string"
    if tp is bool:
        return "true or false (no quotes)"
    if tp is int:
        return "an integer"
    if tp is float:
        return "a number"
    if tp is dt.date:
        return "a date (YYYY-MM-DD)"
    if origin is Literal:
        shown_args = [f'"{a}"' if isinstance(a, str) else str(a) for a in typing.get_args(tp)]
        return shown_args[0] if len(shown_args) == 1 else "one of " + ", ".join(shown_args)
    if origin in (list, tuple):
        (item, *_) = typing.get_args(tp) or (Any,)
        item = _strip_annotated(item)
        if isinstance(item, type) and issubclass(item, BaseModel):
            return f"an array of tables, one `[[{where}]]` each" if where else "an array of tables"
        return f"an array of {_plural(describe_type(item))}"
    if origin is dict:
        _, val = typing.get_args(tp)
        return f"a table of {_plural(describe_type(val))}"
    if origin in (typing.Union, types.UnionType):
        return " or ".join(describe_type(a) for a in typing.get_args(tp))
    if isinstance(tp, type) and issubclass(tp, BaseModel):
        return f"a table `[{where}]`" if where else "a table"
    return "a value"


def _plural(s: str) -> str:
    for one, many in (
        ("a string", "strings"),
        ("an integer", "integers"),
        ("a number", "numbers"),
        ("a table", "tables"),
        ("true or false (no quotes)", "booleans"),
    ):
        if s == one:
            return many
    return "values among " + s.removeprefix("one of ") if s.startswith("one of") else s


def _field_doc_type(info: FieldInfo, where: str) -> str:
    extra = info.json_schema_extra
    if isinstance(extra, dict) and isinstance(extra.get("type"), str):
        return str(extra["type"])
    return describe_type(info.annotation, where)


def field_at(model: type[BaseModel], loc: tuple[Any, ...]) -> tuple[type[BaseModel], FieldInfo]:
    """The model and field that ``loc`` (a pydantic error location) ends in.

    Raises ``KeyError`` when ``loc`` names no field (an unknown key, or an item of a list/table).
    """
    current: Any = model
    owner: type[BaseModel] = model
    info: FieldInfo | None = None
    for part in loc:
        tp = _strip_annotated(current)
        tp, _ = _unwrap_optional(tp)
        tp = _strip_annotated(tp)
        if isinstance(tp, type) and issubclass(tp, BaseModel) and isinstance(part, str):
            if part not in tp.model_fields:
                raise KeyError(part)
            owner, info = tp, tp.model_fields[part]
            current = info.annotation
        elif typing.get_origin(tp) in (list, tuple) and isinstance(part, int):
            current = typing.get_args(tp)[0]
            info = None
        elif typing.get_origin(tp) is dict:
            current = typing.get_args(tp)[1]
            info = None
        else:
            raise KeyError(part)
    if info is None:
        raise KeyError(loc)
    return owner, info


def _annotation_at(model: type[BaseModel], loc: tuple[Any, ...]) -> Any:
    current: Any = model
    for part in loc:
        tp, _ = _unwrap_optional(_strip_annotated(current))
        tp = _strip_annotated(tp)
        if isinstance(tp, type) and issubclass(tp, BaseModel) and isinstance(part, str):
            current = tp.model_fields[part].annotation
        elif typing.get_origin(tp) in (list, tuple):
            current = typing.get_args(tp)[0]
        elif typing.get_origin(tp) is dict:
            current = typing.get_args(tp)[1]
        else:
            raise KeyError(part)
    return current


# ----------------------------------------------------------------------------- messages
def suggestion(name: str, candidates: list[str] | tuple[str, ...]) -> str:
    """``"; did you mean `x`?"`` for a near miss, else ``""``."""
    close = difflib.get_close_matches(str(name), [str(c) for c in candidates], n=1, cutoff=0.6)
    return f"; did you mean `{close[0]}`?" if close else ""


def shown(value: Any) -> str:
    """A value as found in the file, short and on one line."""
    if isinstance(value, bool):
        return f"{str(value).lower()} (a boolean)"
    if isinstance(value, str):
        s = value if len(value) <= 60 else value[:57] + "..."
        return f"{s!r} (a string)".replace("'", '"', 2) if '"' not in s else f"{s!r} (a string)"
    if isinstance(value, int):
        return f"{value} (an integer)"
    if isinstance(value, float):
        return f"{value} (a number)"
    if isinstance(value, dict):
        return "a table"
    if isinstance(value, list):
        return "an array"
    if isinstance(value, dt.datetime | dt.date | dt.time):
        return f"{value.isoformat()} (a TOML date/time)"
    return type(value).__name__


def _all_fields(model: type[BaseModel], prefix: tuple[str, ...] = ()) -> dict[str, list[str]]:
    """Field name -> the tables that define it (for "`x` belongs in [y]")."""
    out: dict[str, list[str]] = {}
    for name, info in model.model_fields.items():
        out.setdefault(name, []).append(dotted(prefix))
        tp, _ = _unwrap_optional(_strip_annotated(info.annotation))
        tp = _strip_annotated(tp)
        if typing.get_origin(tp) in (list, tuple):
            tp = _strip_annotated(typing.get_args(tp)[0])
        if isinstance(tp, type) and issubclass(tp, BaseModel):
            for k, v in _all_fields(tp, (*prefix, name)).items():
                out.setdefault(k, []).extend(v)
    return out


def _message(model: type[BaseModel], err: Mapping[str, Any]) -> str:
    loc: tuple[Any, ...] = tuple(err["loc"])
    kind = err["type"]
    value = err.get("input")
    where = dotted(tuple(p for p in loc if not isinstance(p, int)))
    if kind == "extra_forbidden":
        parent = loc[:-1]
        try:
            tp, _ = _unwrap_optional(_strip_annotated(_annotation_at(model, parent)))
            tp = _strip_annotated(tp)
            allowed = list(tp.model_fields) if isinstance(tp, type) else []
        except KeyError:
            allowed = []
        what = "section" if len(parent) == 0 else "key"
        hint = suggestion(str(loc[-1]), allowed)
        if not hint:
            homes = [h for h in _all_fields(model).get(str(loc[-1]), []) if h]
            if homes:
                hint = f"; `{loc[-1]}` belongs in [{homes[0]}]"
        listed = f" (allowed: {', '.join(allowed)})" if allowed else ""
        return f"unknown {what}{hint}{listed}"
    if kind == "missing":
        try:
            _, info = field_at(model, loc)
            tp, _ = _unwrap_optional(_strip_annotated(info.annotation))
            if isinstance(tp, type) and issubclass(tp, BaseModel):
                return f"required section [{where}] is missing"
        except KeyError:
            pass
        return "required key is missing"
    try:
        _, info = field_at(model, loc)
        expected = _field_doc_type(info, where)
    except KeyError:
        try:
            expected = describe_type(_annotation_at(model, loc), where)
        except KeyError:
            expected = ""
    if kind == "literal_error":
        options = [str(x) for x in typing.get_args(_literal_of(model, loc))]
        return f"must be {expected}, got {shown(value)}{suggestion(str(value), options)}"
    if kind == "list_type" and isinstance(value, dict) and "array of tables" in expected:
        return f"must be an array of tables: write `[[{where}]]` (double brackets), one per entry"
    if kind == "model_type" and isinstance(value, list) and value and isinstance(value[0], dict):
        return f"must be a single table: write `[{where}]` (single brackets)"
    if kind in ("value_error", "assertion_error"):
        return str(err["ctx"].get("error", err["msg"])) if err.get("ctx") else str(err["msg"])
    if kind.startswith(("greater_than", "less_than", "too_short", "too_long", "string_")) and (
        kind not in ("string_type",)
    ):
        return f"{_pydantic_msg(err)}, got {shown(value)}"
    if expected:
        return f"must be {expected}, got {shown(value)}{_example(model, loc)}"
    return f"{_pydantic_msg(err)}, got {shown(value)}"


def _example(model: type[BaseModel], loc: tuple[Any, ...]) -> str:
    """``"; e.g. `cells = ["school", "gender"]`"`` from the field's documented example."""
    try:
        _, info = field_at(model, loc)
    except KeyError:
        return ""
    extra = info.json_schema_extra
    example = extra.get("toml_example") if isinstance(extra, dict) else None
    if isinstance(example, str) and "\n" not in example and "=" in example:
        return f"; e.g. `{example}`"
    return ""


def _literal_of(model: type[BaseModel], loc: tuple[Any, ...]) -> Any:
    try:
        tp = _annotation_at(model, loc)
    except KeyError:
        return Literal[()]  # type: ignore[valid-type]
    tp, _ = _unwrap_optional(_strip_annotated(tp))
    return _strip_annotated(tp)


def _pydantic_msg(err: Mapping[str, Any]) -> str:
    msg = str(err["msg"])
    for a, b in (
        ("Input should be", "must be"),
        ("List should have", "must have"),
        ("String should have", "must have"),
    ):
        msg = msg.replace(a, b)
    return msg


def one_line_error(
    label: str, text: str, model: type[BaseModel], exc: ValidationError
) -> tuple[tuple[Any, ...], str]:
    """(location, ``label:LINE: key: message``) of the first problem in file order."""
    index = key_lines(text)
    errors = exc.errors(include_url=False)

    def order(e: Mapping[str, Any]) -> tuple[int, int]:
        line = line_of(index, tuple(e["loc"]))
        return (line if line is not None else 10**9, 0 if e["type"] == "extra_forbidden" else 1)

    first = min(errors, key=order)
    loc = tuple(first["loc"])
    return loc, located(label, text, loc, _message(model, first))
