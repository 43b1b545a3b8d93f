"""The training loop and its checkpoints: one balanced batch a step, validation and early
stopping, metrics.jsonl, a checkpoint (accelerate state plus the sampler's) written whole
every `checkpoint_every` steps and on Ctrl-C, and what `--resume` reads back. `train.py`
builds what the loop needs; this file runs it.

    python -c "from whowrote.training.loop import checkpoint_step; print(checkpoint_step('runs/x'))"
"""

from __future__ import annotations

import json
import math
import shutil
import signal
import time
from pathlib import Path

import torch

from ..config import Config
from ..data.split import BalancedSampler
from ..errors import EXIT_DIVERGED, EXIT_INTERRUPTED, WhowroteError
from ..layout import RunFiles
from ..model.metrics import classification_metrics, predict_logits
from . import runfolder

CHECKPOINT_FORMAT = "whowrote.checkpoint/1"


class StopFlag:
    """First Ctrl-C asks the loop to stop after the current step and checkpoint; a second one
    interrupts at once (the last checkpoint is still there)."""

    def __init__(self):
        self.requested = False
        self._previous = None

    def __enter__(self):
        def handler(signum, frame):
            if self.requested:
                raise KeyboardInterrupt
            self.requested = True
        try:
            self._previous = signal.signal(signal.SIGINT, handler)
        except ValueError:  # not the main thread: no signal handling, Ctrl-C works as usual
            self._previous = None
        return self

    def __exit__(self, *exc):
        if self._previous is not None:
            signal.signal(signal.SIGINT, self._previous)


def save_checkpoint(accelerator, run_dir: Path, step: int, sampler: BalancedSampler, train_seconds: float) -> None:
    """accelerate.save_state into checkpoint.tmp, then swap it in: never a half checkpoint."""
    final, tmp, _ = RunFiles(run_dir).checkpoints()
    accelerator.wait_for_everyone()
    if accelerator.is_main_process and tmp.exists():
        shutil.rmtree(tmp)
    accelerator.wait_for_everyone()
    accelerator.save_state(str(tmp), safe_serialization=True)
    state = {"format": CHECKPOINT_FORMAT, "step": step, "sampler": sampler.state_dict(), "train_seconds": train_seconds}
    (tmp / f"trainer_state_{accelerator.process_index}.json").write_text(json.dumps(state))
    accelerator.wait_for_everyone()
    if accelerator.is_main_process:
        runfolder.swap_dir(tmp, final)
    accelerator.wait_for_everyone()


def checkpoint_dir(run_dir: Path) -> Path:
    ckpt, _, old = RunFiles(run_dir).checkpoints()
    if not ckpt.is_dir() and old.is_dir():
        ckpt = old  # a crash between the two renames of a swap
    return ckpt


def checkpoint_step(run_dir: Path) -> int:
    state = checkpoint_dir(run_dir) / "trainer_state_0.json"
    return int(json.loads(state.read_text())["step"]) if state.is_file() else 0


def load_checkpoint(accelerator, run_dir: Path, sampler: BalancedSampler) -> tuple[int, float]:
    ckpt = checkpoint_dir(run_dir)
    state_path = ckpt / f"trainer_state_{accelerator.process_index}.json"
    if not state_path.is_file():
        raise WhowroteError(f"{run_dir} has no checkpoint to resume from")
    accelerator.load_state(str(ckpt))
    state = json.loads(state_path.read_text())
    sampler.load_state_dict(state["sampler"])
    return int(state["step"]), float(state.get("train_seconds", 0.0))


def truncate_metrics(path: Path, step: int) -> None:
    """On resume, drop rows written after the checkpoint, so every step appears once."""
    if not path.is_file():
        return
    keep = []
    for line in path.read_text().splitlines():
        try:
            if json.loads(line)["step"] <= step:
                keep.append(line)
        except (ValueError, KeyError):
            continue
    runfolder.atomic_write(path, "".join(row + "\n" for row in keep))


class MetricsLog:
    """metrics.jsonl (main process only), and the validation rows written into it."""

    def __init__(self, accelerator, path: Path, model, val_ids, val_y, labels: list[str]):
        self.accelerator, self.path, self.model = accelerator, path, model
        self.val_ids, self.val_y, self.labels = val_ids, val_y, labels

    def write(self, row: dict) -> None:
        if self.accelerator.is_main_process:
            with open(self.path, "a") as fh:
                fh.write(json.dumps(row) + "\n")

    def validate(self, step: int) -> dict:
        m = classification_metrics(predict_logits(self.model, self.val_ids), self.val_y, self.labels)
        row = {"kind": "val", "step": step, "loss": m["loss"], "accuracy": m["accuracy"],
               "balanced_accuracy": m["balanced_accuracy"], "windows": m["windows"]}
        self.write(row)
        return row

    def truncate(self, step: int) -> None:
        """On resume, drop rows written after the checkpoint, so every step appears once."""
        if self.accelerator.is_main_process:
            truncate_metrics(self.path, step)


class Loop:
    """The training loop: `run` takes the steps from `step` to the config's end, validating,
    stopping early, checkpointing and stopping cleanly on Ctrl-C; `one_step` is one batch."""

    def __init__(self, accelerator, model, optimizer, scheduler, sampler, config: Config, run_dir: Path, log: MetricsLog):
        self.accelerator, self.model, self.optimizer, self.scheduler = accelerator, model, optimizer, scheduler
        self.sampler, self.config, self.run_dir, self.log = sampler, config, run_dir, log
        self.step, self.train_seconds = 0, 0.0
        self.best_val, self.since_best, self.last_val = math.inf, 0, {}

    def one_step(self, stop: StopFlag) -> tuple[float, float, float, float]:
        """(loss, accuracy, learning rate, stop flag), the three numbers averaged over processes."""
        a, config = self.accelerator, self.config
        ids, labels = self.sampler.draw()
        ids = torch.as_tensor(ids, device=a.device)
        labels_t = torch.as_tensor(labels, device=a.device)
        out = self.model(input_ids=ids, attention_mask=torch.ones_like(ids), labels=labels_t)
        a.backward(out.loss)
        if config.max_grad_norm > 0:
            a.clip_grad_norm_(self.model.parameters(), config.max_grad_norm)
        lr = self.scheduler.get_last_lr()[0]
        self.optimizer.step()
        self.scheduler.step()
        self.optimizer.zero_grad(set_to_none=True)
        correct = (out.logits.argmax(-1) == labels_t).float().mean()
        # One collective a step: loss and accuracy averaged over the processes, and the
        # Ctrl-C flag, so that every process stops (and checkpoints) at the same step.
        asked = torch.tensor(float(stop.requested), device=a.device)  # read now: Ctrl-C may come mid-step
        loss, acc, stop_all = (float(v) for v in a.reduce(torch.stack([out.loss.detach().float(), correct, asked]), "mean"))
        if not math.isfinite(loss):
            raise WhowroteError(f"training stopped: the loss became {loss} at step {self.step + 1}; lower --lr "
                                f"(now {config.lr}) or set --mixed-precision no", EXIT_DIVERGED)
        return loss, acc, lr, stop_all

    def early_stop(self, step: int) -> dict | None:
        """Validate when due; the early-stopping record once the validation loss stalls.
        Every process computes the same validation, so all stop together."""
        config = self.config
        if not ((config.eval_every and step % config.eval_every == 0) or step == config.steps):
            return None
        self.last_val = self.log.validate(step)
        if self.last_val["loss"] < self.best_val:
            self.best_val, self.since_best = self.last_val["loss"], 0
        else:
            self.since_best += 1
        if config.early_stop and self.since_best >= config.early_stop and step < config.steps:
            return {"step": step, "rule": f"validation loss not below {self.best_val:.4f} for "
                                          f"{config.early_stop} evaluations ({config.early_stop * config.eval_every} steps)"}
        return None

    def run(self, progress: bool) -> dict | None:
        """Train to the end (or an early stop, returned); Ctrl-C checkpoints and raises."""
        from tqdm.auto import tqdm

        config, a = self.config, self.accelerator
        bar = tqdm(total=config.steps, initial=self.step, desc=f"training {self.run_dir.name}", unit="step",
                   disable=not (progress and a.is_main_process))
        stopped_early = None
        with StopFlag() as stop:
            try:
                self.model.train()
                for step in range(self.step + 1, config.steps + 1):
                    t0 = time.perf_counter()
                    loss, acc, lr, stop_all = self.one_step(stop)
                    seconds = time.perf_counter() - t0
                    self.step, self.train_seconds = step, self.train_seconds + seconds
                    self.log.write({"kind": "train", "step": step, "loss": loss, "accuracy": acc, "lr": lr,
                                    "seconds": round(seconds, 4)})
                    stopped_early = self.early_stop(step)
                    if stopped_early:
                        break
                    if config.checkpoint_every and step % config.checkpoint_every == 0 and step < config.steps:
                        save_checkpoint(a, self.run_dir, step, self.sampler, self.train_seconds)
                    bar.update(1)
                    bar.set_postfix(loss=f"{loss:.3f}", acc=f"{acc:.2f}",
                                    **({"val_acc": f"{self.last_val['accuracy']:.3f}"} if self.last_val else {}))
                    if stop_all > 0 and step < config.steps:
                        # Ctrl-C: the step just finished is complete, so checkpoint exactly here.
                        bar.close()
                        save_checkpoint(a, self.run_dir, step, self.sampler, self.train_seconds)
                        raise WhowroteError(f"interrupted: checkpoint saved at step {step}; continue with: "
                                            f"whowrote train --resume {self.run_dir}", EXIT_INTERRUPTED)
            except KeyboardInterrupt:  # a second Ctrl-C: stop now, keep the last periodic checkpoint
                bar.close()
                raise WhowroteError(f"interrupted: the last periodic checkpoint is kept; continue with: "
                                    f"whowrote train --resume {self.run_dir}", EXIT_INTERRUPTED) from None
        bar.close()
        return stopped_early
