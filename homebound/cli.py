"""``homebound`` command line. It only parses arguments and calls into the layers below
(one module per sub-command in ``homebound.commands``).

Bad input (unknown key, wrong type, out-of-range value, unknown preset or optimiser, TOML
syntax error, a bad flag value) prints one line on stderr and exits with code 2; nothing is
written.
"""
from __future__ import annotations

import argparse
import sys

from simulate.fields import ConfigError

from .commands import COMMANDS

EXIT_BAD_INPUT = 2


class _Parser(argparse.ArgumentParser):
    """argparse with usage errors as one line on stderr and exit code 2 (``--help`` shows the
    usage)."""

    def error(self, message):
        self.exit(EXIT_BAD_INPUT, f"{self.prog}: error: {message} (see {self.prog} --help)\n")


def _parser() -> argparse.ArgumentParser:
    parser = _Parser(prog="homebound", description=__doc__.splitlines()[0])
    sub = parser.add_subparsers(dest="command", required=True)
    for command in COMMANDS:
        command.add_parser(sub)
    return parser


def main(argv=None) -> int:
    args = _parser().parse_args(argv)
    command = next(c for c in COMMANDS if c.NAME == args.command)
    try:
        return command.run(args)
    except ConfigError as err:
        print(f"homebound: error: {err}", file=sys.stderr)
        return EXIT_BAD_INPUT
