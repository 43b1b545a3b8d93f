"""Training speed: whowrote's loop against a plain transformers.Trainer, same model, batch
and length; and the time the `cpu` preset takes to pass 99% validation accuracy.

    .venv/bin/python benchmarks/train_speed.py --data-dir ../shared/corpora [--run runs/X]

Prints seconds per step for both (median of the timed steps, after warm-up) and their
ratio. With --run, time-to-99% is read from that run's metrics.jsonl; without, a fresh
`cpu` preset run is trained first (about 3-4 minutes on 2 cores).
"""

from __future__ import annotations

import argparse
import json
import statistics
import tempfile
import time
from pathlib import Path

import torch


def whowrote_seconds_per_step(data_dir: str, steps: int, per_class: int, seq_len: int, out: Path) -> float:
    from whowrote.config import resolve
    from whowrote.training.train import train

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
    from whowrote.training.model import load

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


def time_to_99(run: Path) -> tuple[int | None, float | None, float]:
    rows = [json.loads(l) for l in (run / "metrics.jsonl").read_text().splitlines()]
    elapsed, seconds_at = 0.0, {}
    for r in rows:
        if r["kind"] == "train":
            elapsed += r["seconds"]
            seconds_at[r["step"]] = elapsed
    hit = next((r["step"] for r in rows if r["kind"] == "val" and r["accuracy"] >= 0.99), None)
    return hit, (seconds_at[hit] if hit else None), elapsed


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--data-dir", default="../shared/corpora")
    parser.add_argument("--steps", type=int, default=12)
    parser.add_argument("--per-class", type=int, default=16)
    parser.add_argument("--seq-len", type=int, default=128)
    parser.add_argument("--run", help="a finished cpu-preset run to read time-to-99%% from")
    args = parser.parse_args()
    from transformers.utils import logging

    logging.set_verbosity_error()
    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        ours = whowrote_seconds_per_step(args.data_dir, args.steps, args.per_class, args.seq_len, tmp)
        theirs = trainer_seconds_per_step(args.data_dir, args.steps, args.per_class, args.seq_len, tmp)
        print(f"device: {'cuda' if torch.cuda.is_available() else 'cpu'}, torch threads {torch.get_num_threads()}")
        print(f"batch {2 * args.per_class} x {args.seq_len} tokens, bundled MiniLM, median of steps 3..{args.steps}")
        print(f"whowrote loop        {ours:7.3f} s/step")
        print(f"transformers.Trainer {theirs:7.3f} s/step")
        print(f"ratio Trainer/whowrote {theirs / ours:5.2f}x")
        if args.run:
            run = Path(args.run)
        else:
            from whowrote.config import resolve
            from whowrote.training.train import train

            run = train(resolve("cpu", data_dir=args.data_dir, output_dir=str(tmp)), name="cpu", progress=False)
        step, secs, total = time_to_99(run)
        if step:
            print(f"cpu preset: validation accuracy >= 99% first at step {step}, after {secs:.0f} s of training "
                  f"(whole run {total:.0f} s)")
        else:
            print(f"cpu preset: validation accuracy never reached 99% (whole run {total:.0f} s)")


if __name__ == "__main__":
    main()
