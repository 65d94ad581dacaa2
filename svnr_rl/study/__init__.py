"""Experiments as data: a study file (:mod:`~svnr_rl.study.spec`) names tasks x methods x
seeds, or a TPE tuning space; trials run on Ray (:mod:`~svnr_rl.study.engine`), tuning uses
Optuna (:mod:`~svnr_rl.study.tuning`), and reports are written from the run folders
(:mod:`~svnr_rl.study.report`).  Command line: ``python -m svnr_rl study run|tune|report``.
"""
