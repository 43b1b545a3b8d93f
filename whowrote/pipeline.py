"""The main command's whole run: train (training/train.py `fit`), then plot the curves,
evaluate and calibrate on held-out works (evaluation/evaluate.py), run the validity probes
(evaluation/validate.py), and record where the time went. It sits above training and
evaluation so neither imports the other's caller.

    python -c "from whowrote import resolve, train; train(resolve('cpu', data_dir='../shared/corpora'))"
"""

from __future__ import annotations

import shutil
from pathlib import Path

from .config import Config
from .layout import RunFiles


def train(config: Config | None = None, run_dir: str | Path | None = None, name: str | None = None,
          resume: bool = False, progress: bool = True, finalize: bool = True, validity: bool = True,
          steps: int | None = None) -> Path:
    """Train; return the run folder. Pass `run_dir` with `resume=True` to continue a run,
    and `steps` to extend it to that many steps (the schedule stretches to the new end).
    `finalize=False` saves model/ but skips the held-out evaluation, report and plots
    (for callers such as `compare` that score the model on windows of their own);
    `validity=False` skips the validity probes (which need held-out works)."""
    from .training.train import fit

    fitted = fit(config, run_dir=run_dir, name=name, resume=resume, progress=progress, steps=steps)
    if fitted.is_main:
        if finalize:
            _finish(fitted, validity, progress)
        shutil.rmtree(RunFiles(fitted.run_dir).checkpoint, ignore_errors=True)  # the model/ folder supersedes it
    fitted.accelerator.wait_for_everyone()  # no process returns before the run folder is complete
    return fitted.run_dir


def _finish(fitted, validity: bool, progress: bool) -> None:
    """Plots, evaluation and calibration, validity probes, then the phase timings."""
    from .evaluation.evaluate import evaluate_run
    from .training import runfolder
    from .training.plot import plot_run

    config, run_dir, clock = fitted.config, fitted.run_dir, fitted.clock
    plot_run(run_dir, config.smooth_k, config.smooth_edge)
    evaluate_run(run_dir, progress=progress, model=fitted.model, tokenizer=fitted.tokenizer)
    clock.done("evaluation and calibration")  # from here the model folder judges
    if validity and any(config.heldout.get(label) for label in config.author_labels):
        from .evaluation.validate import validate

        validate(run_dir, progress=progress)
        clock.done("validity probes")
    runfolder.update_report(run_dir, timings=clock.report())
    if progress:
        print(f"whowrote: {clock.summary()}")
