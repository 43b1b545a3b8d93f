"""Fine-tune the encoder on balanced batches, as in the study, resumably, on `accelerate`.

Each step: `per_class` random training windows per label -> cross-entropy -> AdamW with a
small learning rate (warm-up and decay optional) -> gradient clipping. The same loop runs
on CPU, one GPU (bf16 autocast) or several (`accelerate launch -m whowrote train ...`,
each process drawing its own windows). Every step is appended to metrics.jsonl; a
checkpoint (safetensors weights, optimizer, scheduler, RNG, sampler) is written atomically
every `checkpoint_every` steps and on Ctrl-C; `--resume RUN` continues bit for bit on CPU.
`fit` trains and saves model/; `whowrote.pipeline.train` adds evaluation, probes and plots.

    whowrote train --preset cpu --data-dir ../shared/corpora
"""

from __future__ import annotations

import dataclasses
import json
import math
import shutil
import signal
import time
from pathlib import Path
from typing import Any

import torch

from ..config import Config, load_run_config
from ..data.prepare import normalise_spec, prepare
from ..data.split import BalancedSampler
from ..errors import EXIT_DIVERGED, EXIT_INTERRUPTED, WhowroteError
from ..evaluation.metrics import classification_metrics, predict_logits
from ..hardware import describe, fast_bf16
from ..layout import RunFiles
from . import runfolder
from .model import add_lora, freeze_lower, load, merge_lora

CHECKPOINT_FORMAT = "whowrote.checkpoint/1"


class _StopFlag:
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


def _mixed_precision(config: Config) -> str:
    """auto: bf16 autocast where the hardware runs it natively (a GPU with bf16, a CPU with
    AMX or AVX512-BF16), fp32 elsewhere (docs/decisions.md: bf16 training on the CPU)."""
    if config.mixed_precision != "auto":
        return config.mixed_precision
    return "bf16" if fast_bf16("cuda" if torch.cuda.is_available() else "cpu") else "no"


def _accelerator(config: Config):
    """An Accelerator with this run's settings. accelerate keeps one state per process and
    refuses a second Accelerator with other settings ("AcceleratorState has already been
    initialized"), so a second `train()` in one Python process (a notebook, a test session on
    a GPU machine: found by benchmarks/device_tests.sh) would fail; a lone process starts it
    afresh, while the ranks of a distributed launch keep theirs."""
    from accelerate import Accelerator
    from accelerate.state import AcceleratorState, PartialState

    if PartialState._shared_state and PartialState().num_processes == 1:
        AcceleratorState._reset_state(reset_partial_state=True)
    # cpu=True without a GPU: under `accelerate launch --multi_gpu` the processes then form
    # gloo ranks (DistributedType.MULTI_CPU) instead of each believing it is alone.
    return Accelerator(mixed_precision=_mixed_precision(config), cpu=not torch.cuda.is_available())


def _augmenters(config: Config, prep, tokenizer) -> list:
    """What training varies so the model cannot learn it: names, typing slips, sprinkled
    words, and (token cutoff) which words are there to read."""
    from ..data.augment import NameSwap, TokenMask, Typos, WordSprinkle
    from ..text.topics import topic_words

    out = []
    if prep.mask_id is not None and config.name_swap > 0:
        out.append(NameSwap(prep.mask_id, prep.swap_names, config.name_swap))
    if config.sprinkle > 0:  # before the typos, so sprinkled words get slips like the rest
        words = topic_words(dict(zip(prep.labels, prep.texts)))
        out.append(WordSprinkle(tokenizer, sorted({w for ws in words.values() for w in ws}), config.sprinkle))
    if config.typos > 0:
        out.append(Typos(tokenizer, config.typos))
    if config.token_mask > 0:  # last: a masked piece is never mistyped or swapped back
        if tokenizer.mask_token_id is None:
            raise WhowroteError("--token-mask needs a tokenizer with a mask token ([MASK]); this model's has none")
        out.append(TokenMask(tokenizer.mask_token_id, config.token_mask))
    return out


class _Phases:
    """Wall time of each phase of a run, for report.json and the closing line."""

    def __init__(self):
        self.start = self.last = time.perf_counter()
        self.phases: dict[str, float] = {}

    def done(self, phase: str) -> None:
        now = time.perf_counter()
        self.phases[phase] = now - self.last
        self.last = now

    def report(self) -> dict:
        # rounded last: a sum of rounded phases could pass the rounded whole
        judge_ready = sum(v for k, v in self.phases.items() if k != "validity probes")
        return {**{k: round(v, 1) for k, v in self.phases.items()}, "until the model folder judges": round(judge_ready, 1),
                "whole run": round(self.last - self.start, 1)}

    def summary(self) -> str:
        r = self.report()
        return (f"{r['whole run']:.0f} s in all: " + ", ".join(f"{k} {v:.0f} s" for k, v in self.phases.items())
                + f"; the model folder could judge after {r['until the model folder judges']:.0f} s")


def _negatives(config: Config, prep, tokenizer) -> list:
    """The "neither" windows training makes (the sampler's negatives): an author's words in
    no order of theirs, a Markov chain over an author's words, and another author's passage
    stuffed with the authors' words."""
    from ..data.augment import Chain, Scramble, Stuff
    from ..text.topics import topic_words

    out = []
    if config.scramble > 0:
        out.append((config.scramble, "authors", Scramble(tokenizer)))
    if config.chain > 0:
        out.append((config.chain, "authors", Chain(tokenizer)))
    if config.stuff > 0:
        # words ranked 41-300: the validity probes stuff with each author's top 40 (topic_words'
        # default), so what they measure is words this training never stuffed with
        words = topic_words(dict(zip(prep.labels, prep.texts)), top=300)
        mine = sorted({w for label, ws in words.items() if label != config.background for w in ws[40:]})
        out.append((config.stuff, "own", Stuff(tokenizer, mine, 1.0)))
    return out


def _optimizer(model, config: Config):
    # No weight decay on biases and LayerNorm weights, as BERT was pretrained.
    decay, no_decay = [], []
    for p in model.parameters():
        if p.requires_grad:  # with LoRA, only adapters and the head
            (no_decay if p.ndim < 2 else decay).append(p)
    groups = [{"params": decay, "weight_decay": config.weight_decay}, {"params": no_decay, "weight_decay": 0.0}]
    return torch.optim.AdamW(groups, lr=config.lr)


def _save_checkpoint(accelerator, run_dir: Path, step: int, sampler: BalancedSampler, train_seconds: float) -> None:
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


def _checkpoint_dir(run_dir: Path) -> Path:
    ckpt, _, old = RunFiles(run_dir).checkpoints()
    if not ckpt.is_dir() and old.is_dir():
        ckpt = old  # a crash between the two renames of a swap
    return ckpt


def checkpoint_step(run_dir: Path) -> int:
    state = _checkpoint_dir(run_dir) / "trainer_state_0.json"
    return int(json.loads(state.read_text())["step"]) if state.is_file() else 0


def _load_checkpoint(accelerator, run_dir: Path, sampler: BalancedSampler) -> tuple[int, float]:
    ckpt = _checkpoint_dir(run_dir)
    state_path = ckpt / f"trainer_state_{accelerator.process_index}.json"
    if not state_path.is_file():
        raise WhowroteError(f"{run_dir} has no checkpoint to resume from")
    accelerator.load_state(str(ckpt))
    state = json.loads(state_path.read_text())
    sampler.load_state_dict(state["sampler"])
    return int(state["step"]), float(state.get("train_seconds", 0.0))


def _truncate_metrics(path: Path, step: int) -> None:
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


@dataclasses.dataclass
class Fitted:
    """What `fit` leaves for the caller: the run folder, and on the main process the trained
    model (unwrapped, fp32) and tokenizer, so evaluation needs no reload."""

    run_dir: Path
    config: Config
    accelerator: Any
    clock: _Phases
    model: Any = None
    tokenizer: Any = None

    @property
    def is_main(self) -> bool:
        return self.accelerator.is_main_process


def fit(config: Config | None = None, run_dir: str | Path | None = None, name: str | None = None,
        resume: bool = False, progress: bool = True, steps: int | None = None) -> Fitted:
    """Train and save model/ (no evaluation: `whowrote.pipeline.train` is the whole run).
    Pass `run_dir` with `resume=True` to continue a run, and `steps` to extend it to that
    many steps (the schedule stretches to the new end)."""
    from accelerate.utils import set_seed
    from transformers import get_scheduler

    if resume:
        run_dir, config = _resumed(run_dir, steps)
    clock = _Phases()
    accelerator = _accelerator(config)
    set_seed(config.seed)  # before the head is created: its initial weights come from the seed
    model, tokenizer = load(config.model, config.labels)
    freeze_lower(model, config.freeze_layers)
    if config.lora_r:
        model = add_lora(model, config.lora_r)
    prep = prepare(config, tokenizer)
    clock.done("set-up and data")
    augment = _augmenters(config, prep, tokenizer)  # before the run folder: a bad setting leaves nothing behind
    run_dir = Path(run_dir) if resume else _new_run_dir(accelerator, config, name, prep)
    sampler = _sampler(config, prep, tokenizer, augment, accelerator.process_index)
    val_ids, val_y = prep.windows("val", config.eval_windows_per_class)
    optimizer = _optimizer(model, config)
    scheduler = get_scheduler(config.schedule, optimizer, num_warmup_steps=round(config.warmup_frac * config.steps),
                              num_training_steps=config.steps)
    # The scheduler is not passed to prepare(): accelerate would step it once per process,
    # but here every process takes the same number of steps.
    model, optimizer = accelerator.prepare(model, optimizer)
    accelerator.register_for_checkpointing(scheduler)
    loop = _Loop(accelerator, model, optimizer, scheduler, sampler, config, run_dir,
                 _MetricsLog(accelerator, RunFiles(run_dir).metrics, model, val_ids, val_y, prep.labels))
    if resume:
        loop.step, loop.train_seconds = _load_checkpoint(accelerator, run_dir, sampler)
        loop.log.truncate(loop.step)
    if progress and accelerator.is_main_process:
        print(f"whowrote: training on {describe(accelerator.device)}; mixed precision {accelerator.mixed_precision}")
    stopped_early = loop.run(progress)
    accelerator.wait_for_everyone()
    fitted = Fitted(run_dir, config, accelerator, clock)
    if accelerator.is_main_process:
        fitted.model, fitted.tokenizer = merge_lora(accelerator.unwrap_model(model)).float(), tokenizer
        runfolder.save_model(fitted.model, tokenizer, RunFiles(run_dir).model, prep.labels, config.seq_len,
                             normalise_spec(config, tokenizer).to_dict())
        clock.done("training")
        runfolder.write_json(RunFiles(run_dir).report, {
            "steps": loop.step, "train_seconds": round(loop.train_seconds, 2), "precision": accelerator.mixed_precision,
            "hardware": describe(accelerator.device), **({"stopped_early": stopped_early} if stopped_early else {})})
    return fitted


def _resumed(run_dir, steps: int | None) -> tuple[Path, Config]:
    """The run folder and config of a run to resume (extended to `steps` if given)."""
    run_dir = runfolder.check_run_dir(run_dir)
    config = load_run_config(run_dir)
    if not runfolder.has_checkpoint(run_dir):
        raise WhowroteError(f"{run_dir} has no checkpoint to resume from"
                            + (" (it finished: its model is in model/)" if RunFiles(run_dir).model.is_dir() else ""))
    if steps is not None:
        if steps <= checkpoint_step(run_dir):
            raise WhowroteError(f"--steps {steps}: the run is already at step {checkpoint_step(run_dir)}")
        config = dataclasses.replace(config, steps=steps)
        runfolder.update_config(run_dir, steps=steps)
    return run_dir, config


def _new_run_dir(accelerator, config: Config, name: str | None, prep) -> Path:
    """The main process names and creates the folder; the others learn its name."""
    from accelerate.utils import broadcast_object_list

    names = [runfolder.create_run_dir(config, name).name if accelerator.is_main_process else None]
    broadcast_object_list(names)
    run_dir = Path(config.output_dir) / names[0]
    if accelerator.is_main_process:
        runfolder.write_config(run_dir, config, prep.books, prep.summary(), str(accelerator.device), prep.top_names)
    return run_dir


def _sampler(config: Config, prep, tokenizer, augment: list, process_index: int) -> BalancedSampler:
    per_label = [config.background_per_class if label == config.background and config.background_per_class
                 else config.per_class for label in prep.labels]
    return BalancedSampler(prep.streams, [p["train"] for p in prep.parts], prep.width, per_label,
                           seed=config.seed * 7919 + process_index, cls_id=prep.cls_id, sep_id=prep.sep_id,
                           by_work=config.sample_by == "work", augment=augment,
                           background=prep.labels.index(config.background) if config.background else None,
                           negatives=_negatives(config, prep, tokenizer))


class _MetricsLog:
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
            _truncate_metrics(self.path, step)


class _Loop:
    """The training loop: `run` takes the steps from `step` to the config's end, validating,
    stopping early, checkpointing and stopping cleanly on Ctrl-C; `one_step` is one batch."""

    def __init__(self, accelerator, model, optimizer, scheduler, sampler, config: Config, run_dir: Path, log: _MetricsLog):
        self.accelerator, self.model, self.optimizer, self.scheduler = accelerator, model, optimizer, scheduler
        self.sampler, self.config, self.run_dir, self.log = sampler, config, run_dir, log
        self.step, self.train_seconds = 0, 0.0
        self.best_val, self.since_best, self.last_val = math.inf, 0, {}

    def one_step(self, stop: _StopFlag) -> tuple[float, float, float, float]:
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
        with _StopFlag() as stop:
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
                        _save_checkpoint(a, self.run_dir, step, self.sampler, self.train_seconds)
                    bar.update(1)
                    bar.set_postfix(loss=f"{loss:.3f}", acc=f"{acc:.2f}",
                                    **({"val_acc": f"{self.last_val['accuracy']:.3f}"} if self.last_val else {}))
                    if stop_all > 0 and step < config.steps:
                        # Ctrl-C: the step just finished is complete, so checkpoint exactly here.
                        bar.close()
                        _save_checkpoint(a, self.run_dir, step, self.sampler, self.train_seconds)
                        raise WhowroteError(f"interrupted: checkpoint saved at step {step}; continue with: "
                                            f"whowrote train --resume {self.run_dir}", EXIT_INTERRUPTED)
            except KeyboardInterrupt:  # a second Ctrl-C: stop now, keep the last periodic checkpoint
                bar.close()
                raise WhowroteError(f"interrupted: the last periodic checkpoint is kept; continue with: "
                                    f"whowrote train --resume {self.run_dir}", EXIT_INTERRUPTED) from None
        bar.close()
        return stopped_early
