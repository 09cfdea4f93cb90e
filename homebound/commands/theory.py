"""``homebound theory``: the generalisation bounds as a table (text, LaTeX or JSON)."""
from __future__ import annotations

NAME = "theory"


def add_parser(sub) -> None:
    theory = sub.add_parser(NAME, help="the generalisation bounds as a table")
    fmt = theory.add_mutually_exclusive_group()
    fmt.add_argument("--latex", action="store_true", help="LaTeX tabular")
    fmt.add_argument("--json", action="store_true", help="JSON")


def run(args) -> int:
    from theory.table import render

    print(render("latex" if args.latex else "json" if args.json else "text"))
    return 0
