"""Judge throughput: whowrote's Judge against transformers.pipeline("text-classification"),
on the same texts (held-out passages of the run's books) and the same model.

    .venv/bin/python benchmarks/judge_speed.py runs/X --data-dir ../shared/corpora --n 256

Prints passages per second for each, their ratio, and whether the labels agree. The
pipeline is run as users usually run it (one text at a time) and with batch_size=32.
"""

from __future__ import annotations

import argparse
import time

import torch


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("run")
    parser.add_argument("--data-dir", default=None)
    parser.add_argument("--n", type=int, default=256, help="passages to score")
    args = parser.parse_args()

    from transformers import pipeline
    from transformers.utils import logging

    from whowrote import Judge
    from whowrote.config import load_run_config
    from whowrote.data import prepare
    from whowrote.judge import model_folder

    logging.set_verbosity_error()
    judge = Judge.load(args.run)
    config = load_run_config(args.run)
    if args.data_dir:
        config.data_dir = args.data_dir
    prep = prepare(config, judge.tokenizer)
    ids, _ = prep.windows("test", limit_per_class=args.n // len(prep.labels))
    texts = [judge.tokenizer.decode(row[1:-1]) for row in ids]
    # Vary the lengths, as real inputs do: every third passage cut to a third.
    texts = [t if i % 3 else t[: len(t) // 3] for i, t in enumerate(texts)]

    judge.score(texts)  # warm-up on the very texts: every batch shape seen once (GPU kernels, allocator)
    t0 = time.perf_counter()
    ours = judge.score(texts)
    t_ours = time.perf_counter() - t0

    device = 0 if torch.cuda.is_available() else -1
    clf = pipeline("text-classification", model=str(model_folder(args.run)), device=device)
    kwargs = {"truncation": True, "max_length": judge.seq_len}
    clf(texts, batch_size=32, **kwargs)  # warm-up, as for the judge
    t0 = time.perf_counter()
    theirs = clf(texts, **kwargs)
    t_pipe = time.perf_counter() - t0
    t0 = time.perf_counter()
    clf(texts, batch_size=32, **kwargs)
    t_pipe32 = time.perf_counter() - t0

    agree = sum(a.label == b["label"] for a, b in zip(ours, theirs))
    n = len(texts)
    print(f"device: {'cuda' if device == 0 else 'cpu'}, {n} passages of up to {judge.seq_len} tokens, torch threads {torch.get_num_threads()}")
    print(f"whowrote Judge                 {n / t_ours:8.1f} passages/s")
    print(f"pipeline (one at a time)       {n / t_pipe:8.1f} passages/s   ratio {t_pipe / t_ours:5.2f}x")
    print(f"pipeline (batch_size=32)       {n / t_pipe32:8.1f} passages/s   ratio {t_pipe32 / t_ours:5.2f}x")
    print(f"identical labels: {agree}/{n}")


if __name__ == "__main__":
    main()
