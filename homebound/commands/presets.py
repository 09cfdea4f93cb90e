"""``homebound presets``: the built-in presets, one line each."""
from __future__ import annotations

from simulate.loading import preset_lines

NAME = "presets"


def add_parser(sub) -> None:
    sub.add_parser(NAME, help="list the built-in presets")


def run(args) -> int:
    print("\n".join(preset_lines()))
    return 0
