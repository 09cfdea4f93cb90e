"""The resumable store of a sweep's results, a directory:

- ``sweep.json``: the plan (the sweep file's content, the dims, every run's key, grid index
  and resolved config), written when a sweep starts;
- ``runs/<batch>.nc``: one netCDF file per finished batch, runs along a ``run`` dimension
  labelled by run key, each run's config (JSON) in the ``config`` variable;
- ``failed/<key>.json``: a run whose task raised, with the error (removed once it succeeds);
- ``sweep.nc``: every finished run gathered along the grid axes (:mod:`.gather`).

Every file is written atomically (temporary file, then rename), so a sweep killed at any
moment leaves whole files only, and a run counts as done exactly when a batch file holding
its key exists. Diverged runs are stored like any other (``diverged_at ≥ 0``) and are not
recomputed. One sweep writes to a directory at a time (an exclusive lock on ``.lock``).
Nothing is pickled: netCDF and JSON only.
"""
from __future__ import annotations

import contextlib
import fcntl
import hashlib
import json
import os
from pathlib import Path
from typing import Iterable, Sequence

import netCDF4
import numpy as np

from bounds.store import (annotate, is_temporary, output_dir, stack_runs, write_atomic,
                          write_text_atomic)
from simulate.fields import ConfigError
from simulate.run import RunResult

PLAN, GATHERED = "sweep.json", "sweep.nc"
STATES = ("done", "diverged", "failed", "missing")


class RunStore:
    """The store directory of one sweep (see the module docstring)."""

    def __init__(self, directory: str | os.PathLike):
        self.directory = Path(directory)
        self.runs = self.directory / "runs"
        self.failed = self.directory / "failed"
        self._index: dict[str, tuple[Path, bool]] | None = None  # stored(), kept up to date

    # ---- writing ------------------------------------------------------------------------
    @contextlib.contextmanager
    def open_for_writing(self, flag: str = "--out"):
        """Check and create the directory, take its lock and clear temporary files that an
        interrupted sweep left; the lock is released on exit (or when the process dies)."""
        output_dir(self.directory, flag)
        with open(self.directory / ".lock", "a") as lock:
            try:
                fcntl.flock(lock, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError:
                raise ConfigError(f"{flag} {self.directory}: another sweep is writing there") from None
            for folder in (self.directory, self.runs, self.failed):
                for path in folder.glob(".*.tmp") if folder.is_dir() else ():
                    path.unlink(missing_ok=True)
            yield self

    def write_plan(self, plan: dict) -> Path:
        return write_text_atomic(json.dumps(plan), self.directory / PLAN)

    def write_batch(self, keys: Sequence[str], results: Sequence[RunResult]) -> Path:
        """One finished batch as ``runs/<hash of its keys>.nc``; clears the runs' failures."""
        ds = stack_runs(results, dim="run", labels=list(keys))
        ds["config"] = ("run", np.array([json.dumps(r.config.to_dict()) for r in results], dtype=object))
        annotate(ds).attrs.update(title="homebound sweep batch")
        name = hashlib.sha256(",".join(sorted(keys)).encode()).hexdigest()[:16]
        path = self.runs / f"{name}.nc"
        try:
            write_atomic(ds, path, replace=False)
        except FileExistsError:
            pass  # the same runs, hence (runs being pure) the same file
        if self._index is not None:
            for key, result in zip(keys, results):
                self._index.setdefault(key, (path, result.diverged))
        for key in keys:
            (self.failed / f"{key}.json").unlink(missing_ok=True)
        return path

    def write_failure(self, keys: Iterable[str], error: BaseException) -> None:
        text = f"{type(error).__name__}: {error}"
        for key in keys:
            write_text_atomic(json.dumps({"key": key, "error": text}), self.failed / f"{key}.json")

    # ---- reading ------------------------------------------------------------------------
    def read_plan(self) -> dict:
        try:
            return json.loads((self.directory / PLAN).read_text())
        except FileNotFoundError:
            raise ConfigError(f"{self.directory}: not a sweep directory (no {PLAN})") from None

    def batch_files(self) -> list[Path]:
        if not self.runs.is_dir():
            return []
        return sorted(p for p in self.runs.glob("*.nc") if not is_temporary(p))

    def stored(self) -> dict[str, tuple[Path, bool]]:
        """Key → (batch file, diverged?) of every stored run (read once, then kept up to
        date by :meth:`write_batch`)."""
        if self._index is None:
            self._index = {}
            for path in self.batch_files():
                batch = read_batch(path, ("run", "diverged_at"))
                for key, diverged_at in zip(batch["run"], batch["diverged_at"]):
                    self._index.setdefault(str(key), (path, bool(diverged_at >= 0)))
        return dict(self._index)

    def failures(self) -> dict[str, str]:
        """Key → error text of every run recorded as failed."""
        if not self.failed.is_dir():
            return {}
        return {p.stem: json.loads(p.read_text())["error"]
                for p in self.failed.glob("*.json") if not is_temporary(p)}

    def status(self) -> dict[str, int]:
        """Counts of the planned (distinct) runs by state, and their total ``runs``."""
        keys = dict.fromkeys(run["key"] for run in self.read_plan()["runs"])
        stored, failures = self.stored(), self.failures()
        states = [state_of(key, stored, failures) for key in keys]
        return {"runs": len(keys), **{state: states.count(state) for state in STATES}}


def read_batch(path: Path, names: Sequence[str] | None = None) -> dict[str, np.ndarray]:
    """Variables of a batch file (all with a ``run`` dimension, or ``names``) as raw arrays,
    read with netCDF4 directly (several times faster than xarray for many small files)."""
    with netCDF4.Dataset(path) as ds:
        ds.set_auto_mask(False)
        names = [n for n, v in ds.variables.items() if "run" in v.dimensions] if names is None else names
        return {name: ds[name][...] for name in names}


def state_of(key: str, stored: dict, failures: dict) -> str:
    """A run's state (one of :data:`STATES`) given :meth:`RunStore.stored` and
    :meth:`RunStore.failures`: a stored result wins over an older failure record."""
    if key in stored:
        return "diverged" if stored[key][1] else "done"
    return "failed" if key in failures else "missing"
