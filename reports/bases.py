"""The "base" texts of estimates (what the denominator is) in the report's language.

``analysis/`` writes each :attr:`analysis.results.Estimate.base` in English (it also goes to
``results.json``). For another language the report rewrites it with an ordered list of rules
kept as data in ``templates/bases.<lang>.toml``: an English regular expression matching the
whole text and a template in the target language whose fields are shown by kind (a number in
the locale's form, a variable's label, a school's name, a nested base...). A text no rule
covers is shown in English and counted as untranslated (the view model reports it in the
data-quality section; a test requires none on the bundled study).
"""

from __future__ import annotations

import re
import string
import tomllib
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path

from reports.format import fmt_number

TEMPLATES = Path(__file__).parent / "templates"
KINDS = frozenset({"text", "num", "var", "vars", "school", "term", "base"})
_MAX_DEPTH = 4  # nested bases ("X; all schools except Y" inside "... share minus ... (X)")


class BaseRulesError(ValueError):
    """A malformed rule file (the message names the file and the rule)."""


@dataclass(frozen=True)
class BaseRule:
    """One English pattern (matched against the whole text) and its translation."""

    pattern: re.Pattern[str]
    template: str
    kinds: Mapping[str, str]
    number: int  # 1-based position in the rule file, for messages


@dataclass(frozen=True)
class BaseRules:
    rules: tuple[BaseRule, ...]
    terms: Mapping[str, str]


def _rules_path(lang: str) -> Path:
    return TEMPLATES / f"bases.{lang}.toml"


@cache
def load_base_rules(lang: str) -> BaseRules:
    """The rules of ``templates/bases.<lang>.toml``; none for English (the source language).

    Checks each rule: a valid regular expression, template fields that are named groups of
    it, known kinds. Errors name the file and the rule number."""
    path = _rules_path(lang)
    if lang == "en" or not path.exists():
        return BaseRules((), {})
    with open(path, "rb") as f:
        data = tomllib.load(f)
    rules = []
    for i, r in enumerate(data.get("rule", []), start=1):
        where = f"{path.name}, rule {i}"
        if not isinstance(r.get("en"), str) or not isinstance(
            r.get("fr" if lang == "fr" else lang), str
        ):
            raise BaseRulesError(f"{where}: needs string keys 'en' and '{lang}'")
        try:
            pat = re.compile(r["en"])
        except re.error as exc:
            raise BaseRulesError(f"{where}: bad regular expression 'en': {exc}") from exc
        template = r[lang]
        kinds = dict(r.get("kinds", {}))
        fields = {f for _, f, _, _ in string.Formatter().parse(template) if f is not None}
        groups = set(pat.groupindex)
        if fields - groups:
            raise BaseRulesError(
                f"{where}: field(s) {sorted(fields - groups)} are not groups of 'en'"
            )
        if set(kinds) - groups:
            raise BaseRulesError(
                f"{where}: kinds for unknown group(s) {sorted(set(kinds) - groups)}"
            )
        bad = {k: v for k, v in kinds.items() if v not in KINDS}
        if bad:
            raise BaseRulesError(f"{where}: unknown kind(s) {bad} (choose from {sorted(KINDS)})")
        rules.append(BaseRule(pat, template, kinds, i))
    return BaseRules(tuple(rules), dict(data.get("terms", {})))


def _number(text: str, lang: str) -> str | None:
    """An English-written number ("1860", "90,000", "769.0") in ``lang``'s form."""
    if not re.fullmatch(r"\d{1,3}(?:,\d{3})+(?:\.\d+)?|\d+(?:\.\d+)?", text):
        return None
    decimals = len(text.split(".", 1)[1]) if "." in text else 0
    return fmt_number(float(text.replace(",", "")), lang, decimals)


@dataclass
class BaseTranslator:
    """Translates base texts into ``lang`` with ``labels`` (the ``labels.<lang>.toml``
    tables) and ``schools`` (id -> name, from ``ResultSet.study["schools"]``).

    :meth:`text` always returns something to show; :attr:`untranslated` collects the English
    texts it had to show as they are."""

    lang: str
    labels: Mapping[str, Mapping[str, str]]
    schools: Mapping[str, str]
    untranslated: list[str] = field(default_factory=list)

    def __post_init__(self) -> None:
        self._ids: re.Pattern[str] | None | bool = None  # built on first use
        self._names: dict[str, str] = {}
        self._rules = load_base_rules(self.lang)
        self._quote = ("«\u00a0", "\u00a0»") if self.lang == "fr" else ("“", "”")

    def translate(self, base: str, _depth: int = 0) -> str | None:
        """``base`` in the target language, or ``None`` when no rule translates it."""
        if self.lang == "en" or not base:
            return base
        if _depth > _MAX_DEPTH:
            return None
        for rule in self._rules.rules:
            m = rule.pattern.fullmatch(base)
            if not m:
                continue
            values: dict[str, str] = {}
            for name, value in m.groupdict().items():
                shown = self._field(value or "", rule.kinds.get(name, "text"), _depth)
                if shown is None:
                    break
                values[name] = shown
            else:
                return rule.template.format(**values)
        return None

    def text(self, base: str) -> str:
        """What the report shows: the translation, else the English text (recorded); either
        way with variable and school ids shown by their labels (never ``intends_abroad``)."""
        out = self.translate(base)
        if out is None:
            if base not in self.untranslated:
                self.untranslated.append(base)
            out = base
        return self.labelled(out)

    def labelled(self, text: str) -> str:
        """``text`` with each whole-word variable id (quoted label) and school id (name)
        replaced; file names such as ``school_mobility_imt_nord_europe.csv`` are left alone
        (an id inside a longer word is not a whole word)."""
        if self._ids is None:
            names = {v: f"{self._quote[0]}{lab}{self._quote[1]}" for v, lab in
                     self.labels.get("variables", {}).items()}  # fmt: skip
            names.update({k: str(v) for k, v in self.schools.items() if "_" in k})
            ids = sorted((k for k in names if "_" in k), key=len, reverse=True)
            self._names = names
            self._ids = (
                re.compile(r"(?<![\w.])(" + "|".join(map(re.escape, ids)) + r")(?![\w.])")
                if ids
                else False
            )
        if not self._ids:
            return text
        return self._ids.sub(lambda m: self._names[m.group(1)], text)

    def _var(self, v: str) -> str | None:
        return self.labels.get("variables", {}).get(v) or self.labels.get("dims", {}).get(v)

    def _field(self, value: str, kind: str, depth: int) -> str | None:
        if kind == "text":
            return value
        if kind == "num":
            return _number(value, self.lang)
        if kind == "var":
            return self._var(value)
        if kind == "vars":
            names = [self._var(v.strip()) for v in value.split(",")]
            if not names or any(n is None for n in names):
                return None
            q = [f"{self._quote[0]}{n}{self._quote[1]}" for n in names]
            last = " et " if self.lang == "fr" else " and "
            return q[0] if len(q) == 1 else ", ".join(q[:-1]) + last + q[-1]
        if kind == "school":
            name = self.schools.get(value)
            return str(name) if name else None
        if kind == "term":
            return self._rules.terms.get(value) or self.labels.get("levels", {}).get(value)
        if kind == "base":
            return self.translate(value, depth + 1)
        raise ValueError(f"unknown kind {kind!r}")


def untranslated_bases(
    bases: Iterable[str],
    lang: str,
    labels: Mapping[str, Mapping[str, str]],
    schools: Mapping[str, str],
) -> list[str]:
    """The distinct non-empty texts among ``bases`` that no rule of ``lang`` translates."""
    tr = BaseTranslator(lang, labels, schools)
    return sorted({b for b in bases if b and tr.translate(b) is None})
