"""Judge throughput: whowrote's Judge against transformers.pipeline("text-classification"),
on the same texts (held-out passages, as published) and the same model.

    .venv/bin/python benchmarks/judge_speed.py runs/X --n 256 [--precision fp32] [--readme docs/benchmarks.md]
    ATEN_CPU_CAPABILITY=avx2 ONEDNN_MAX_CPU_ISA=AVX2 MKL_ENABLE_INSTRUCTIONS=AVX2 .venv/bin/python benchmarks/judge_speed.py runs/X --precision fp32

Prints passages per second for each (the judge with and without its checks' second readings), their ratio, the model GFLOP/s achieved against the
machine's fp32 matmul peak, and how far the two agree (identical labels, mean |dP|), with
the machine. The pipeline gets the judge's normalised text (it knows no normalisation) and
runs one text at a time and with batch_size=32; it knows BERT only, so where the run has a
char partner the judge's time includes the partner (its share printed) and the agreement
mixes the partner into the pipeline's output as the judge does. `--readme` adds a row to the README's
bench-judge table (one row per machine and precision).
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import numpy as np
import torch

sys.path.insert(0, str(Path(__file__).resolve().parent))
from machine import bert_flops_per_token, describe, matmul_gflops, run_benchmark  # noqa: E402

from whowrote.config import JUDGE_PRECISIONS  # noqa: E402


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("run")
    parser.add_argument("--n", type=int, default=256, help="passages to score")
    parser.add_argument("--data-dir", help="folder of pg<ID>.txt files (default: the run's)")
    parser.add_argument("--precision", default="auto", choices=JUDGE_PRECISIONS)
    parser.add_argument("--readme")
    args = parser.parse_args()

    from transformers import pipeline
    from transformers.utils import logging

    from whowrote import Judge
    from whowrote.config import load_run_config
    from whowrote.evaluation.validate import held_out_passages
    from whowrote.files import readme_section, update_readme_section
    from whowrote.judge.loading import model_folder
    from whowrote.model.metrics import softmax
    from whowrote.text.normalise import normalise

    logging.set_verbosity_error()
    peak = matmul_gflops()
    judge = Judge.load(args.run, precision=args.precision)
    config = load_run_config(args.run)
    if args.data_dir:
        config.data_dir = args.data_dir
    if any(config.heldout.get(lab) for lab in config.author_labels):
        texts = [p["text"] for p in held_out_passages(judge, config, per_work=args.n)][: args.n]
    else:  # a run without held-out works (the study's presets): its in-book test passages
        from whowrote.data.prepare import prepare

        ids, _ = prepare(config, judge.tokenizer, spec=judge.normalise).windows("test", limit_per_class=args.n // len(config.labels))
        texts = [judge.tokenizer.decode(row[1:-1]) for row in ids]
    tokens = sum(len(ids) + 2 for ids, _ in judge.encode(texts))

    judge.score(texts)  # warm-up on the very texts: every batch shape seen once
    t0 = time.perf_counter()
    ours = judge.score(texts)
    t_ours = time.perf_counter() - t0
    checked = judge.order_check, judge.keyword_check, judge.coherence, judge.repetition_check
    judge.order_check = judge.keyword_check = judge.repetition_check = False  # the same judge without its checks
    judge.coherence = None
    t0 = time.perf_counter()
    unchecked = judge.score(texts)
    t_unchecked = time.perf_counter() - t0
    judge.order_check, judge.keyword_check, judge.coherence, judge.repetition_check = checked
    t0 = time.perf_counter()
    for t in texts:  # what the judge does before the model, on one core: where a GPU runs the model, it is the cost
        normalise(t, judge.normalise)
    t_text = time.perf_counter() - t0
    windows = [ids[:judge.window] for ids, _ in judge.encode(texts)]  # each passage is one window
    t0 = time.perf_counter()
    char_logits = judge.partner.window_logits(judge.tokenizer, windows) if judge.partner else None
    t_partner = time.perf_counter() - t0

    device = 0 if torch.cuda.is_available() else -1
    clf = pipeline("text-classification", model=str(model_folder(args.run)), device=device, top_k=None)
    plain = [normalise(t, judge.normalise).text for t in texts]
    kwargs = {"truncation": True, "max_length": judge.seq_len}
    clf(plain, batch_size=32, **kwargs)  # warm-up, as for the judge
    t0 = time.perf_counter()
    clf(plain, **kwargs)
    t_pipe = time.perf_counter() - t0
    t0 = time.perf_counter()
    theirs = clf(plain, batch_size=32, **kwargs)
    t_pipe32 = time.perf_counter() - t0

    # agreement on the same footing: the pipeline's softmax, temperature and open set applied as the judge does
    from whowrote.model.openset import decide, split_probs

    logits = np.log([[next(o["score"] for o in out if o["label"] == l) for l in judge.labels] for out in theirs])
    if judge.partner:  # the pipeline knows BERT only: the judge's char partner is mixed in as the judge mixes it
        logits = judge.partner.mix(logits, char_logits)
    probs = softmax(logits, judge.temperature)
    labels = decide(probs, judge.labels, judge.open_set)
    authors = split_probs(probs, judge.labels, judge.open_set.background)[0]
    same = np.mean([a.label == b for a, b in zip(unchecked, labels)])  # the pipeline has no word-order check
    dp = np.mean([abs(a.probs[l] - p[i]) for a, p in zip(unchecked, authors) for i, l in enumerate(judge.author_labels)])
    n = len(texts)
    gflops = bert_flops_per_token(judge.model.config, judge.seq_len) * tokens / t_ours / 1e9
    machine = describe(peak)
    print(f"machine: {machine}")
    print(f"{n} passages of up to {judge.seq_len} tokens; judge precision: {judge.precision}")
    print(f"whowrote Judge                 {n / t_ours:8.1f} passages/s  ({gflops:.0f} GFLOP/s of model work, "
          f"{gflops / peak:.0%} of the fp32 matmul peak)")
    print(f"  of which text normalisation {n / t_text:8.1f} passages/s alone (one core, with offsets): "
          f"{t_text / t_ours:.0%} of the judge's time")
    if any(checked):
        reread = sum(s.order_gain is not None or s.keyword_gain is not None for s in ours)
        changed = np.mean([a.label != b.label for a, b in zip(ours, unchecked)])
        print(f"  without its checks (repetition, coherence, word order, keywords) {n / t_unchecked:8.1f} passages/s (they read {reread} of {n} "
              f"again, {(t_ours - t_unchecked) / t_ours:.0%} of the judge's time; they changed {changed:.3f} of the labels)")
    if judge.partner:
        print(f"  of which the char partner   {n / t_partner:8.1f} passages/s alone (decoding and n-grams): "
              f"{t_partner / t_ours:.0%} of the judge's time")
    print(f"pipeline (one at a time)       {n / t_pipe:8.1f} passages/s   judge is {t_pipe / t_ours:5.2f}x")
    print(f"pipeline (batch_size=32)       {n / t_pipe32:8.1f} passages/s   judge is {t_pipe32 / t_ours:5.2f}x")
    print(f"agreement with the pipeline (fp32; the judge without its word-order check): labels {same:.4f}, mean |dP| {dp:.5f}")
    if args.readme:
        row = (f"| {machine} | {judge.precision} | {n / t_ours:.1f} | {n / t_pipe32:.1f} | "
               f"**{t_pipe32 / t_ours:.2f}x** | {gflops:.0f} ({gflops / peak:.0%} of peak) | {same:.4f} / {dp:.5f} |")
        head = ("| machine | judge precision | judge passages/s | `pipeline` batch 32 passages/s | ratio | judge GFLOP/s "
                "| same labels / mean abs dP |\n|---|---|---|---|---|---|---|")
        old = readme_section(args.readme, "bench-judge").split("<!-- bench-judge:start -->")[1].split("<!-- bench-judge:end -->")[0]
        precision = judge.precision
        same_setup = f"| {machine.split(', fp32 matmul')[0]}"  # one row per machine and precision: a rerun replaces it
        rows = [r for r in old.strip().splitlines() if r.startswith("| ") and not r.startswith("| machine")
                and not (r.startswith(same_setup) and f"| {precision} |" in r)]
        update_readme_section(args.readme, "bench-judge", "\n".join([head, *rows, row]))


if __name__ == "__main__":
    run_benchmark(main)
