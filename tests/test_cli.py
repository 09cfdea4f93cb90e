"""The ``homebound`` command line: JSON report, netCDF output and bad input (exit code 2)."""
import json
import subprocess
import sys

import pytest
import xarray as xr

SMALL = ["--set", "train.epochs=3", "--set", "data.n_test=50"]


def homebound(*args, cwd=None):
    return subprocess.run([sys.executable, "-m", "homebound", *args], capture_output=True,
                          text=True, cwd=cwd)


def test_train_json_report_shape():
    out = homebound("train", "default", *SMALL, "--seeds", "3", "--json")
    assert out.returncode == 0, out.stderr
    report = json.loads(out.stdout)
    assert set(report) == {"config", "runs", "summary", "warnings", "seconds"}
    assert [r["seed"] for r in report["runs"]] == [0, 1, 2]
    run = report["runs"][0]
    assert set(run) == {"seed", "final", "diverged", "diverged_at", "steps", "diagnostics"}
    assert set(run["diagnostics"]) == {"v_hat_min", "v_hat_max"}
    assert set(run["final"]) == {"train_loss", "train_error", "test_loss", "test_error", "gap",
                                 "feature_learning", "noise_memorization", "weight_norm"}
    assert len(run["final"]["feature_learning"]) == 2
    assert set(run["final"]["noise_memorization"]) == {"mean", "min", "max"}
    assert run["steps"] == 3 * 4 and run["diverged"] is False and run["diverged_at"] is None
    assert set(report["summary"]["test_error"]) == {"mean", "std"}
    assert report["config"]["train"]["epochs"] == 3 and "steps" not in report["config"]["train"]


def test_presets_lists_every_preset():
    out = homebound("presets")
    names = [line.split()[0] for line in out.stdout.splitlines()]
    assert names == ["default", "tang2025", "zou2023", "kou2023", "cao2022", "convex"]


def test_out_writes_netcdf_with_trajectory(tmp_path):
    toml = tmp_path / "exp.toml"
    toml.write_text('preset = "default"\nseed = 4\n[train]\nepochs = 2\n[data]\nn_test = 40\n')
    out = homebound("train", str(toml), "--set", "model.q=2", "--out", str(tmp_path / "res"),
                    "--seeds", "2", "--quiet")
    assert out.returncode == 0, out.stderr
    ds = xr.open_dataset(tmp_path / "res" / "exp.nc")
    assert list(ds.seed.values) == [4, 5]
    assert ds.test_error.dims == ("seed", "step")
    assert ds.noise_memorization.dims == ("seed", "step", "sample")
    assert json.loads(ds.attrs["config"])["model"]["q"] == 2.0
    assert [p.name for p in (tmp_path / "res").iterdir()] == ["exp.nc"]


BAD = [
    (["--set", "foo.bar=1"], "foo: unknown key"),
    (["--set", "data.zzz=1"], "data.zzz: unknown key"),
    (["--set", "data.n=ten"], "data.n = 'ten': must be an integer"),
    (["--set", "data.n=1"], "data.n = 1: must be an integer ≥ 2"),
    (["--set", "data.d=0"], "data.d = 0: must be an integer ≥ 1"),
    (["--set", "data.s=200"], "data.s = 200: must be an integer in [1, d−1]"),
    (["--set", "data.alpha=1.0"], "data.alpha = 1.0: must be in [0, 1)"),
    (["--set", "data.label_noise=0.5"], "data.label_noise = 0.5: must be in [0, 0.5)"),
    (["--set", "optimizer.lr=0"], "optimizer.lr = 0.0: must be a number > 0"),
    (["--set", "optimizer.lr=-1"], "optimizer.lr = -1.0: must be a number > 0"),
    (["--set", "optimizer.betas=[0.9, 1.0]"], "optimizer.betas = (0.9, 1.0): must be two numbers in [0, 1)"),
    (["--set", "train.batch_size=33"], "train.batch_size = 33: must be in [0, data.n]"),
    (["--set", "optimizer.name=adamax"], "optimizer.name = 'adamax': unknown optimiser; allowed: sgd"),
    (["--set", "optimizer.tau=1"], "optimizer.tau: unknown key"),
]


@pytest.mark.parametrize("args,message", BAD)
def test_bad_input_exits_2_with_one_line(tmp_path, args, message):
    out = homebound("train", "default", *args, "--out", str(tmp_path / "res"), "--json")
    assert out.returncode == 2
    lines = out.stderr.strip().splitlines()
    assert len(lines) == 1 and message in lines[0], out.stderr
    assert "Traceback" not in out.stderr and out.stdout == ""
    assert not (tmp_path / "res").exists()


def test_unknown_preset_and_toml_syntax_error(tmp_path):
    out = homebound("train", "nosuchpreset")
    assert out.returncode == 2 and "not a preset" in out.stderr and "default" in out.stderr
    broken = tmp_path / "broken.toml"
    broken.write_text("[data\nn = 3\n")
    out = homebound("train", str(broken))
    assert out.returncode == 2 and "TOML syntax error" in out.stderr
    assert len(out.stderr.strip().splitlines()) == 1


@pytest.mark.parametrize("flag,check", [
    ([], lambda out: "HomeAdam" in out and "Rate in N" in out),
    (["--latex"], lambda out: "\\begin{tabular}" in out and "\\end{tabular}" in out),
    (["--json"], lambda out: len(json.loads(out)) >= 6),
])
def test_theory_table(flag, check):
    out = homebound("theory", *flag)
    assert out.returncode == 0, out.stderr
    assert check(out.stdout)
