"""Read an experiment configuration without importing the simulator (duck typing).

A config is either a nested mapping ``{"data": {...}, "model": {...}, "optimizer": {...},
"train": {...}}`` or an object whose attributes ``.data``, ``.model``, ``.optimizer``,
``.train`` carry the fields (each section may itself be a mapping or an object; a section
object with a ``to_dict()`` method, such as the simulator's optimiser record whose
hyperparameters sit in ``.hyper``, is read through it).  Fields read here (SPEC §1, §2, §4,
§5):

* ``data``: ``kind`` ("sparse" | "dense"), ``n``, ``d``, ``sigma_p``, ``mu_norm``,
  ``label_noise`` (``p``, default 0);
* ``model``: ``activation`` ("relu" | "linear"), ``q``, ``sigma0``;
* ``optimizer``: ``name``, ``weight_decay`` (default 0);
* ``train``: ``batch_size`` (``0``/``None`` = full batch), ``l2`` (coupled L2, default 0).
"""

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Optional

from . import symbols as S


def _get(container: Any, key: str) -> Any:
    if isinstance(container, Mapping):
        return container.get(key)
    return getattr(container, key, None)


def _field(config: Any, section: str, key: str, default: Any = None) -> Any:
    part = _get(config, section)
    if callable(getattr(part, "to_dict", None)):
        part = part.to_dict()
    value = None if part is None else _get(part, key)
    return default if value is None else value


@dataclass(frozen=True)
class ConfigView:
    """The config fields the theorems use; ``None`` where the config does not give one."""

    kind: Optional[str]
    activation: Optional[str]
    optimizer: Optional[str]
    values: dict  # theory.symbols symbol -> number (or None when missing)

    def missing(self, needed) -> list:
        """The absent config fields (``section.field``) behind the symbols in ``needed``."""
        return sorted(FIELD_OF[s] for s in needed if self.values.get(s) is None)


# where each theorem symbol comes from, for error messages
FIELD_OF = {
    S.n: "data.n",
    S.B: "train.batch_size",
    S.d: "data.d",
    S.q: "model.q",
    S.sigma0: "model.sigma0",
    S.sigma_p: "data.sigma_p",
    S.mu_norm: "data.mu_norm",
    S.p: "data.label_noise",
    S.lam: "train.l2 + optimizer.weight_decay",
}


def view(config: Any) -> ConfigView:
    """Extract a ``ConfigView``.

    The effective batch size ``B`` is ``n`` for full batch (``batch_size`` 0 or ``None``)
    and ``min(batch_size, n)`` otherwise.  ``lambda`` is the total weight decay
    ``train.l2 + optimizer.weight_decay`` (coupled for Adam, decoupled for AdamW: each
    theorem analyses one optimiser, so the form is implied by the optimiser).
    """
    n = _field(config, "data", "n")
    batch = _field(config, "train", "batch_size", 0)
    name = _field(config, "optimizer", "name")
    values = {
        S.n: n,
        S.B: None if n is None else (n if batch == 0 else min(batch, n)),
        S.d: _field(config, "data", "d"),
        S.q: _field(config, "model", "q"),
        S.sigma0: _field(config, "model", "sigma0"),
        S.sigma_p: _field(config, "data", "sigma_p"),
        S.mu_norm: _field(config, "data", "mu_norm"),
        S.p: _field(config, "data", "label_noise", 0),
        S.lam: _field(config, "train", "l2", 0) + _field(config, "optimizer", "weight_decay", 0),
    }
    return ConfigView(
        kind=_field(config, "data", "kind"),
        activation=_field(config, "model", "activation"),
        optimizer=None if name is None else str(name).lower(),
        values=values,
    )
