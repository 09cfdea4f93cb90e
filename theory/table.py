"""The SPEC §7 bound table, rendered from the catalogue (``theory.bounds.BOUNDS``).

``render(fmt)`` -- the single entry point -- returns the table as a string, one row per
catalogue record with: algorithm(s), generalisation bound (as the paper states it),
exact rate in ``N`` (``theory.rates.rate_exponent``), convergence (or "--") and source.

* ``"text"``: aligned plain text, expressions by ``sympy.sstr``;
* ``"latex"``: a complete booktabs ``tabular`` (needs ``\\usepackage{booktabs}``),
  expressions by ``sympy.latex``;
* ``"json"``: a JSON list of row objects (expressions as ``str``, the rate as an exact
  fraction string such as ``"-1/2"``, a missing convergence as ``null``).
"""

import functools
import json
import re

import sympy

from .bounds import BOUNDS
from .rates import rate_exponent
from .symbols import N, rho_breve, rho_hat

FORMATS = ("text", "latex", "json")
HEADER = ("Algorithm(s)", "Generalisation bound", "Rate in N", "Convergence", "Source")
_LATEX_SPECIAL = {c: "\\" + c for c in "&%$#_{}"}
_LATEX_SYMBOLS = {rho_hat: r"\hat{\rho}", rho_breve: r"\breve{\rho}"}


@functools.cache
def _rate_in_n(record_name: str) -> sympy.Expr:
    record = next(r for r in BOUNDS if r.name == record_name)
    return rate_exponent(record.bound(), N)


def _algorithms(record) -> str:
    return f"{record.label} ({', '.join(record.algorithms)})"


def _text() -> str:
    rows = [HEADER] + [
        (
            _algorithms(r),
            sympy.sstr(r.expression),
            sympy.sstr(_rate_in_n(r.name)),
            "–" if r.convergence is None else sympy.sstr(r.convergence),
            r.source,
        )
        for r in BOUNDS
    ]
    widths = [max(len(row[i]) for row in rows) for i in range(len(HEADER))]
    lines = [" | ".join(cell.ljust(w) for cell, w in zip(row, widths)).rstrip() for row in rows]
    lines.insert(1, "-+-".join("-" * w for w in widths))
    return "\n".join(lines)


def _latex_text(text: str) -> str:
    escaped = "".join(_LATEX_SPECIAL.get(ch, ch) for ch in text)
    return re.sub(r'"([^"]*)"', r"``\1''", escaped)


def _latex_name(symbol: sympy.Symbol):
    """LaTeX for symbols sympy renders poorly (``rho_hat``, ``C_srf_conv``, ...), else ``None``."""
    if symbol in _LATEX_SYMBOLS:
        return _LATEX_SYMBOLS[symbol]
    if symbol.name.startswith("C_"):
        return r"C_{\mathrm{" + symbol.name[2:].replace("_", ",") + "}}"
    return None


def _math(expr: sympy.Expr) -> str:
    names = {s: name for s in expr.free_symbols if (name := _latex_name(s))}
    return f"${sympy.latex(expr, symbol_names=names)}$"


def _latex() -> str:
    header = " & ".join(_latex_text(h).replace("in N", "in $N$") for h in HEADER)
    body = [
        " & ".join(
            (
                _latex_text(_algorithms(r)),
                _math(r.expression),
                _math(_rate_in_n(r.name)),
                "--" if r.convergence is None else _math(r.convergence),
                _latex_text(r.source),
            )
        )
        + r" \\"
        for r in BOUNDS
    ]
    return "\n".join(
        [
            r"% requires \usepackage{booktabs}",
            r"\begin{tabular}{lllll}",
            r"\toprule",
            header + r" \\",
            r"\midrule",
            *body,
            r"\bottomrule",
            r"\end{tabular}",
        ]
    )


def _json() -> str:
    rows = [
        {
            "name": r.name,
            "label": r.label,
            "algorithms": list(r.algorithms),
            "bound": str(r.expression),
            "rate_in_N": str(_rate_in_n(r.name)),
            "convergence": None if r.convergence is None else str(r.convergence),
            "source": r.source,
        }
        for r in BOUNDS
    ]
    return json.dumps(rows, indent=2, ensure_ascii=False)


_RENDERERS = {"text": _text, "latex": _latex, "json": _json}


def render(fmt: str = "text") -> str:
    """The bound table as a string in ``fmt`` (one of ``FORMATS``: text, latex, json)."""
    if fmt not in _RENDERERS:
        raise ValueError(f"unknown table format {fmt!r}; allowed: {', '.join(FORMATS)}")
    return _RENDERERS[fmt]()
