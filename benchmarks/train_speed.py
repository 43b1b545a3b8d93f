"""Training speed: whowrote's loop against a plain transformers.Trainer, same model, batch
and length; and the time the `cpu` preset takes to pass 99% validation accuracy.

    .venv/bin/python benchmarks/train_speed.py --data-dir ../shared/corpora [--run runs/X]

Prints seconds per step for both (median of the timed steps, after warm-up) and their
ratio, the GFLOP/s achieved against the machine's fp32 matmul peak, and from a run's
metrics the training time until validation accuracy reaches 99% and until it comes within
0.01 of its final value. With --run, those are read from that run; without, a fresh `cpu`
preset run is trained first (about 4 minutes on 2 cores). `--readme` writes them into the
README's bench-train section.
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import tempfile
import time
from pathlib import Path

import torch

sys.path.insert(0, str(Path(__file__).resolve().parent))
from machine import bert_flops_per_token, describe, matmul_gflops, publish, run_benchmark  # noqa: E402


def whowrote_seconds_per_step(data_dir: str, steps: int, per_class: int, seq_len: int, out: Path) -> float:
    from whowrote.config import resolve
    from whowrote.pipeline import train

    config = resolve("cpu", data_dir=data_dir, steps=steps, per_class=per_class, seq_len=seq_len,
                     eval_every=0, checkpoint_every=0, output_dir=str(out))
    run = train(config, name="speed", progress=False)
    rows = [json.loads(l) for l in (run / "metrics.jsonl").read_text().splitlines()]
    return statistics.median(r["seconds"] for r in rows if r["kind"] == "train" and r["step"] > 2)


def trainer_seconds_per_step(data_dir: str, steps: int, per_class: int, seq_len: int, out: Path) -> float:
    from transformers import Trainer, TrainerCallback, TrainingArguments

    from whowrote.config import resolve
    from whowrote.data.prepare import prepare
    from whowrote.data.split import BalancedSampler
    from whowrote.model.bert import load

    config = resolve("cpu", data_dir=data_dir, seq_len=seq_len)
    torch.manual_seed(0)
    model, tokenizer = load(config.model, config.labels)
    prep = prepare(config, tokenizer)
    sampler = BalancedSampler(prep.streams, [p["train"] for p in prep.parts], prep.width, per_class, 0, prep.cls_id, prep.sep_id)
    rows = []
    for _ in range(steps):
        ids, labels = sampler.draw()
        rows += [{"input_ids": torch.tensor(i), "attention_mask": torch.ones(len(i), dtype=torch.long),
                  "labels": torch.tensor(l)} for i, l in zip(ids, labels)]

    class Clock(TrainerCallback):
        def __init__(self):
            self.times, self.t0 = [], 0.0
        def on_step_begin(self, args, state, control, **kw):
            self.t0 = time.perf_counter()
        def on_step_end(self, args, state, control, **kw):
            self.times.append(time.perf_counter() - self.t0)

    clock = Clock()
    args = TrainingArguments(output_dir=str(out / "trainer"), max_steps=steps, per_device_train_batch_size=2 * per_class,
                             learning_rate=config.lr, weight_decay=config.weight_decay, warmup_steps=round(config.warmup_frac * steps),
                             max_grad_norm=config.max_grad_norm, use_cpu=True, report_to=[], save_strategy="no",
                             logging_steps=10**6, disable_tqdm=True, dataloader_num_workers=0, seed=0)
    Trainer(model=model, args=args, train_dataset=rows, callbacks=[clock]).train()
    return statistics.median(clock.times[2:])


def time_to_usable(run: Path, target: float = 0.99) -> dict:
    """From a run's metrics: training seconds until validation accuracy first reaches
    `target`, and until it first comes within 0.01 of its final value (what a 3-way run
    with a background label, which never reaches 99%, can be judged by)."""
    rows = [json.loads(l) for l in (run / "metrics.jsonl").read_text().splitlines()]
    elapsed, seconds_at = 0.0, {}
    for r in rows:
        if r["kind"] == "train":
            elapsed += r["seconds"]
            seconds_at[r["step"]] = elapsed
    val = [r for r in rows if r["kind"] == "val"]
    hit = next((r["step"] for r in val if r["accuracy"] >= target), None)
    near = next((r["step"] for r in val if r["accuracy"] >= val[-1]["accuracy"] - 0.01), None) if val else None
    return {"target_step": hit, "target_s": seconds_at.get(hit), "near_final_step": near,
            "near_final_s": seconds_at.get(near), "final_accuracy": val[-1]["accuracy"] if val else None, "total_s": elapsed}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--data-dir", default="../shared/corpora")
    parser.add_argument("--steps", type=int, default=12)
    parser.add_argument("--per-class", type=int, default=16)
    parser.add_argument("--seq-len", type=int, default=128)
    parser.add_argument("--run", help="a finished run to read the time to a usable judge from (default: train the cpu preset)")
    parser.add_argument("--readme", help="write the figures into this README's bench-train section")
    args = parser.parse_args()
    from transformers import AutoConfig
    from transformers.utils import logging

    from whowrote.config import check_run_dir
    from whowrote.model.bert import resolve_model_path

    run = check_run_dir(args.run) if args.run else None  # before minutes of timing, not after

    logging.set_verbosity_error()
    peak = matmul_gflops()
    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        ours = whowrote_seconds_per_step(args.data_dir, args.steps, args.per_class, args.seq_len, tmp)
        theirs = trainer_seconds_per_step(args.data_dir, args.steps, args.per_class, args.seq_len, tmp)
        # a training step is about three forward passes' worth of arithmetic (forward, and a backward twice as dear)
        flops = 3 * bert_flops_per_token(AutoConfig.from_pretrained(resolve_model_path("bundled")), args.seq_len)
        gflops = flops * 2 * args.per_class * args.seq_len / ours / 1e9
        machine = describe(peak)
        lines = [f"Machine: {machine}.",
                 f"- a training step of {2 * args.per_class} x {args.seq_len} tokens (bundled MiniLM, median of steps 3..{args.steps}): "
                 f"whowrote {ours:.3f} s, `transformers.Trainer` {theirs:.3f} s ({theirs / ours:.2f}x); {gflops:.0f} GFLOP/s, "
                 f"{gflops / peak:.0%} of the fp32 matmul peak"]
        if run is None:
            from whowrote.config import resolve
            from whowrote.pipeline import train

            run = train(resolve("cpu", data_dir=args.data_dir, output_dir=str(tmp)), name="cpu", progress=False)
        t = time_to_usable(run)
        reached = (f"validation accuracy first >= 0.99 at step {t['target_step']} ({t['target_s']:.0f} s of training)"
                   if t["target_step"] else "validation accuracy never reached 0.99")
        lines.append(f"- run `{run.name}`: {reached}; within 0.01 of its final {t['final_accuracy']:.3f} at step "
                     f"{t['near_final_step']} ({t['near_final_s']:.0f} s); all its training {t['total_s']:.0f} s")
        publish("\n".join(lines), args.readme, "bench-train")


if __name__ == "__main__":
    run_benchmark(main)
