"""Errors raised while reading survey exports and codebooks.

Both carry a one-line message that names the file (and the line, row or column when known),
so the CLI can print it as is.
"""

from __future__ import annotations


class InputError(ValueError):
    """An input file cannot be read as a survey export (empty, binary, truncated, ...)."""


class CodebookError(ValueError):
    """The codebook is invalid; the message names the file and the line of the offending key."""
