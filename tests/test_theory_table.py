"""theory.table.render: the bound table in text, LaTeX and JSON."""

import json

import pytest
import sympy

from theory import BOUNDS, table


def test_text_has_one_row_per_record():
    lines = table.render("text").splitlines()
    assert len(lines) == len(BOUNDS) + 2  # header, rule, rows
    for record, line in zip(BOUNDS, lines[2:]):
        assert line.startswith(record.label)
        assert record.source in line
    assert "C_adam/sqrt(N)" in lines[2 + [r.name for r in BOUNDS].index("adam")]


def test_json_round_trips_with_the_same_rows():
    rows = json.loads(table.render("json"))
    assert [row["name"] for row in rows] == [r.name for r in BOUNDS]
    by_name = {row["name"]: row for row in rows}
    assert by_name["adam"]["rate_in_N"] == "-1/2"
    assert by_name["homeadam"]["rate_in_N"] == "-1"
    assert by_name["sgd_convex"]["convergence"] is None
    assert by_name["adam_srf"]["algorithms"] == ["adam_srf", "adamw_srf"]
    for record in BOUNDS:
        assert str(record.expression) == by_name[record.name]["bound"]
    convergence = sympy.sympify(by_name["homeadam"]["convergence"])
    assert convergence == sympy.sympify("C_home_conv/T**(1/4)")


def test_latex_is_a_complete_tabular():
    latex = table.render("latex")
    assert r"\begin{tabular}" in latex and latex.rstrip().endswith(r"\end{tabular}")
    assert latex.index(r"\toprule") < latex.index(r"\midrule") < latex.index(r"\bottomrule")
    rows = [line for line in latex.splitlines() if line.endswith(r"\\")]
    assert len(rows) == len(BOUNDS) + 1  # header + one per record
    assert all(row.count(" & ") == 4 for row in rows)
    assert r"adam\_srf" in latex and r"Recht \& Singer" in latex
    assert r"\hat{\rho}" in latex and r"- \frac{1}{2}" in latex


def test_unknown_format_raises():
    with pytest.raises(ValueError, match="text, latex, json"):
        table.render("html")
