"""The figures' experiment files (full, quick and reduced settings), the reduction rules, and
the `homebound figures` / `homebound plot` command lines (bad input: one line, exit 2)."""
from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from bounds import stability
from bounds.store import load
from bounds.sweep import expand, parse_sweep
from figures import experiment as ex
from figures import registry
from figures.results import effective_tree
from figures.runplot import draw, open_result
from figures.style import styled
from homebound.cli import main
from simulate.fields import ConfigError

SHIPPED = sorted({name for f in registry.FIGURES.values()
                  for name in (f.experiment if isinstance(f.experiment, tuple) else (f.experiment,))})


def _sweep(tree, name):
    return parse_sweep(ex.sweep_text(tree), name, ex.shipped_path(name).parent)


@pytest.mark.parametrize("name", SHIPPED)
def test_shipped_experiments_resolve_and_validate(name):
    raw = ex.read(ex.shipped_path(name))
    sizes = {}
    for variant in (None, "quick", "reduced"):
        tree = effective_tree(name, ex.effective_variant(raw, variant))
        assert "quick" not in tree and "reduced" not in tree
        if ex.kind_of(tree) == ex.STABILITY:
            for table in tree["experiments"].values():
                plan = stability.design(table["config"], table["optimizers"], table["n"],
                                        table["pairs"], table["set"])
                sizes[variant] = plan.pairs * len(plan.n) * len(plan.entries)
            continue
        sweep = _sweep(tree, name)
        sizes[variant] = int(np.prod([len(a) for a in sweep.axes])) * (
            sweep.seeds if isinstance(sweep.seeds, int) else len(sweep.seeds))
        if variant == "quick" or sizes[variant] <= 2000:
            plan = expand(sweep)  # every point validated
            assert len(plan.runs) == sizes[variant]
    assert sizes["quick"] < sizes[None]
    assert sizes["reduced"] <= sizes[None]


def test_quick_rules_lay_set_replace_grid_and_seeds():
    tree = {"base": "default", "seeds": 5, "set": {"train.steps": 100, "data.n": 32},
            "grid": {"optimizer.name": ["adam", "sgd"], "train.batch_size": [2, 8]},
            "quick": {"seeds": 1, "set": {"train.steps": 10},
                      "grid": {"train.batch_size": [4]}}}
    quick = ex.resolve(tree, "quick")
    assert quick["seeds"] == 1
    assert quick["set"] == {"train.steps": 10, "data.n": 32}
    assert quick["grid"] == {"optimizer.name": ["adam", "sgd"], "train.batch_size": [4]}
    assert ex.resolve(tree, None) == {k: v for k, v in tree.items() if k != "quick"}
    assert ex.effective_variant(tree, "reduced") is None  # no [reduced]: the full size
    assert ex.effective_variant(tree, "quick") == "quick"


@pytest.mark.parametrize("quick,message", [
    ({"grid": {"data.d": [10]}}, r"\[quick\.grid\] data\.d: not an axis of \[grid\]"),
    ({"epochs": 3}, r"\[quick\] epochs: unknown key; allowed keys are seeds, set, grid, zip"),
])
def test_bad_reductions_name_the_key(quick, message):
    tree = {"base": "default", "grid": {"optimizer.name": ["adam"]}, "quick": quick}
    with pytest.raises(ConfigError, match=message):
        ex.resolve(tree, "quick")


def test_stability_reduction_replaces_keys():
    tree = {"experiments": {"a": {"config": "convex", "n": [8, 16, 32], "pairs": 8}},
            "quick": {"experiments": {"a": {"pairs": 2}}}}
    assert ex.resolve(tree, "quick")["experiments"]["a"] == {"config": "convex", "n": [8, 16, 32],
                                                             "pairs": 2}
    with pytest.raises(ConfigError, match=r"\[quick\.experiments\.b\]: no such experiment"):
        ex.resolve({**tree, "quick": {"experiments": {"b": {"pairs": 2}}}}, "quick")


def test_list_names_every_figure(capsys):
    assert main(["figures", "--list", "--json"]) == 0
    listed = json.loads(capsys.readouterr().out)
    assert [f["name"] for f in listed] == list(registry.FIGURES)
    assert all(f["paper"] and f["cost_quick"] and f["cost_full"] for f in listed)


@pytest.mark.parametrize("argv,message", [
    (["figures", "nosuch"], "figure 'nosuch': unknown; allowed: tang2025-table"),
    (["figures", "zou2023", "--gallery", "g"], "--gallery: only with --redraw"),
    (["figures", "zou2023", "--redraw", "--out", "{tmp}"], "--redraw: "),
    (["figures", "stability-scaling", "--set", "train.steps=5", "--out", "{tmp}"],
     "--set: experiment stability-scaling is a stability file"),
    (["plot", "{tmp}/missing.nc"], "plot "),
])
def test_bad_input_is_one_line_and_exit_2(capsys, tmp_path, argv, message):
    argv = [a.replace("{tmp}", str(tmp_path)) for a in argv]
    assert main(argv) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and message in err


def test_bad_set_value_creates_no_store(capsys, tmp_path):
    out = tmp_path / "figs"
    assert main(["figures", "zou2023", "--quick", "--set", "data.n=-3", "--out", str(out)]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "data.n = -3: must be an integer ≥ 2" in err
    assert not (out / "runs").exists()


@pytest.mark.parametrize("source,message", [
    ("missing", "not a directory"),
    ("empty", "holds no figure data file"),
])
def test_report_from_a_wrong_directory_keeps_the_record(capsys, tmp_path, source, message):
    (tmp_path / "empty").mkdir()
    record = tmp_path / "REPRODUCTIONS.md"
    record.write_text("the previous record")
    argv = ["figures", "--report", str(record), "--from", str(tmp_path / source)]
    assert main(argv) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and f"--from {tmp_path / source}: {message}" in err
    assert record.read_text() == "the previous record"


def test_plot_draws_the_stored_run(tmp_path, capsys):
    out = tmp_path / "results"
    assert main(["train", "default", "--set", "train.steps=20", "--set", "data.n_test=20",
                 "--seeds", "2", "--out", str(out)]) == 0
    path = out / "default.nc"
    assert main(["plot", str(path)]) == 0
    image = path.with_suffix(".png")
    assert image.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n" and image.stat().st_size > 5_000
    stored = load(path)
    with styled():
        fig = draw(open_result(path), "x")
    lines = {line.get_gid(): line for ax in fig.axes for line in ax.get_lines()}
    for seed_index in range(2):
        line = lines[f"test_error:{seed_index}"]
        np.testing.assert_array_equal(line.get_xdata(), stored.step.values)
        np.testing.assert_array_equal(line.get_ydata(), stored.test_error.isel(seed=seed_index))


def test_plot_refuses_a_file_without_trajectories(tmp_path, capsys):
    path = Path(tmp_path) / "x.nc"
    import xarray as xr

    xr.Dataset({"a": ("x", [1.0])}).to_netcdf(path)
    assert main(["plot", str(path)]) == 2
    assert "no trajectories" in capsys.readouterr().err
