"""One module per ``homebound`` sub-command, each with ``add_parser(subparsers)`` and
``run(args) -> int``. The order here is the order of ``homebound --help``."""
from . import presets, stability, theory, train, verify

COMMANDS = (train, presets, theory, stability, verify)
