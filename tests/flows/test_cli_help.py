"""The CLI teaches: every option has a help text, each command shows an example, --version."""

from __future__ import annotations

import argparse
from importlib.metadata import version

import pytest

from flows import cli


def _subparsers(parser: argparse.ArgumentParser) -> dict[str, argparse.ArgumentParser]:
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            return dict(action.choices)
    return {}


def test_every_option_of_every_command_has_a_help_text():
    commands = _subparsers(cli._parser())
    assert {"run", "inspect", "schedule", "config"} <= set(commands)
    todo = list(commands.items())
    while todo:
        name, sub = todo.pop()
        for action in sub._actions:
            if isinstance(action, argparse._SubParsersAction):
                todo.extend((f"{name} {k}", v) for k, v in action.choices.items())
                continue
            if isinstance(action, argparse._HelpAction):
                continue
            assert action.help and len(action.help) > 10, (name, action.dest)


def test_every_command_shows_an_example(capsys):
    for name in _subparsers(cli._parser()):
        with pytest.raises(SystemExit) as exc:
            cli.main([name, "--help"])
        assert exc.value.code == 0
        out = capsys.readouterr().out
        assert "example" in out and f"mobility-study {name}" in out, name


def test_version_is_the_installed_distribution(capsys):
    with pytest.raises(SystemExit) as exc:
        cli.main(["--version"])
    assert exc.value.code == 0
    assert capsys.readouterr().out.strip() == f"mobility-study {version('mobility-study')}"
