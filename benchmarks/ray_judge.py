"""Batch-judging throughput: the local judge against `judge --engine ray` (Ray Data on this
machine), on the same JSONL records and the same model, with the machine printed beside.

    .venv/bin/python benchmarks/ray_judge.py runs/X --n 2000 [--data-dir ../shared/corpora] [--jsonl samples.jsonl]

Without --jsonl it writes `--n` records of ~120 words cut from the books in --data-dir (or the
run's data folder). Prints records/s for the local engine (the whole `Judge.score_records`
loop on all threads, model loaded and warm), and for Ray with one actor on every CPU and one
actor per CPU: the Ray Data execution (actors' start and model load included) and the whole
call (Ray's own start-up too), each against the local engine. Checks the Ray verdicts equal the local ones.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from machine import describe, run_benchmark  # noqa: E402


def write_records(data_dir: Path, n: int, path: Path, words: int = 120) -> None:
    """`n` passages of `words` words, taken round-robin from the middle of every book."""
    books = sorted(data_dir.glob("pg*.txt"))
    if not books:
        from whowrote.errors import WhowroteError

        raise WhowroteError(f"{data_dir}: no pg<ID>.txt books to cut records from (give --jsonl)")
    texts = [b.read_bytes().decode("utf-8", errors="replace").split() for b in books]
    with open(path, "w") as fh:
        for i in range(n):
            w = texts[i % len(texts)]
            start = len(w) // 10 + (i // len(texts)) * words
            fh.write(json.dumps({"id": f"r{i}", "text": " ".join(w[start : start + words])}) + "\n")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("run")
    parser.add_argument("--n", type=int, default=2000, help="records to write when no --jsonl is given")
    parser.add_argument("--data-dir", help="folder of pg<ID>.txt books to cut records from (default: the run's)")
    parser.add_argument("--jsonl", help="judge this JSONL file instead")
    parser.add_argument("--block-records", type=int, default=250)
    args = parser.parse_args()

    from whowrote import Judge
    from whowrote.batch.parts import Output
    from whowrote.batch.ray_judge import judge_with_ray
    from whowrote.config import load_run_config
    from whowrote.judge.inputs import jsonl_source

    machine = describe()
    tmp = Path(tempfile.mkdtemp(prefix="whowrote-bench-ray-"))
    records = Path(args.jsonl) if args.jsonl else tmp / "records.jsonl"
    if not args.jsonl:
        write_records(Path(args.data_dir or load_run_config(args.run).data_dir), args.n, records)
    n = sum(1 for _ in jsonl_source(str(records)))
    cpus = os.cpu_count() or 1

    judge = Judge.load(args.run)
    judge.score_records(list(jsonl_source(str(records)))[:64])  # warm-up
    t0 = time.perf_counter()
    local = [s.to_dict() for s in judge.score_records(jsonl_source(str(records)))]
    t_local = time.perf_counter() - t0
    print(f"machine: {machine}")
    print(f"{n} records, blocks of {args.block_records}, judge precision {judge.precision}")
    print(f"local engine                      {n / t_local:8.1f} records/s")
    for actors, actor_cpus in ((1, cpus), (cpus, 1)):
        out = tmp / f"out-{actors}"
        t0 = time.perf_counter()
        summary = judge_with_ray(args.run, [str(records)], str(out), actors=actors, actor_cpus=actor_cpus,
                                 block_records=args.block_records, progress=False)
        whole = time.perf_counter() - t0
        got = Output(str(out)).records()
        same = sum(g.get("label") == e.get("label") for g, e in zip(got, local)) / max(1, len(local))
        judging = summary["judging_seconds"]
        print(f"ray, {actors} actor(s) x {actor_cpus} CPU(s)   {n / judging:8.1f} records/s in Ray Data "
              f"({t_local / judging:.2f}x local), {n / whole:8.1f} records/s whole call "
              f"({t_local / whole:.2f}x, {whole - judging:.0f} s start-up); same labels as local {same:.4f}")


if __name__ == "__main__":
    run_benchmark(main)
