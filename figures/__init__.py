"""Figures regenerated from stored results and the theory catalogue (matplotlib).

``figures`` draws and reads; it runs nothing itself. A figure's build runs its shipped
experiment file (``figures/experiments/*.toml``, :mod:`figures.experiment`) through ``bounds``
(sweeps or stability experiments, resumable; :mod:`figures.results`), extracts the plotted
data into a Dataset (written beside the figure as ``NAME.nc``) and draws it in the one house
style (:mod:`figures.style`). :mod:`figures.registry` lists the figures; one module per
family draws them (:mod:`.tang`, :mod:`.zou`, :mod:`.phase`, :mod:`.stability_scaling`,
:mod:`.homeadam`, :mod:`.dualadam`); :mod:`figures.report` writes ``REPRODUCTIONS.md`` and
:mod:`figures.runplot` is ``homebound plot``.
"""
