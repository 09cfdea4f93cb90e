"""One module per ``homebound`` sub-command, each with ``add_parser(subparsers)`` and
``run(args) -> int``. The order here is the order of ``homebound --help``."""
from . import figures, plot, presets, stability, sweep, theory, train, verify

COMMANDS = (train, sweep, presets, theory, stability, verify, figures, plot)
