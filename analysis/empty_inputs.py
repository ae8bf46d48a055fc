"""Survey files that gave no respondent: said in the report, and an error when none is left.

Works on the readers' manifests (``rows_read``, ``rows_kept``, ``filtered`` per rule,
``quarantined``), so the message names the file and the rule that removed its rows.

What a run does (docs/architecture.md, "Missing data, absent parts, empty files"):

* a file with no kept row next to files with respondents: its wave is listed only if another
  file of that wave has respondents, and a data-quality alert names the file and why;
* no respondent in any survey file and no mobility input: :class:`NoRespondentsError` (the CLI
  prints it on one line, exit status 2);
* no respondent in any survey file but mobility inputs: the study runs as a mobility-only
  study and the alert says that every survey file was empty.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from analysis.ingest.errors import InputError


class NoRespondentsError(InputError):
    """Every survey file is empty or every row was removed by a rule (names files and rules)."""


def why_empty(manifest: Mapping[str, Any]) -> str:
    """Why a survey file gave no respondent: no data rows, or the rules that removed them."""
    read = int(manifest.get("rows_read") or 0)
    if read == 0:
        return "no data rows (header only)"
    rules = [
        f"{rule} {n}"
        for rule, n in (manifest.get("filtered") or {}).items()
        if isinstance(n, int) and n
    ]
    q = int(manifest.get("quarantined") or 0)
    if q:
        reasons = manifest.get("quarantine_reasons") or {}
        detail = ", ".join(f"{r} {n}" for r, n in reasons.items()) if reasons else str(q)
        rules.append(f"quarantined {detail}")
    return f"all {read} rows removed ({'; '.join(rules) or 'no rule recorded'})"


def empty_files(manifests: Sequence[Mapping[str, Any]]) -> list[dict[str, Any]]:
    """The survey files that gave no respondent, each with its wave and the reason."""
    return [
        {"file": m.get("file"), "wave": m.get("wave"), "reason": why_empty(m)}
        for m in manifests
        if not int(m.get("rows_kept") or 0)
    ]


def waves_with_respondents(manifests: Sequence[Mapping[str, Any]]) -> list[str]:
    return sorted({str(m.get("wave")) for m in manifests if int(m.get("rows_kept") or 0)})


def no_respondents_message(manifests: Sequence[Mapping[str, Any]]) -> str:
    parts = [f"{e['file']}: {e['reason']}" for e in empty_files(manifests)]
    return "no respondent left in any survey file: " + "; ".join(parts)


def check_respondents(manifests: Sequence[Mapping[str, Any]], has_mobility: bool) -> bool:
    """``True`` when some survey file has respondents; ``False`` when none has but the study
    has mobility inputs (a mobility-only run); :class:`NoRespondentsError` otherwise."""
    if any(int(m.get("rows_kept") or 0) for m in manifests):
        return True
    if has_mobility:
        return False
    raise NoRespondentsError(no_respondents_message(manifests))


def empty_file_alerts(manifests: Sequence[Mapping[str, Any]]) -> list[dict[str, Any]]:
    """Data-quality alerts: one per empty survey file; one more when no file had respondents."""
    out = [
        {
            "code": "survey_file_empty",
            "params": {"file": e["file"], "wave": e["wave"], "reason": e["reason"]},
            "message": f"{e['file']} (wave {e['wave']}): no respondent: {e['reason']}",
            "count": None,
        }
        for e in empty_files(manifests)
    ]
    if manifests and not waves_with_respondents(manifests):
        out.append(
            {
                "code": "no_respondent",
                "params": {},
                "message": "no respondent in any survey file: the report has no survey sections",
                "count": None,
            }
        )
    return out
