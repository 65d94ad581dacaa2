"""Run trials on Ray: local by default (one CPU per trial, ``workers`` at once), or on an
existing Ray cluster with ``address``.

Ray core, not Ray Tune: a trial is one call of :func:`svnr_rl.study.trials.run_trial_safe`
whose state lives in its run folder, so resuming, reusing and recording failures need nothing
from the engine, and the TPE loop (:mod:`svnr_rl.study.tuning`) keeps its proposals
independent of the scheduling.  Finished trials are answered from their folders without
starting Ray at all.
"""

from __future__ import annotations

import os
import signal
import sys
import threading
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TextIO

from svnr_rl.study.trials import (
    Outcome,
    Trial,
    finished_summary,
    record_failure,
    run_trial_safe,
)

__all__ = ["Engine", "EngineError", "Progress", "finished_outcome", "run_all"]


class EngineError(RuntimeError):
    """Ray itself stopped under a study (its node died): the study stops, nothing is lost."""


@dataclass
class Progress:
    """Trials done / running / failed and the best metric so far, one line per event."""

    total: int
    metric: str
    out: TextIO | None = field(default_factory=lambda: sys.stdout)
    done: int = 0
    failed: int = 0
    running: int = 0
    best: tuple[float, str] | None = None
    outcomes: list[Outcome] = field(default_factory=list)

    def note(self, o: Outcome) -> None:
        self.outcomes.append(o)
        self.done += 1
        self.failed += o.action == "failed"
        value = o.summary.get(self.metric)
        text = ""
        if isinstance(value, int | float):
            text = f", {self.metric} {value:.3f}"
            if self.best is None or value > self.best[0]:
                self.best = (float(value), o.trial.label)
        if self.out is None:
            return
        extra = f" ({o.error})" if o.error else ""
        best = f" | best {self.best[0]:.3f} ({self.best[1]})" if self.best else ""
        print(
            f"[{self.done}/{self.total} done, {self.running} running, {self.failed} failed] "
            f"{o.trial.label}: {o.action} in {o.seconds:.1f} s{text}{extra}{best}",
            file=self.out,
            flush=True,
        )


def _raise_interrupt(signum: int, frame: object) -> None:
    raise KeyboardInterrupt(f"signal {signum}")


def _ray_init(workers: int, address: str | None) -> bool:
    """``ray.init``: a private local instance with ``workers`` CPUs, or the cluster at
    ``address``.  ``False`` when Ray was already initialized by the caller (left running)."""
    import ray

    if ray.is_initialized():
        return False
    kwargs: dict[str, Any] = {"include_dashboard": False, "logging_level": "ERROR"}
    if not address:
        # local workers inherit this environment: make them import svnr_rl from the same
        # checkout as this driver (a cluster's nodes need svnr installed, docs/studies.md)
        root = str(Path(__file__).resolve().parents[2])
        path = [p for p in os.environ.get("PYTHONPATH", "").split(os.pathsep) if p]
        if root not in path:
            os.environ["PYTHONPATH"] = os.pathsep.join([root, *path])
    if address:
        ray.init(address=address, **kwargs)
    else:
        ray.init(num_cpus=workers, **kwargs)
    return True


class Engine:
    """Dispatches trials to Ray, at most ``workers`` at once.  :meth:`submit` queues trials
    (a finished one is answered from its folder at once, without Ray), :meth:`wait` returns
    the next outcomes.  Ray starts on the first trial that must train and stops in
    :meth:`close` (use the engine as a context manager)."""

    def __init__(self, workers: int, address: str | None, progress: Progress) -> None:
        self.workers = workers
        self.address = address
        self.progress = progress
        self._remote: Any = None
        self._owns_ray = False
        self._queue: list[Trial] = []
        self._flight: dict[Any, Trial] = {}
        self._ready: list[Outcome] = []
        self._handlers: dict[int, Any] = {}

    def __enter__(self) -> Engine:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def _start(self) -> None:
        import ray

        t0 = time.perf_counter()
        self._owns_ray = _ray_init(self.workers, self.address)
        # after ray.init, whose own handlers would dump a stack trace on SIGTERM: SIGINT and
        # SIGTERM stop the study like Ctrl-C (the CLI then says how to continue)
        if threading.current_thread() is threading.main_thread():
            self._handlers = {
                s: signal.signal(s, _raise_interrupt) for s in (signal.SIGINT, signal.SIGTERM)
            }
        self._remote = ray.remote(num_cpus=1, max_retries=0)(run_trial_safe)
        if self.progress.out is not None and self._owns_ray:
            where = self.address or f"local, {self.workers} worker(s)"
            print(
                f"Ray ({where}) started in {time.perf_counter() - t0:.1f} s",
                file=self.progress.out,
                flush=True,
            )

    def submit(self, trials: Sequence[Trial]) -> None:
        for t in trials:
            done = finished_outcome(t)
            if done is None:
                self._queue.append(t)
            else:
                self._ready.append(done)
        self._fill()

    def _fill(self) -> None:
        if self._queue and self._remote is None:
            self._start()
        while self._queue and len(self._flight) < self.workers:
            trial = self._queue.pop(0)
            self._flight[self._remote.remote(trial)] = trial
        self.progress.running = len(self._flight)

    @property
    def busy(self) -> bool:
        return bool(self._flight or self._queue or self._ready)

    def wait(self) -> list[Outcome]:
        """The next finished outcomes (blocking until one is there), noted in the progress."""
        out, self._ready = self._ready, []
        if not out:
            import ray

            ready, _ = ray.wait(list(self._flight), num_returns=1)
            for ref in ready:
                trial = self._flight.pop(ref)
                try:
                    outcome: Outcome = ray.get(ref)
                except (
                    ray.exceptions.LocalRayletDiedError,
                    ray.exceptions.NodeDiedError,
                    ray.exceptions.RaySystemError,
                ) as exc:
                    # Ray itself is gone: every further trial would "fail" at once
                    self._flight.clear()
                    self._queue.clear()
                    raise EngineError(
                        f"Ray stopped ({type(exc).__name__}); finished trials are kept and "
                        "interrupted ones resume when the same command is run again"
                    ) from None
                except Exception as exc:  # the worker died (killed by the OS, out of memory)
                    error = f"{type(exc).__name__}: {str(exc).splitlines()[0][:300]}"
                    record_failure(trial, error)
                    outcome = Outcome(trial, "failed", 0.0, error)
                out.append(outcome)
            self._fill()
        for o in out:
            self.progress.note(o)
        return out

    def close(self) -> None:
        """Cancel what is still queued or running and stop the Ray instance this engine
        started (the interrupted trials keep their last checkpoints)."""
        if self._remote is None:
            return
        import ray

        if self._owns_ray:
            # shutting our own instance down stops its workers; cancelling first races with
            # replies in flight (Ray 2.60 aborts the driver: "Tried to complete task that was
            # not pending")
            ray.shutdown()
        else:
            for ref in self._flight:
                ray.cancel(ref, force=True)
        self._flight.clear()
        self._queue.clear()
        for sig, handler in self._handlers.items():
            signal.signal(sig, handler)
        self._handlers = {}
        self._remote = None


def finished_outcome(trial: Trial) -> Outcome | None:
    """The ``reused`` outcome of a completed trial folder (no Ray needed), else ``None``."""
    rd = Path(trial.run_dir)
    done = finished_summary(rd) if (rd / "config.json").is_file() else None
    return None if done is None else Outcome(trial, "reused", 0.0, summary=done)


def run_all(
    trials: Sequence[Trial], workers: int, address: str | None, progress: Progress
) -> list[Outcome]:
    """Run every trial (reusing finished ones) and return their outcomes."""
    with Engine(workers, address, progress) as engine:
        engine.submit(trials)
        while engine.busy:
            engine.wait()
    return progress.outcomes
