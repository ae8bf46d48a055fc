"""``docs/config.md``, generated from the study.toml schema (:mod:`analysis.config_schema`).

``python -m flows.config_doc`` rewrites the page; ``python -m flows.config_doc --check`` exits 1
when the page and the models disagree (tests/flows/test_config_doc.py does the same).
"""

from __future__ import annotations

import argparse
import sys
import typing
from pathlib import Path
from typing import Any

from pydantic import BaseModel
from pydantic.fields import FieldInfo

from analysis.config_schema import StudyFile
from analysis.tomlschema import describe_type

DOC_PATH = Path(__file__).resolve().parents[1] / "docs" / "config.md"

INTRO = """\
# `study.toml`: the study configuration

<!-- Generated from analysis/config_schema.py by `python -m flows.config_doc`: do not edit by
hand (tests/flows/test_config_doc.py fails when this page and the models disagree). -->

One TOML file (UTF-8) says which files a study reads and how it computes and publishes its
figures. The bundled example is `data/raw/study.toml`. Check a config without running the study:

```sh
mobility-study config check --config path/to/study.toml
```

It validates the config, the codebook (`docs/codebook.md`) and that every input file is readable,
and prints a one-line summary (exit status 0), or the first problem as one line (exit status 2),
the same line `mobility-study run` prints before it starts anything. A failed check never touches
the output folder: the last published report stays as it was.

## Rules

- **Unknown sections and keys are errors**, with a suggestion for a near miss:
  ``study.toml:58: disclosre: unknown section; did you mean `disclosure`?``. A typo never
  silently falls back to a default.
- **Types are strict**: `drop_unfinished = "no"` is an error, not `true`; numbers are not quoted,
  strings are; an array is written `[...]` even with one element (`cells = ["school"]`).
- **Errors are one line**: `study.toml:LINE: key.path: message`, with the line of the offending
  key (or of its table when the key is missing).
- **Tables**: one `[section]` each; survey and mobility inputs are arrays of tables, one
  `[[inputs.surveys]]` / `[[inputs.mobility]]` per file (double brackets, even for one file);
  a study has at least one of them.
- **Paths** are relative to the folder of `study.toml`, never to the working directory. A
  relative path may not leave that folder (`../exports/survey.csv` is refused): a file kept
  elsewhere, such as a shared drive, is named by an absolute path (`~/` is your home folder),
  so a copied study folder never silently reads another folder's files. Every input must be an existing, readable **regular
  file**: a folder, a device (`/dev/zero`), a FIFO or a socket is refused before anything is
  read (a symbolic link is followed and its target checked). One file has one role: the same
  file listed twice (two survey entries, or a survey that is also the enrolment) is an error,
  since its rows would be counted twice. Inputs are only read, never written. The report's
  provenance names inputs relative to the config's folder, and a file outside it by its name
  only (`.../survey.csv`: a folder such as `/home/<user>/` is personal data).
- **Codebook sources**: every `[[inputs.surveys]]` `source` must be the `id` of a `[[sources]]`
  table of the codebook.
- **No `[budget]`, no budget**: without the section the report has no budget part; with it, the
  envelope and its year are required (no default amount can pass for data).
- A byte-order mark (as some Windows editors write) is accepted; a file over 1 MB is refused.
"""


def _toml_value(v: Any) -> str:
    if isinstance(v, bool):
        return str(v).lower()
    if isinstance(v, str):
        return f'"{v}"'
    if isinstance(v, list | tuple):
        return "[" + ", ".join(_toml_value(x) for x in v) + "]"
    if isinstance(v, dict):
        return (
            "{}"
            if not v
            else "{ " + ", ".join(f"{k} = {_toml_value(x)}" for k, x in v.items()) + " }"
        )
    return str(v)


def _default(info: FieldInfo) -> str:
    if info.is_required():
        return "required"
    if info.default_factory is not None:
        return "all defaults"
    if info.default is None:
        return "unset"
    return f"`{_toml_value(info.default)}`"


def _extra(info: FieldInfo, key: str) -> str:
    extra = info.json_schema_extra
    value = extra.get(key) if isinstance(extra, dict) else None
    return value if isinstance(value, str) else ""


def _model_of(info: FieldInfo) -> tuple[type[BaseModel] | None, bool]:
    """The table model of a field and whether it is an array of tables."""
    tp = info.annotation
    args = [a for a in typing.get_args(tp) if a is not type(None)]
    if args and typing.get_origin(tp) is not list and len(args) == 1:
        tp = args[0]
    if typing.get_origin(tp) is list:
        item = typing.get_args(tp)[0]
        if isinstance(item, type) and issubclass(item, BaseModel):
            return item, True
    if isinstance(tp, type) and issubclass(tp, BaseModel):
        return tp, False
    return None, False


def _one_line(s: str) -> str:
    return " ".join(s.split()).replace("|", "\\|")


def _section(
    name: str, model: type[BaseModel], array: bool, out: list[str], note: str = ""
) -> None:
    header = f"[[{name}]]" if array else f"[{name}]"
    out += [f"## `{header}`", "", _one_line(f"{model.__doc__ or ''} {note}"), ""]
    out += ["| key | type | default | meaning |", "|---|---|---|---|"]
    lines = [header]
    subtables: list[tuple[str, type[BaseModel], bool]] = []
    for key, info in model.model_fields.items():
        sub, sub_array = _model_of(info)
        where = f"{name}.{key}"
        if sub is not None:
            subtables.append((where, sub, sub_array))
            kind = f"`[[{where}]]` tables" if sub_array else f"`[{where}]` table"
            out.append(f"| `{key}` | {kind} | {_default(info)} | see below |")
            continue
        typ = _extra(info, "type") or describe_type(info.annotation, where)
        meaning = _one_line(info.description or "")
        out.append(f"| `{key}` | {_one_line(typ)} | {_default(info)} | {meaning} |")
        example = _extra(info, "toml_example")
        lines.append(example)
    # a sub-table written as [a.b] must come after the plain keys of [a]
    lines[1:] = sorted(lines[1:], key=lambda ln: ln.startswith("["))
    out += ["", "```toml", *lines, "```", ""]
    for where, sub, sub_array in subtables:
        _section(where, sub, sub_array, out)


def render_config_doc() -> str:
    """The whole page, from the models (deterministic: same models, same text)."""
    out = [INTRO]
    for key, info in StudyFile.model_fields.items():
        model, array = _model_of(info)
        assert model is not None, key
        note = "" if info.is_required() else "Optional section."
        _section(key, model, array, out, note)
    return "\n".join(out).rstrip() + "\n"


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="python -m flows.config_doc", description=__doc__)
    p.add_argument("--check", action="store_true", help="exit 1 if docs/config.md is stale")
    args = p.parse_args(argv)
    text = render_config_doc()
    if args.check:
        same = DOC_PATH.is_file() and DOC_PATH.read_text(encoding="utf-8") == text
        if not same:
            print(f"{DOC_PATH}: out of date: run python -m flows.config_doc", file=sys.stderr)
        return 0 if same else 1
    DOC_PATH.write_text(text, encoding="utf-8")
    print(DOC_PATH)
    return 0


if __name__ == "__main__":
    sys.exit(main())
