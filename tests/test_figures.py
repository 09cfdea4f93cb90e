"""Every figure builds in --quick mode from a tiny experiment, writes a non-empty PNG and PDF
and its data file, and draws exactly the stored data (the artists' data are compared with the
netCDF files: the figure's own data file and the sweep store it was extracted from)."""
from __future__ import annotations

import json

import numpy as np
import pytest
import xarray as xr
from matplotlib.collections import QuadMesh

from bounds.store import load
from figures import registry, style
from figures.phase import fit_boundary
from simulate.fields import ConfigError

TINY = {"data.n": 8, "data.n_test": 20, "data.d": 20, "model.m": 2}
SPARSE = {**TINY, "data.s": 3}


def _set(table: dict) -> str:
    return "\n".join(f'"{k}" = {json.dumps(v)}' for k, v in table.items())


EXPERIMENTS = {
    "tang2025": f"""
base = "tang2025"
seeds = 2
[set]
{_set({**SPARSE, "train.epochs": 3})}
[[zip]]
"optimizer.name" = ["adam", "adamw"]
"optimizer.weight_decay" = [1e-5, 0.01]
[[zip]]
"train.batch_size" = [8, 2]
"train.log_every" = [1, 4]
[quick]
[quick.set]
"train.epochs" = 2
""",
    "tang2025-batch": f"""
base = "tang2025"
seeds = 2
[set]
{_set({**SPARSE, "train.epochs": 2})}
[[zip]]
"optimizer.name" = ["adam", "adamw", "signsgd", "sgd"]
"optimizer.lr" = [5e-5, 5e-5, 5e-5, 0.1]
"train.l2" = [1e-5, 0.0, 0.0, 0.0]
[grid]
"train.batch_size" = [2, 4, 8]
[quick]
seeds = 1
""",
    "tang2025-decay": f"""
base = "tang2025"
seeds = 1
[set]
{_set({**SPARSE, "train.epochs": 2, "train.batch_size": 4})}
[grid]
"optimizer.name" = ["adam", "adamw"]
"optimizer.weight_decay" = [1e-4, 1e-2, 1.0]
[quick]
seeds = 2
""",
    "zou2023": f"""
base = "zou2023"
seeds = 2
[set]
{_set(SPARSE)}
[[zip]]
"optimizer.name" = ["sgd", "adam"]
"optimizer.lr" = [0.1, 1e-3]
[[zip]]
"model.activation" = ["relu", "linear"]
"model.q" = [3.0, 1.0]
"train.l2" = [0.0, 0.01]
"train.steps" = [6, 10]
[quick]
seeds = 1
""",
    "kou2023-heatmap": f"""
base = "kou2023"
seeds = 2
[set]
{_set({"data.n": 8, "data.n_test": 20, "model.m": 2, "train.steps": 4, "train.log_every": 4})}
[grid]
"data.mu_norm" = [0.0, 2.0, 5.0]
"data.d" = [20, 30]
[quick]
[quick.grid]
"data.mu_norm" = [0.0, 5.0]
""",
    "cao2022-phase": f"""
base = "cao2022"
seeds = 1
[set]
{_set({"data.d": 20, "data.n_test": 20, "model.m": 2, "model.q": 3.0, "train.steps": 4,
       "train.log_every": 4})}
[grid]
"data.n" = [6, 8]
"data.mu_norm" = [0.5, 2.0, 4.0]
""",
    "stability-scaling": """
[experiments.scaling]
config = "default"
set = ["train.batch_size=1", "train.steps=6", "train.log_every=6", "data.n_test=20",
       "data.d=20", "data.s=3", "model.m=2"]
optimizers = ["sgd:lr=0.1", "momentum:lr=0.1", "adam:lr=1e-3", "adam_srf:lr=1e-4", "homeadam:lr=1e-4"]
n = [8, 16, 32]
pairs = 4
[quick.experiments.scaling]
n = [8, 16]
pairs = 3
""",
    "homeadam-rules": f"""
base = "default"
seeds = 2
measure = ["final_gradient_norm"]
[set]
{_set({**SPARSE, "optimizer.name": "homeadam", "optimizer.lr": 1e-3, "optimizer.tau": 1e-6})}
[grid]
"optimizer.rule" = ["global", "elementwise"]
"data.kind" = ["dense", "sparse"]
"train.steps" = [4, 8]
""",
    "homeadam-baselines": f"""
base = "default"
seeds = 2
measure = ["final_gradient_norm"]
[set]
{_set({**SPARSE, "optimizer.lr": 1e-3})}
[grid]
"optimizer.name" = ["adam_srf", "adam"]
"data.kind" = ["dense", "sparse"]
"train.steps" = [4, 8]
""",
    "dualadam": f"""
base = "default"
seeds = 2
[set]
{_set({**SPARSE, "train.steps": 120, "train.log_every": 2})}
[grid]
"optimizer.name" = ["invadam", "dualadam", "adam"]
""",
}


@pytest.fixture(scope="module")
def built(tmp_path_factory):
    """Every figure built once, in quick mode, from the tiny experiments above."""
    root = tmp_path_factory.mktemp("figures")
    sources = {}
    for name, text in EXPERIMENTS.items():
        sources[name] = root / f"{name}.toml"
        sources[name].write_text(text)
    out = root / "figs"
    outcomes = {name: registry.build(name, out, "quick", sources=sources)
                for name in registry.FIGURES}
    return out, outcomes


def _draw(out, name):
    data = load(out / f"{name}.nc")
    with style.styled():
        fig = registry.get(name).draw(data)
    return data, fig


def _mean_lines(ax):
    return [line.get_ydata() for line in ax.get_lines() if line.get_gid() == "mean"]


def _store(out, experiment):
    return load(out / "runs" / f"{experiment}-quick" / "sweep.nc")


@pytest.mark.parametrize("name", list(registry.FIGURES))
def test_builds_png_pdf_and_data(built, name):
    out, outcomes = built
    paths = outcomes[name]["paths"]
    assert paths["png"].read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert paths["pdf"].read_bytes()[:5] == b"%PDF-"
    assert paths["png"].stat().st_size > 5_000 and paths["pdf"].stat().st_size > 5_000
    data = load(paths["nc"])
    assert data.attrs["variant"] == "quick" and data.attrs["figure"] == name


def test_table_bars_are_the_stored_finals(built):
    out, _ = built
    data, fig = _draw(out, "tang2025-table")
    stored = _store(out, "tang2025")
    ax = fig.axes[0]
    bars = {patch.get_gid(): patch.get_height() for patch in ax.patches}
    seeds = {line.get_gid(): line.get_ydata() for line in ax.get_lines()}
    for opt in ("adam", "adamw"):
        for batch in (8, 2):
            values = stored.final_test_error.sel({"optimizer.name": opt, "train.batch_size": batch})
            assert bars[f"bar:{opt}:{batch}"] == pytest.approx(float(values.mean()), abs=1e-12)
            np.testing.assert_array_equal(seeds[f"seeds:{opt}:{batch}"], values.values)
    # the quick table laid its epochs over the file's: 2 epochs of 8 samples at B = 2
    assert int(stored.steps_done.sel({"train.batch_size": 2}).max()) == 2 * 4


def test_dynamics_lines_are_the_stored_trajectories(built):
    out, _ = built
    data, fig = _draw(out, "tang2025-dynamics")
    stored = _store(out, "tang2025")
    ax = fig.axes[0]  # Adam, B = 8 (the first batch size of the file)
    cell = stored.sel({"optimizer.name": "adam", "train.batch_size": 8})
    expected = [cell[v].mean("seed").values for v in ("feature_pos", "feature_neg", "noise_mean")]
    for line, values in zip(_mean_lines(ax), expected, strict=True):
        np.testing.assert_allclose(line, values, rtol=0, atol=1e-15)


@pytest.mark.parametrize("name,experiment,axis", [
    ("tang2025-batch", "tang2025-batch", "train.batch_size"),
    ("tang2025-decay", "tang2025-decay", "optimizer.weight_decay")])
def test_curves_are_the_stored_finals(built, name, experiment, axis):
    out, _ = built
    data, fig = _draw(out, name)
    stored = _store(out, experiment)
    ax = fig.axes[0]
    lines = [line for line in ax.get_lines() if line.get_gid() == "mean"]
    assert len(lines) == stored["optimizer.name"].size
    for line, opt in zip(lines, stored["optimizer.name"].values):
        np.testing.assert_array_equal(line.get_xdata(), stored[axis].values)
        np.testing.assert_allclose(line.get_ydata(), stored.final_test_error.sel(
            {"optimizer.name": opt}).mean("seed").values, rtol=0, atol=1e-15)


def test_zou_lines_are_the_stored_trajectories(built):
    out, _ = built
    data, fig = _draw(out, "zou2023")
    stored = _store(out, "zou2023")
    relu = stored.sel({"model.activation": "relu"})
    lines = _mean_lines(fig.axes[0])
    for line, opt in zip(lines, ("sgd", "adam"), strict=True):
        np.testing.assert_allclose(line, relu.test_error.sel({"optimizer.name": opt}).mean("seed"),
                                   rtol=0, atol=1e-15)


@pytest.mark.parametrize("name,experiment,rows", [
    ("kou2023-heatmap", "kou2023-heatmap", ("data.mu_norm", "data.d")),
    ("cao2022-phase", "cao2022-phase", ("data.mu_norm", "data.n"))])
def test_heatmap_is_the_stored_mean(built, name, experiment, rows):
    out, _ = built
    data, fig = _draw(out, name)
    stored = _store(out, experiment)
    mesh = next(c for c in fig.axes[0].collections if isinstance(c, QuadMesh))
    expected = stored.final_test_error.mean("seed").transpose(*rows).values
    np.testing.assert_allclose(np.asarray(mesh.get_array()).reshape(expected.shape), expected,
                               rtol=0, atol=1e-15)
    boundary = next(line for line in fig.axes[0].get_lines() if line.get_gid() == "boundary")
    assert np.all(np.isfinite(boundary.get_ydata())) == np.isfinite(data.attrs["C"])


def test_stability_points_are_the_fitted_means(built):
    out, _ = built
    data, fig = _draw(out, "stability-scaling")
    stored = load(out / "runs" / "stability-scaling-quick" / "scaling.nc")
    delta = stored.delta.isel(step=-1)
    for container in fig.axes[0].containers:
        label = container.get_label().split(":")[0] if ":" in container.get_label() else None
        name = container.lines[0].get_gid().removeprefix("data:")
        kept = ~stored.diverged.sel(optimizer=name)
        means = [float(delta.sel(optimizer=name, n=n).values[kept.sel(n=n).values].mean())
                 for n in stored.n.values]
        np.testing.assert_allclose(container.lines[0].get_ydata(), means, rtol=1e-12)
        assert label is None or label.startswith(name.split(":")[0])
    assert set(data.optimizer.values) == set(stored.optimizer.values)


def test_homeadam_curves_are_the_stored_diagnostics(built):
    out, _ = built
    data, fig = _draw(out, "homeadam-diagnostics")
    rules = _store(out, "homeadam-rules")
    longest = rules.sel({"train.steps": 8, "data.kind": "dense", "optimizer.rule": "global"})
    first = _mean_lines(fig.axes[0])[0]
    np.testing.assert_allclose(first, longest.diag_rho_hat.mean("seed").values[1:], rtol=0,
                               atol=1e-20)
    norms = _mean_lines(fig.axes[2])[0]
    measured = rules.final_gradient_norm if "final_gradient_norm" in rules else None
    assert measured is None  # the sweep file itself never holds the extra measure
    table = load(out / "runs" / "homeadam-rules-quick" / "final_gradient_norm.nc")
    keys = rules.run_key.sel({"data.kind": "dense", "optimizer.rule": "global"})
    expected = [np.mean([float(table.final_gradient_norm.sel(run=str(k))) for k in row])
                for row in keys.transpose("train.steps", "seed").values]
    np.testing.assert_allclose(norms, expected, rtol=1e-12)
    assert np.all(np.asarray(norms) > 0)


def test_dualadam_alpha_follows_the_schedule(built):
    out, _ = built
    data, fig = _draw(out, "dualadam")
    stored = _store(out, "dualadam")
    alpha = _mean_lines(fig.axes[0])[0]
    np.testing.assert_array_equal(alpha, stored.diag_alpha.sel({"optimizer.name": "dualadam"})
                                  .mean("seed").values[1:])
    # window means of α_t = max(0, 1 − 0.01 t) (the default ξ) over t in (s−2, s]:
    # 1 − 0.01·(s − 0.5) up to s = 100, then 0
    steps = stored.step.values[1:]
    np.testing.assert_allclose(alpha, np.maximum(0.0, 1 - 0.01 * (steps - 0.5)), atol=1e-12)


def test_redraw_needs_no_runs(built, tmp_path):
    out, _ = built
    copy = tmp_path / "figs"
    copy.mkdir()
    (copy / "zou2023.nc").write_bytes((out / "zou2023.nc").read_bytes())
    paths = registry.redraw("zou2023", copy)["paths"]
    assert paths["png"].stat().st_size > 5_000 and not (copy / "runs").exists()
    xr.testing.assert_identical(load(copy / "zou2023.nc"), load(out / "zou2023.nc"))


def test_boundary_fit_finds_a_clean_threshold():
    score = np.array([0.0, 0.5, 1.0, 2.0, 4.0, 8.0])
    harmful = score < 1.5
    C, wrong = fit_boundary(score, harmful)
    assert 1.0 < C < 2.0 and wrong == 0.0
    C, wrong = fit_boundary(score, np.array([True, True, False, True, False, False]))
    assert wrong == pytest.approx(1 / 6)


def test_a_second_build_runs_nothing(built, monkeypatch):
    """The sweep store, the stability files and the gradient-norm table are reused: with
    training made impossible, every figure builds again from what is stored."""
    out, _ = built
    sources = {name: out.parent / f"{name}.toml" for name in EXPERIMENTS}

    def refuse(*args, **kwargs):
        raise AssertionError("a stored result was recomputed")

    import bounds.convergence
    import bounds.stability
    import bounds.sweep.tasks

    monkeypatch.setattr(bounds.sweep.tasks, "train_many", refuse)
    monkeypatch.setattr(bounds.stability, "execute", refuse)
    monkeypatch.setattr(bounds.convergence, "train_many", refuse)
    before = load(out / "zou2023.nc")
    for name in registry.FIGURES:
        registry.build(name, out, "quick", sources=sources)
    xr.testing.assert_identical(load(out / "zou2023.nc"), before)


def test_stored_only_draws_what_is_there(built, tmp_path):
    out, _ = built
    sources = {name: out.parent / f"{name}.toml" for name in EXPERIMENTS}
    same = registry.build("tang2025-table", out, "quick", sources=sources, stored_only=True)
    assert load(same["paths"]["nc"]).attrs["runs_missing"] == 0
    empty = registry.build("tang2025-table", tmp_path, "quick", sources=sources, stored_only=True)
    data = load(empty["paths"]["nc"])
    assert data.attrs["runs_missing"] == data.final_test_error.size == 8
    assert not any((tmp_path / "runs" / "tang2025-quick").glob("runs/*.nc"))
    with pytest.raises(ConfigError, match="--stored-only"):
        registry.build("stability-scaling", tmp_path, "quick", sources=sources, stored_only=True)
