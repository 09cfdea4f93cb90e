"""Arguments several sub-commands share: a config (preset or TOML) with ``--set`` overrides."""
from __future__ import annotations

from simulate.presets import PRESETS


def add_config_arguments(parser, default: str | None = "default") -> None:
    """The positional ``config`` and the repeatable ``--set KEY=VALUE``."""
    parser.add_argument("config", nargs="?" if default else None, default=default,
                        help=f"preset ({', '.join(PRESETS)}) or TOML file"
                             + (f" (default: {default})" if default else ""))
    parser.add_argument("--set", dest="overrides", action="append", default=[], metavar="KEY=VALUE",
                        help="override one value, e.g. --set optimizer.lr=1e-3 (repeatable)")
