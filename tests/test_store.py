"""Readable, safe results (issue 10, part 4): CF attributes, epoch, no name clashes, the user's
permissions, the early --out check, no silent overwrite, atomic writes."""
import os
import subprocess
import sys

import numpy as np
import pytest
import xarray as xr

from bounds import store
from simulate.fields import ConfigError
from simulate.run import train_many

# Long enough that training before the output check would blow the subprocess timeout.
ENDLESS = ["--set", "train.steps=100000000", "--set", "train.log_every=100000000"]
QUICK = ["--set", "train.epochs=2", "--set", "data.n_test=40"]


def homebound(*args, umask=None, timeout=120):
    return subprocess.run([sys.executable, "-m", "homebound", *args], capture_output=True,
                          text=True, timeout=timeout, umask=-1 if umask is None else umask)


def assert_cf_attributes(ds: xr.Dataset):
    for name, variable in ds.variables.items():
        assert variable.attrs.get("long_name"), name
        numeric = variable.dtype.kind in "iuf" and "flag_values" not in variable.attrs
        assert ("units" in variable.attrs) == numeric, name


@pytest.fixture
def replicates(tiny):
    configs = [tiny("optimizer.name=homeadam", f"seed={s}") for s in (3, 4)]
    return train_many(configs)


def test_every_variable_has_long_name_and_units(replicates):
    ds = store.runs_dataset(replicates)
    assert_cf_attributes(ds)
    assert {"diag_rho_hat", "diag_home_share", "final_test_error", "noise_memorization"} <= set(ds)
    assert ds.test_error.attrs["long_name"] == "test 0-1 error" and ds.test_error.attrs["units"] == "1"


def test_annotate_refuses_a_variable_it_cannot_describe(replicates):
    ds = store.runs_dataset(replicates).assign(mystery=("seed", [1.0, 2.0]))
    with pytest.raises(ValueError, match="mystery"):
        store.annotate(ds)
    store.annotate(ds, {"mystery": ("a described quantity", "1")})
    assert ds.mystery.attrs == {"long_name": "a described quantity", "units": "1"}


def test_epoch_coordinate_beside_step(replicates):
    ds = store.runs_dataset(replicates)
    config = replicates[0].config
    assert ds.epoch.dims == ("step",)
    np.testing.assert_array_equal(ds.epoch.values, config.log_steps() / config.steps_per_epoch)
    assert config.steps_per_epoch == 4 and ds.epoch.values[-1] == 60 / 4


def test_no_variable_is_named_like_a_config_key(replicates, config_keys):
    assert {"lr", "alpha", "seed", "steps", "batch_size"} <= config_keys
    ds = store.runs_dataset(replicates)
    clashes = set(map(str, ds.variables)) & config_keys
    assert clashes == {"seed"}   # the replicate dimension, labelled by the runs' seeds
    assert list(ds.seed.values) == [3, 4]
    assert "lr" not in ds and "scheduled_lr" in ds
    np.testing.assert_array_equal(ds.scheduled_lr.values[0], replicates[0].metric("lr"))
    # the combinations that failed before: a new dimension named like a config key
    grown = ds.expand_dims(lr=[replicates[0].config.optimizer.lr])
    assert grown.test_error.dims == ("lr", "seed", "step")


def test_final_values_and_diverged_rows(tiny):
    good, bad = train_many([tiny("optimizer.name=sgd", "optimizer.lr=0.1"),
                            tiny("optimizer.name=sgd", "optimizer.lr=1e150")])
    assert bad.diverged and not good.diverged
    ds = store.stack_runs([good, bad], dim="run", labels=["good", "bad"])
    assert list(ds.diverged_at.values) == [-1, bad.diverged_at]
    np.testing.assert_array_equal(ds.final_test_error.values,
                                  [good.metric("test_error")[-1], bad.metric("test_error")[-1]])
    logged = ds.step.values <= bad.steps_done
    assert np.isfinite(ds.train_loss.sel(run="bad").values[logged]).all()
    assert np.isnan(ds.train_loss.sel(run="bad").values[~logged]).all()
    assert np.isfinite(ds.train_loss.sel(run="good").values).all()


def test_train_out_file_is_readable_and_documented(tmp_path, config_keys):
    out = homebound("train", "default", *QUICK, "--seeds", "2", "--out", str(tmp_path), "--quiet")
    assert out.returncode == 0, out.stderr
    ds = store.load(tmp_path / "default.nc")
    assert_cf_attributes(ds)
    assert ds.attrs["config"]["optimizer"]["name"] == "adam" and "seed" not in ds.attrs["config"]
    assert set(map(str, ds.variables)) & config_keys == {"seed"}
    assert "epoch" in ds.coords and ds.epoch.dims == ("step",)


@pytest.mark.parametrize("umask,mode", [(0o022, 0o644), (0o077, 0o600), (0o002, 0o664)])
def test_files_get_the_users_normal_permissions(tmp_path, umask, mode):
    out = homebound("train", "default", *QUICK, "--out", str(tmp_path / "res"), "--quiet",
                    umask=umask)
    assert out.returncode == 0, out.stderr
    assert os.stat(tmp_path / "res" / "default.nc").st_mode & 0o777 == mode
    assert os.stat(tmp_path / "res").st_mode & 0o777 == 0o777 & ~umask


@pytest.mark.parametrize("where", ["file", "under_file"])
def test_bad_out_path_is_refused_before_training(tmp_path, where):
    blocker = tmp_path / "blocker.txt"
    blocker.write_text("not a directory\n")
    target = blocker if where == "file" else blocker / "res"
    out = homebound("train", "default", *ENDLESS, "--out", str(target), "--quiet")
    assert out.returncode == 2
    lines = out.stderr.strip().splitlines()
    assert len(lines) == 1 and "--out" in lines[0] and str(target) in lines[0], out.stderr
    assert "Traceback" not in out.stderr
    assert blocker.read_text() == "not a directory\n"


def test_existing_result_is_never_silently_replaced(tmp_path):
    first = homebound("train", "default", *QUICK, "--out", str(tmp_path), "--quiet")
    assert first.returncode == 0, first.stderr
    before = (tmp_path / "default.nc").read_bytes()
    again = homebound("train", "default", *ENDLESS, "--out", str(tmp_path), "--quiet")
    assert again.returncode == 2
    lines = again.stderr.strip().splitlines()
    assert len(lines) == 1 and "already exists" in lines[0] and "--force" in lines[0]
    assert (tmp_path / "default.nc").read_bytes() == before
    forced = homebound("train", "default", *QUICK, "--set", "seed=7", "--out", str(tmp_path),
                       "--quiet", "--force")
    assert forced.returncode == 0, forced.stderr
    assert store.load(tmp_path / "default.nc").seed.values.tolist() == [7]
    assert sorted(p.name for p in tmp_path.iterdir()) == ["default.nc"]


def test_write_atomic_without_replace_never_replaces(tmp_path, replicates):
    ds = store.runs_dataset(replicates)
    path = store.write_atomic(ds, tmp_path / "a.nc", replace=False)
    before = path.read_bytes()
    with pytest.raises(FileExistsError):
        store.write_atomic(ds.isel(seed=[0]), path, replace=False)
    assert path.read_bytes() == before
    store.write_atomic(ds.isel(seed=[0]), path)
    assert store.load(path).sizes["seed"] == 1
    assert [p.name for p in tmp_path.iterdir()] == ["a.nc"]   # no temporary file left


def test_load_round_trips_the_config(tmp_path, replicates):
    one = store.run_dataset(replicates[1])
    store.write_atomic(one, tmp_path / "one.nc")
    loaded = store.load(tmp_path / "one.nc")
    assert loaded.attrs["config"] == replicates[1].config.to_dict()
    np.testing.assert_array_equal(loaded.test_error.values, replicates[1].metric("test_error"))


def test_output_checks_name_the_flag(tmp_path):
    (tmp_path / "taken.nc").write_text("")
    with pytest.raises(ConfigError, match=r"^--out .*taken.nc already exists; pass --force"):
        store.check_output_path(tmp_path / "taken.nc")
    assert store.check_output_path(tmp_path / "taken.nc", force=True) == tmp_path / "taken.nc"
    with pytest.raises(ConfigError, match=r"^--out .*taken.nc: exists and is not a directory"):
        store.check_output_path(tmp_path / "taken.nc" / "x.nc")
    with pytest.raises(ConfigError, match=r"^--results .*exists and is not a directory"):
        store.output_dir(tmp_path / "taken.nc", flag="--results")
    assert store.output_dir(tmp_path / "new" / "deeper").is_dir()
    assert sorted(p.name for p in (tmp_path / "new" / "deeper").iterdir()) == []
