"""Which columns hold personal data (dropped at ingest) and which hold platform metadata."""

from __future__ import annotations

import re

from analysis.ingest.text import fold_key

# Compared after fold_key (lower case, no accents, punctuation -> space).
_PERSONAL_EXACT = {
    "ipaddress",
    "ip address",
    "ipaddr",
    "ip adresse",
    "adresse ip",
    "recipientlastname",
    "recipientfirstname",
    "recipientemail",
    "externalreference",
    "externaldatareference",
    "external data reference",
    "external reference",
    "locationlatitude",
    "locationlongitude",
    "locationaccuracy",
    "emailaddress",
    "email address",
    "email",
    "e mail",
    "adresse e mail",
    "adresse electronique",
    "courriel",
    "name",
    "first name",
    "last name",
    "firstname",
    "lastname",
    "nom",
    "prenom",
    "nom de famille",
    "token",
    "refurl",
    "referrer url",
    "url de reference",
    "responseid",
    "response id",
    "respondent id",
    "record id",
    "recordid",
    "id",
    "id de la reponse",
    "collector id",
    "phone",
    "telephone",
    "geolocalisation",
    "latitude",
    "longitude",
    "ipv4",
    "ipv6",
}
_PERSONAL_PATTERNS = [
    re.compile(p)
    for p in (
        r"\be ?mail\b",
        r"\bcourriel\b",
        r"^ip\b",
        r"\bip address",
        r"\blatitude\b",
        r"\blongitude\b",
        r"^recipient",
        r"^custom data \d+$",
        r"\b(first|last|full|sur) ?name\b",
        r"\bphone\b",
        r"\btelephone\b",
    )
]


def is_personal_column(column: str) -> bool:
    """True for a column that identifies or locates a person (IP, e-mail, names, tokens,
    external references, coordinates, referrer URL, the platform's respondent id)."""
    k = fold_key(column)
    return k in _PERSONAL_EXACT or any(p.search(k) for p in _PERSONAL_PATTERNS)


# Platform metadata roles -> candidate column ids (compared with fold_key), per format.
ROLES: dict[str, dict[str, tuple[str, ...]]] = {
    "qualtrics": {
        "response_id": ("responseid", "response id", "_recordid"),
        "status": ("status",),
        "finished": ("finished",),
        "duration": ("duration in seconds", "duration"),
        "start": ("startdate",),
        "end": ("enddate",),
        "email": ("recipientemail", "emailaddress"),
        "token": ("externalreference", "externaldatareference"),
    },
    "limesurvey": {
        "response_id": ("id", "response id", "id de la reponse"),
        "submitdate": ("submitdate", "date submitted", "date de soumission"),
        "duration": ("interviewtime", "total time", "temps total"),
        "start": ("startdate", "date started"),
        "token": ("token",),
        "email": ("email", "e mail"),
    },
    "google-forms": {
        "email": ("email address", "adresse e mail", "email", "e mail"),
    },
    "surveymonkey": {
        "response_id": ("respondent id",),
        "start": ("start date",),
        "end": ("end date",),
        "email": ("email address",),
    },
}


def find_roles(fmt: str, columns: tuple[str, ...]) -> dict[str, int]:
    """Column position of each metadata role present in the file."""
    folded = [fold_key(c) for c in columns]
    out: dict[str, int] = {}
    for role, names in ROLES.get(fmt, {}).items():
        for n in names:
            if n in folded:
                out[role] = folded.index(n)
                break
    return out
