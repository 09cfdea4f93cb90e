"""``homebound stability`` and ``homebound verify`` through the command line."""
import json
import subprocess
import sys
import xml.etree.ElementTree as ET

import pytest
import xarray as xr

TINY = ["--set", "data.n_test=40", "--set", "data.d=40", "--set", "data.s=8",
        "--set", "train.steps=30", "--set", "train.log_every=10"]


def homebound(*args):
    return subprocess.run([sys.executable, "-m", "homebound", *args], capture_output=True, text=True)


def test_stability_json_has_the_documented_shape():
    out = homebound("stability", "convex", "--optimizers", "sgd,homeadam", "--n", "16,32,64",
                    "--pairs", "4", "--bootstrap", "200", *TINY, "--json")
    assert out.returncode == 0, out.stderr
    report = json.loads(out.stdout)
    assert report["n"] == [16, 32, 64] and report["steps"] == 30
    assert report["steps_over_n"] == [30 / 16, 30 / 32, 30 / 64]
    assert set(report["optimizers"]) == {"sgd", "homeadam-global", "homeadam-elementwise"}
    sgd = report["optimizers"]["sgd"]
    for quantity in ("delta_T", "loss_gap", "gen_gap"):
        assert len(sgd[quantity]["mean"]) == len(sgd[quantity]["std"]) == 3
    for quantity in ("delta_T", "loss_gap"):
        fit = sgd["fit"][quantity]
        assert fit["ci"][0] <= fit["exponent"] <= fit["ci"][1]
    assert sgd["theory_exponent"] == -1.0 and isinstance(sgd["verdict"], str)
    assert sgd["calibration"]["mode"] == "evaluated"          # Hardt: every constant known
    home = report["optimizers"]["homeadam-global"]
    assert home["home_share"] == 1.0
    assert any("homeadam-global" in w and "went home at every step" in w for w in report["warnings"])
    assert "homeadam-global" in out.stderr                    # the warning is shown, not hidden


def test_stability_table_and_out_then_refuses_to_overwrite(tmp_path):
    target = tmp_path / "stab"
    args = ["stability", "convex", "--optimizers", "sgd", "--n", "16,32", "--pairs", "3",
            "--bootstrap", "100", *TINY, "--out", str(target), "--quiet"]
    out = homebound(*args)
    assert out.returncode == 0, out.stderr
    assert "exponent [95% CI]" in out.stdout and "T/n = " in out.stdout
    ds = xr.open_dataset(target / "stability.nc")
    assert ds.delta.dims == ("optimizer", "n", "pair", "step")
    assert list(ds.n.values) == [16, 32] and ds.sizes["pair"] == 3
    again = homebound(*args)
    assert again.returncode == 2 and "exists; pass --force" in again.stderr
    assert homebound(*args, "--force").returncode == 0


@pytest.mark.parametrize("args,message", [
    (["--n", "16,x"], "--n 16,x: must be comma-separated integers"),
    (["--n", "16"], "at least 2 values of n"),
    (["--pairs", "two"], "--pairs two: must be an integer"),
    (["--pairs", "1"], "--pairs 1: must be an integer ≥ 2"),
    (["--bootstrap", "0"], "--bootstrap 0: must be an integer ≥ 1"),
    (["--optimizers", "sgd,adamax"], "unknown optimiser 'adamax'"),
    (["--set", "train.batch_size=20"], "n = 16, optimizer sgd: train.batch_size = 20"),
])
def test_stability_bad_input_exits_2_with_one_line(tmp_path, args, message):
    base = {"--n": "16,32", "--pairs": "2"}
    flags = [x for key, value in base.items() if key not in args for x in (key, value)]
    out = homebound("stability", "convex", *flags, *args, "--out", str(tmp_path / "res"))
    assert out.returncode == 2
    lines = out.stderr.strip().splitlines()
    assert len(lines) == 1 and message in lines[0], out.stderr
    assert "Traceback" not in out.stderr and not (tmp_path / "res").exists()


@pytest.mark.parametrize("where,message", [
    ("file", "exists and is not a directory"),
    ("file/sub", "cannot write there"),
])
def test_stability_unwritable_out_exits_2_before_any_work(tmp_path, where, message):
    (tmp_path / "file").write_text("not a directory")
    out = homebound("stability", "convex", "--n", "16,32", "--pairs", "2", *TINY,
                    "--out", str(tmp_path / where), "--quiet")
    assert out.returncode == 2
    lines = out.stderr.strip().splitlines()
    assert len(lines) == 1 and f"--out {tmp_path / where}" in lines[0] and message in lines[0], \
        out.stderr
    assert out.stdout == "" and (tmp_path / "file").read_text() == "not a directory"


def test_built_in_quick_suite_holds():
    out = homebound("verify", "--quiet")
    assert out.returncode == 0, out.stdout + out.stderr
    assert "FAIL" not in out.stdout and "7 of 7 checks hold" in out.stdout


WRONG = """
[experiments.tiny]
config = "convex"
set = ["data.n_test=40", "data.d=40", "data.s=8", "train.steps=30", "train.log_every=30"]
optimizers = ["sgd"]
n = [16, 32, 64]
pairs = 4

[[checks]]
name = "sgd decays like n^-1 (true)"
experiment = "tiny"
optimizer = "sgd"
kind = "exponent"
at_most = -0.5

[[checks]]
name = "sgd grows with n (deliberately wrong)"
experiment = "tiny"
optimizer = "sgd"
kind = "exponent"
at_least = 0.5
"""


def test_verify_fails_and_names_the_wrong_expectation(tmp_path):
    checks = tmp_path / "checks.toml"
    checks.write_text(WRONG)
    out = homebound("verify", str(checks), "--junit", str(tmp_path / "report.xml"), "--quiet")
    assert out.returncode == 1, out.stdout + out.stderr
    lines = out.stdout.splitlines()
    assert any(line.startswith("FAIL") and "sgd grows with n (deliberately wrong)" in line
               for line in lines)
    assert any(line.startswith("PASS") and "sgd decays like n^-1 (true)" in line for line in lines)
    suite = ET.parse(tmp_path / "report.xml").getroot()
    assert suite.get("tests") == "2" and suite.get("failures") == "1"
    failed = [case.get("name") for case in suite if case.find("failure") is not None]
    assert failed == ["sgd grows with n (deliberately wrong)"]


@pytest.mark.parametrize("text,message", [
    ("[[checks]]\nname='x'\nexperiment='none'\noptimizer='sgd'\nkind='exponent'\nat_most=0\n",
     "checks[0].experiment = 'none': no such experiment"),
    (WRONG.replace('kind = "exponent"\nat_least', 'kind = "slope"\nat_least'),
     "checks[1].kind = 'slope': allowed: exponent"),
    (WRONG.replace("pairs = 4", "pairs = 4\nsteps = 3"), "experiments.tiny.steps: unknown key"),
    (WRONG.replace('optimizer = "sgd"\nkind = "exponent"\nat_least',
                   'optimizer = "adam"\nkind = "exponent"\nat_least'),
     "checks[1].optimizer = 'adam': not in experiment tiny"),
    ("[experiments\n", "TOML syntax error"),
])
def test_verify_bad_check_file_exits_2(tmp_path, text, message):
    checks = tmp_path / "checks.toml"
    checks.write_text(text)
    out = homebound("verify", str(checks))
    assert out.returncode == 2
    lines = out.stderr.strip().splitlines()
    assert len(lines) == 1 and message in lines[0], out.stderr


def test_train_shows_the_home_share_and_warns_when_homeadam_never_adapts():
    out = homebound("train", "default", "--set", "optimizer.name=homeadam",
                    "--set", "train.epochs=2", "--set", "data.n_test=40")
    assert out.returncode == 0, out.stderr
    assert "home share (mean over steps; 1 = every step went home): seed 0 1.000" in out.stdout
    assert "went home at every step" in out.stderr and "momentum SGD" in out.stderr
    adaptive = homebound("train", "default", "--set", "optimizer.name=homeadam",
                         "--set", "optimizer.rule=elementwise", "--set", "optimizer.tau=1e-6",
                         "--set", "train.epochs=2", "--set", "data.n_test=40", "--json")
    report = json.loads(adaptive.stdout)
    assert 0 < report["runs"][0]["diagnostics"]["home_share"] < 1 and report["warnings"] == []
