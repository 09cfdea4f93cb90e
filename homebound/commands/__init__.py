"""One module per ``homebound`` sub-command, each with ``add_parser(subparsers)`` and
``run(args) -> int``. The order here is the order of ``homebound --help``."""
from . import presets, sweep, theory, train

COMMANDS = (train, sweep, presets, theory)
