"""Parameter sweeps: every combination of grid values × seeds × data files is one independent, deterministic run.

- :mod:`mmexec.sweep.grid`: the grid (``--grid``, ``--grid-file``, ``--seeds``, data files) -> validated runs.
- :mod:`mmexec.sweep.runner`: the ONE place that knows the run API (:func:`~mmexec.sweep.runner.run_one`).
- :mod:`mmexec.sweep.executors`: local processes or a Dask distributed cluster, results as they complete.
- :mod:`mmexec.sweep.results`: result lines streamed to disk, sorted by run key at the end; ``--resume``; CSV.
- :mod:`mmexec.sweep.summary`: robustness per combination (mean, stdev, worst across seeds and files).
- :mod:`mmexec.sweep.driver`: the sweep loop (progress, failures, Ctrl-C); :mod:`mmexec.sweep.progress`.
- :mod:`mmexec.sweep.flags`: run flags as settings keys; :mod:`mmexec.sweep.command`: the body of ``mmexec sweep``.
"""
