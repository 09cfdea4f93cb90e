"""Sweeps (issue 10): the sweep file, expansion and validation, batching, the resumable store,
sweep.nc, status, and the same numbers whatever the batching, executor or interruption."""
import json
import os
import signal
import subprocess
import sys
import threading
import time

import numpy as np
import pytest
import xarray as xr

from bounds.store import load
from bounds.sweep import (RunStore, batches, expand, load_sweep, parse_sweep, run_key,
                          run_sweep)
from bounds.sweep.executors import Dask
from bounds.sweep.tasks import run_batch
from simulate.fields import ConfigError
from simulate.loading import load_config
from simulate.run import shape_key, train

TINY = {"data.n": 16, "data.n_test": 50, "data.d": 40, "data.s": 8, "model.m": 4}
TINY_SET = [f"{k}={v}" for k, v in TINY.items()]


def sweep_text(grid: str, steps="4000", seeds=2, extra_set="") -> str:
    sets = "\n".join(f'"{k}" = {v}' for k, v in TINY.items())
    length = f'"train.steps" = {steps}' if steps else ""
    return f'base = "default"\nseeds = {seeds}\n[set]\n{sets}\n{length}\n{extra_set}\n[grid]\n{grid}\n'


#: 3 optimisers × 2 batch sizes × 2 seeds = 12 runs of ~0.06 s, all on one log grid.
GRID12 = '"optimizer.name" = ["adam", "sgd", "homeadam"]\n"train.batch_size" = [4, 8]'


def cli(*args, timeout=180):
    """Run ``homebound`` in its own process group; kill the whole group if it overruns."""
    proc = subprocess.Popen([sys.executable, "-m", "homebound", *args], stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True, start_new_session=True)
    try:
        out, err = proc.communicate(timeout=timeout)
    except subprocess.TimeoutExpired:
        os.killpg(proc.pid, signal.SIGKILL)
        proc.communicate()
        raise
    return subprocess.CompletedProcess(proc.args, proc.returncode, out, err)


def sweep_json(*args, timeout=180):
    out = cli("sweep", *args, "--json", "--quiet", timeout=timeout)
    assert out.returncode == 0, out.stderr
    return json.loads(out.stdout)


@pytest.fixture(scope="module")
def grid12(tmp_path_factory):
    """The 12-run sweep file and its uninterrupted in-process result."""
    root = tmp_path_factory.mktemp("grid12")
    path = root / "grid.toml"
    path.write_text(sweep_text(GRID12))
    report = sweep_json(str(path), "--out", str(root / "reference"))
    assert (report["runs"], report["computed"], report["done"]) == (12, 12, 12)
    return path, xr.load_dataset(root / "reference" / "sweep.nc")


# ---- the sweep file and its expansion ---------------------------------------------------
def test_expansion_matches_train_set_overrides():
    sweep = parse_sweep(sweep_text(GRID12, seeds=2, extra_set='"seed" = 5'))
    plan = expand(sweep)
    assert plan.dims == ("optimizer.name", "train.batch_size", "seed")
    assert plan.shape == (3, 2, 2) and plan.seeds == (5, 6) and len(plan.runs) == 12
    run = next(r for r in plan.runs if r.index == (1, 1, 1))
    expected = load_config("default", [*TINY_SET, "train.steps=4000", "optimizer.name=sgd",
                                       "train.batch_size=8", "seed=6"])
    assert run.config == expected and run.key == run_key(expected)
    assert len({r.key for r in plan.runs}) == 12


def test_nested_tables_mean_the_same_as_dotted_keys():
    dotted = parse_sweep('[set]\n"train.steps" = 30\n[grid]\n"optimizer.name" = ["sgd", "adam"]\n')
    nested = parse_sweep('[set.train]\nsteps = 30\n[grid]\noptimizer.name = ["sgd", "adam"]\n')
    assert [r.key for r in expand(dotted).runs] == [r.key for r in expand(nested).runs]


def test_zip_axes_vary_together_and_keep_hyperparameters():
    text = sweep_text("", steps="30", seeds=1) + (
        '[[zip]]\n"optimizer.name" = ["sgd", "adam"]\n"optimizer.lr" = [0.5, 0.001]\n'
        '[[zip]]\n"optimizer.momentum" = [0.9]\n"train.batch_size" = [4]\n')
    with pytest.raises(ConfigError, match=r"grid point optimizer.name='adam', optimizer.lr=0.001, "
                                          r"optimizer.momentum=0.9.*optimizer.momentum: unknown key"):
        expand(parse_sweep(text))
    plan = expand(parse_sweep(text.replace('"optimizer.momentum" = [0.9]\n', "")))
    assert plan.dims == ("optimizer.name", "train.batch_size", "seed") and plan.shape == (2, 1, 1)
    sgd, adam = (r.config for r in plan.runs)
    assert (sgd.optimizer.name, sgd.optimizer.lr, adam.optimizer.name, adam.optimizer.lr) == \
        ("sgd", 0.5, "adam", 0.001)
    kept = expand(parse_sweep(sweep_text('"optimizer.name" = ["sgd"]\n"optimizer.momentum" = [0.9]',
                                         steps="30", seeds=1)))
    assert kept.runs[0].config.optimizer.hyper.momentum == 0.9   # name applied first


@pytest.mark.parametrize("text,message", [
    ('bogus = 1\n', "bogus: unknown key; allowed keys are base, seeds, set, grid, zip"),
    ('[grid]\n"train.batch_size" = 4\n', "[grid] train.batch_size = 4: must be a non-empty list"),
    ('[grid]\n"train.batch_size" = [4, 4]\n', "[grid] train.batch_size = [4, 4]: values repeat"),
    ('[grid]\n"a.b.c" = [1]\n', "[grid] a.b.c: not a config key"),
    ('[grid]\n"seed" = [1, 2]\n', "axis seed: the seed is not an axis key; set seeds = N"),
    ('seeds = 0\n', "seeds = 0: must be an integer ≥ 1"),
    ('[set]\n"train.steps" = 5\n[grid]\n"train.steps" = [1, 2]\n',
     "train.steps: given in both [set] and axis train.steps"),
    ('[[zip]]\n"optimizer.lr" = [0.1, 0.2]\n"train.l2" = [0.0]\n',
     "[[zip]] 1: lists must have equal lengths (optimizer.lr: 2, train.l2: 1)"),
    ('[grid]\n"train.steps" = [5]\n"train.epochs" = [2]\n',
     "grid point train.steps=5, train.epochs=2: train.steps = 5 is dropped by another key"),
    ('[grid]\n"optimizer.name" = ["adam", "sgd"]\n"train.batch_size" = [8, 64]\n',
     "grid point optimizer.name='adam', train.batch_size=64: train.batch_size = 64: must be in "
     "[0, data.n] = [0, 32]"),
    ('base = "nosuch"\n', "config = 'nosuch': not a preset"),
])
def test_bad_sweep_files_name_the_point_and_key(text, message):
    with pytest.raises(ConfigError) as caught:
        expand(parse_sweep(text))
    assert message in str(caught.value) and "\n" not in str(caught.value)


def test_bad_sweep_file_exits_2_with_one_line_and_writes_nothing(tmp_path):
    path = tmp_path / "bad.toml"
    path.write_text('[grid]\n"optimizer.name" = ["sgd", "adam"]\n"data.alpha" = [0.5, 1.5]\n')
    out = cli("sweep", str(path), "--out", str(tmp_path / "res"))
    assert out.returncode == 2 and out.stdout == ""
    lines = out.stderr.strip().splitlines()
    assert len(lines) == 1 and "grid point optimizer.name='sgd', data.alpha=1.5: data.alpha = 1.5: " \
                               "must be in [0, 1)" in lines[0], out.stderr
    assert not (tmp_path / "res").exists()
    good = tmp_path / "good.toml"
    good.write_text(sweep_text('"optimizer.name" = ["sgd"]', steps="10"))
    out = cli("sweep", str(good), "--out", str(path / "res"))
    assert out.returncode == 2 and len(out.stderr.strip().splitlines()) == 1
    assert f"--out {path / 'res'}: cannot write there" in out.stderr


def test_relative_base_toml_is_read_beside_the_sweep_file(tmp_path):
    (tmp_path / "configs").mkdir()
    (tmp_path / "configs" / "base.toml").write_text('preset = "default"\n[data]\nn = 20\n')
    (tmp_path / "s.toml").write_text('base = "configs/base.toml"\n')
    plan = expand(load_sweep(tmp_path / "s.toml"))
    assert plan.runs[0].config.data.n == 20


# ---- batching and reproducibility -------------------------------------------------------
def test_batches_group_by_shape_and_cover_every_run_once():
    plan = expand(parse_sweep(sweep_text(GRID12 + '\n"train.log_every" = [100, 1000]', steps="2000")))
    runs = plan.unique()
    tasks = batches(runs, max_runs=5)
    keys = [r["key"] for t in tasks for r in t["runs"]]
    assert sorted(keys) == sorted(runs) and len(keys) == 24
    for task in tasks:
        assert 1 <= len(task["runs"]) <= 5
        assert len({shape_key(runs[r["key"]]) for r in task["runs"]}) == 1
    assert sorted(len(t["runs"]) for t in tasks) == [4, 4, 4, 4, 4, 4]   # 12 per shape → 3 even tasks


def test_a_run_alone_equals_the_run_batched_with_others():
    plan = expand(parse_sweep(sweep_text(GRID12, steps="50")))
    runs = list(plan.unique().items())
    batched = run_batch({"runs": [{"key": k, "config": c.to_dict()} for k, c in runs[:5]]})
    for position in (0, 3):
        key, config = runs[position]
        alone = run_batch({"runs": [{"key": key, "config": config.to_dict()}]})["runs"][0]
        together = batched["runs"][position]
        direct = train(config)
        for name in ("steps", "metrics", "memorisation", "diagnostics", "params"):
            np.testing.assert_array_equal(alone[name], together[name])
            np.testing.assert_array_equal(alone[name], getattr(direct, name))


def test_sweep_nc_is_independent_of_batching(tmp_path, grid12):
    path, reference = grid12
    report = run_sweep(expand(load_sweep(path)), tmp_path / "one", max_runs=1)
    assert (report.tasks, report.computed) == (12, 12)
    xr.testing.assert_identical(xr.load_dataset(tmp_path / "one" / "sweep.nc"), reference)


# ---- the store, resuming, status -------------------------------------------------------
def test_sweep_nc_holds_every_run_exactly(grid12, config_keys):
    path, ds = grid12
    plan = expand(load_sweep(path))
    assert ds.test_error.dims == ("optimizer.name", "train.batch_size", "seed", "step")
    assert list(ds["optimizer.name"].values) == ["adam", "sgd", "homeadam"]
    assert list(ds["train.batch_size"].values) == [4, 8] and list(ds.seed.values) == [0, 1]
    run = next(r for r in plan.runs if r.index == (2, 0, 1))
    alone = train(run.config)
    cell = ds.sel({"optimizer.name": "homeadam", "train.batch_size": 4, "seed": 1})
    np.testing.assert_array_equal(cell.test_error.values, alone.metric("test_error"))
    np.testing.assert_array_equal(cell.scheduled_lr.values, alone.metric("lr"))
    np.testing.assert_array_equal(cell.diag_home_share.values, alone.diagnostics[:, 1])
    assert cell.final_train_loss.item() == alone.metric("train_loss")[-1]
    assert cell.run_key.item() == run.key and json.loads(cell.config.item()) == run.config.to_dict()
    assert np.isnan(ds.diag_home_share.sel({"optimizer.name": "sgd"})).all()
    for name, variable in ds.variables.items():     # CF-style attributes on every variable
        assert variable.attrs.get("long_name"), name
        numeric = variable.dtype.kind in "iuf" and "flag_values" not in variable.attrs
        assert ("units" in variable.attrs) == numeric, name
    assert not set(map(str, ds.data_vars)) & config_keys    # coordinates: seed, the axes
    np.testing.assert_array_equal(ds.epoch.sel({"train.batch_size": 8}).values,
                                  ds.step.values / 2)   # ⌈16/8⌉ = 2 steps per epoch
    assert set(np.unique(ds.status.values)) == {0}


def test_resume_after_sigkill_recomputes_only_the_missing_runs(tmp_path, grid12):
    path, reference = grid12
    out = tmp_path / "killed"
    proc = subprocess.Popen([sys.executable, "-m", "homebound", "sweep", str(path), "--out",
                             str(out), "--batch-runs", "1", "--quiet"],
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    deadline = time.monotonic() + 120
    try:
        while not list((out / "runs").glob("*.nc")) and time.monotonic() < deadline:
            time.sleep(0.005)
    finally:
        proc.send_signal(signal.SIGKILL)
        proc.wait()
    assert proc.returncode == -signal.SIGKILL
    stored = len(list((out / "runs").glob("*.nc")))
    assert 1 <= stored < 12 and not (out / "sweep.nc").exists()
    status = RunStore(out).status()
    assert status == {"runs": 12, "done": stored, "diverged": 0, "failed": 0, "missing": 12 - stored}
    resumed = sweep_json(str(path), "--out", str(out))
    assert (resumed["stored"], resumed["computed"]) == (stored, 12 - stored)
    assert [p for p in out.rglob("*") if p.name.endswith(".tmp")] == []
    umask = os.umask(0)
    os.umask(umask)
    for written in [out / "sweep.nc", out / "sweep.json", *(out / "runs").glob("*.nc")]:
        assert written.stat().st_mode & 0o777 == 0o666 & ~umask, written
    xr.testing.assert_identical(xr.load_dataset(out / "sweep.nc"), reference)
    again = run_sweep(expand(load_sweep(path)), out)
    assert (again.stored, again.computed, again.tasks) == (12, 0, 0)
    text = cli("sweep", "status", str(out)).stdout
    assert text.strip() == f"{out}: 12 runs: 12 done, 0 diverged, 0 failed, 0 missing"


def test_diverged_runs_are_stored_as_diverged_and_not_retried(tmp_path):
    grid = '"optimizer.name" = ["sgd"]\n"optimizer.lr" = [0.1, 1e150]'
    path = tmp_path / "div.toml"
    path.write_text(sweep_text(grid, steps="50"))
    plan = expand(load_sweep(path))
    first = run_sweep(plan, tmp_path / "res")
    assert (first.done, first.diverged, first.computed) == (2, 2, 4)
    again = run_sweep(plan, tmp_path / "res")
    assert (again.computed, again.diverged) == (0, 2)
    ds = load(tmp_path / "res" / "sweep.nc")
    bad = ds.sel({"optimizer.name": "sgd", "optimizer.lr": 1e150})
    assert (bad.status.values == 1).all() and (bad.diverged_at.values > 0).all()
    assert ds.status.attrs["flag_meanings"] == "done diverged failed missing"
    assert ds.attrs["sweep"]["axes"][1] == {"optimizer.lr": [0.1, 1e150]}


class FailFirst:
    """An executor whose first task raises (as a crashed task would)."""

    description = "fails the first task"

    def map(self, function, tasks):
        for position, task in enumerate(tasks):
            yield position, RuntimeError("boom") if position == 0 else function(task)


def test_failed_runs_are_recorded_and_retried_by_the_next_sweep(tmp_path):
    plan = expand(parse_sweep(sweep_text('"optimizer.name" = ["sgd", "adam"]', steps="40")))
    report = run_sweep(plan, tmp_path, FailFirst(), max_runs=1)
    assert (report.failed_now, report.computed, report.errors) == (1, 3, ("RuntimeError: boom",))
    assert RunStore(tmp_path).status() == {"runs": 4, "done": 3, "diverged": 0, "failed": 1,
                                           "missing": 0}
    ds = xr.load_dataset(tmp_path / "sweep.nc")
    failed = ds.status.values == 2
    assert failed.sum() == 1 and np.isnan(ds.final_test_error.values[failed]).all()
    assert np.isfinite(ds.final_test_error.values[~failed]).all()
    retry = run_sweep(plan, tmp_path)
    assert (retry.computed, retry.failed) == (1, 0)
    assert list((tmp_path / "failed").iterdir()) == []


def test_different_log_steps_share_a_fraction_axis(tmp_path):
    grid = '"train.batch_size" = [4, 16]'
    path = tmp_path / "frac.toml"
    path.write_text(sweep_text(grid, steps="", seeds=1, extra_set='"train.epochs" = 10'))
    sweep_json(str(path), "--out", str(tmp_path / "res"))
    ds = xr.load_dataset(tmp_path / "res" / "sweep.nc")
    assert ds.attrs["trajectory_axis"] == "fraction" and ds.test_error.dims[-1] == "fraction"
    plan = expand(load_sweep(path))
    small, large = (train(r.config) for r in plan.runs)          # 40 steps vs 10 steps
    assert ds.sizes["fraction"] == small.steps.size == 41
    np.testing.assert_array_equal(ds.step.sel({"train.batch_size": 4}).values, small.steps)
    np.testing.assert_array_equal(ds.test_error.sel({"train.batch_size": 4}).values[0],
                                  small.metric("test_error"))
    cell = ds.sel({"train.batch_size": 16}).isel(seed=0)
    on_log = np.isin(cell.step.values, large.steps)               # every 4th grid point
    assert on_log.sum() == large.steps.size == 11
    np.testing.assert_array_equal(cell.train_loss.values[on_log], large.metric("train_loss"))
    between = np.interp(cell.step.values, large.steps, large.metric("train_loss"))
    np.testing.assert_allclose(cell.train_loss.values, between, rtol=1e-12)
    assert cell.final_test_error.item() == large.metric("test_error")[-1]
    np.testing.assert_array_equal(cell.epoch.values, cell.step.values / 1)


# ---- dask ---------------------------------------------------------------------------------
def test_local_cluster_of_two_workers_gives_the_same_sweep_nc(tmp_path, grid12):
    path, reference = grid12
    report = sweep_json(str(path), "--out", str(tmp_path / "dask"), "--workers", "2",
                        "--batch-runs", "4", timeout=240)
    assert report["executor"] == "LocalCluster of 2 worker processes"
    assert (report["computed"], report["tasks"], report["failed"]) == (12, 3, 0)
    xr.testing.assert_identical(xr.load_dataset(tmp_path / "dask" / "sweep.nc"), reference)


@pytest.fixture(scope="module")
def cluster():
    import distributed

    with distributed.LocalCluster(n_workers=2, threads_per_worker=1, processes=True,
                                  dashboard_address=None, silence_logs=40) as local:
        with distributed.Client(local, timeout=60) as client:
            yield local, client


def test_scheduler_address_and_a_lost_worker(tmp_path, grid12, cluster):
    path, reference = grid12
    local, client = cluster
    report = sweep_json(str(path), "--out", str(tmp_path / "remote"), "--scheduler",
                        local.scheduler_address, "--batch-runs", "2", timeout=240)
    assert report["executor"] == f"dask scheduler {local.scheduler_address}"
    xr.testing.assert_identical(xr.load_dataset(tmp_path / "remote" / "sweep.nc"), reference)

    pids = client.run(os.getpid)
    killed = []

    def kill_a_busy_worker():
        """SIGKILL the first worker seen running a task."""
        deadline = time.monotonic() + 120
        while not killed and time.monotonic() < deadline:
            busy = [address for address, tasks in client.processing().items() if tasks]
            if busy:
                os.kill(pids[busy[0]], signal.SIGKILL)
                killed.append(pids[busy[0]])
            time.sleep(0.01)

    killer = threading.Thread(target=kill_a_busy_worker)
    killer.start()
    try:
        result = run_sweep(expand(load_sweep(path)), tmp_path / "lost", Dask(client, "test"),
                           max_runs=1)
    finally:
        killer.join()
    assert killed and killed[0] not in client.run(os.getpid).values()
    assert (result.computed, result.failed, result.done) == (12, 0, 12)
    xr.testing.assert_identical(xr.load_dataset(tmp_path / "lost" / "sweep.nc"), reference)


def test_bad_executor_and_store_arguments_are_one_line_errors(tmp_path):
    from bounds.sweep import open_executor

    with pytest.raises(ConfigError, match=r"^--workers = 0: must be an integer ≥ 1$"):
        with open_executor(workers=0):
            pass
    with pytest.raises(ConfigError, match=r"^--scheduler tcp://127.0.0.1:1: cannot connect"):
        with open_executor(scheduler="tcp://127.0.0.1:1", connect_timeout=1):
            pass
    with pytest.raises(ConfigError, match=r"not a sweep directory \(no sweep.json\)"):
        RunStore(tmp_path).status()
    with RunStore(tmp_path).open_for_writing():
        with pytest.raises(ConfigError, match="another sweep is writing there"):
            with RunStore(tmp_path).open_for_writing():
                pass


def test_zipped_keys_are_coordinates_along_their_axis(tmp_path):
    text = sweep_text("", steps="20", seeds=1) + (
        '[[zip]]\n"optimizer.name" = ["sgd", "adam"]\n"optimizer.lr" = [0.5, 0.001]\n'
        '[[zip]]\n"model.bias" = [false, true]\n"train.batch_size" = [4, 16]\n')
    run_sweep(expand(parse_sweep(text)), tmp_path)
    ds = xr.load_dataset(tmp_path / "sweep.nc")
    assert ds.test_error.dims == ("optimizer.name", "model.bias", "seed", "step")
    assert ds["optimizer.lr"].dims == ("optimizer.name",)
    assert list(ds["optimizer.lr"].values) == [0.5, 0.001]
    assert ds["model.bias"].dtype == bool and list(ds["train.batch_size"].values) == [4, 16]
    assert ds["optimizer.lr"].attrs == {"long_name": "config value optimizer.lr", "units": "1"}
    assert "units" not in ds["optimizer.name"].attrs


def test_coordinate_values_keep_types_and_write_lists_as_json():
    from bounds.sweep.gather import coordinate_values

    assert coordinate_values([1, 2]).dtype == np.int64
    assert coordinate_values([1, 2.5]).dtype == np.float64
    assert coordinate_values([True, False]).dtype == bool
    assert list(coordinate_values(["a", "b"])) == ["a", "b"]
    assert list(coordinate_values([[0.9, 0.999], [0.5, 0.9]])) == ["[0.9, 0.999]", "[0.5, 0.9]"]


def test_missing_or_broken_sweep_file_is_one_line(tmp_path):
    with pytest.raises(ConfigError, match=r"^sweep = '.*none.toml': file not found$"):
        load_sweep(tmp_path / "none.toml")
    (tmp_path / "broken.toml").write_text("[grid\n")
    with pytest.raises(ConfigError, match=r"^sweep = '.*broken.toml': TOML syntax error"):
        load_sweep(tmp_path / "broken.toml")
