"""Fine-tune the encoder on balanced batches, as in the study, resumably, on `accelerate`.

Each step: `per_class` random training windows per label -> cross-entropy -> AdamW with a
small learning rate (warm-up and decay optional) -> gradient clipping. The same loop runs
on CPU, one GPU (bf16 autocast) or several (`accelerate launch -m whowrote train ...`,
each process drawing its own windows). Every step is appended to metrics.jsonl; a
checkpoint (safetensors weights, optimizer, scheduler, RNG, sampler) is written atomically
every `checkpoint_every` steps and on Ctrl-C; `--resume RUN` continues bit for bit on CPU.
`fit` builds the model, data, sampler and optimizer, runs the loop (`loop.py`) and saves
model/; `whowrote.pipeline.train` adds evaluation, probes and plots.

    whowrote train --preset cpu --data-dir ../shared/corpora
"""

from __future__ import annotations

import dataclasses
import time
from pathlib import Path
from typing import Any

import torch

from ..config import Config, load_run_config
from ..data.prepare import normalise_spec, prepare
from ..data.split import BalancedSampler
from ..errors import WhowroteError
from ..hardware import describe, fast_bf16
from ..layout import RunFiles
from ..model.bert import add_lora, freeze_lower, load, merge_lora
from . import runfolder
from .loop import Loop, MetricsLog, checkpoint_step, load_checkpoint


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
    loop = Loop(accelerator, model, optimizer, scheduler, sampler, config, run_dir,
                 MetricsLog(accelerator, RunFiles(run_dir).metrics, model, val_ids, val_y, prep.labels))
    if resume:
        loop.step, loop.train_seconds = load_checkpoint(accelerator, run_dir, sampler)
        loop.log.truncate(loop.step)
    if progress and accelerator.is_main_process:
        print(f"whowrote: training on {describe(accelerator.device)}; mixed precision {accelerator.mixed_precision}")
    stopped_early = loop.run(progress)
    accelerator.wait_for_everyone()
    fitted = Fitted(run_dir, config, accelerator, clock)
    if accelerator.is_main_process:
        # without accelerate's autocast wrapper: calibration reads it as it reads the saved folder
        fitted.model = merge_lora(accelerator.unwrap_model(model, keep_fp32_wrapper=False)).float()
        fitted.tokenizer = tokenizer
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
                           negatives=_negatives(config, prep, tokenizer), work_weights=_work_weights(config, prep))


def _work_weights(config: Config, prep) -> list | None:
    """The background's works weighed by era (`background_early_weight`), by the years their
    book records give (MANIFEST.tsv, else the background table); None: every work alike."""
    from ..text.background import ERAS, era

    if not config.background or config.background_early_weight == 1.0:
        return None
    years = [b["year"] for b in prep.books if b["label"] == config.background and b["role"] == "train"]  # in work order
    weights = [config.background_early_weight if era(year) == ERAS[0][0] else 1.0 for year in years]
    return [weights if label == config.background else None for label in prep.labels]
