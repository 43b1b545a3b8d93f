"""`whowrote judge`: score texts, files, folders, stdin or JSONL with a trained classifier.

Output: a table for people (default), or one JSON object per line (`--json`) with the
input's id and extra fields carried through; `--windows` adds the per-window breakdown with
character offsets; `--report DIR` summarises the batch (per label and per JSONL field).
Exit codes: 0 all scored, 1 some records failed (each reported on stderr), 2 none could be
scored or bad usage/model.

    whowrote judge --model runs/x "The Queen had only one way of settling difficulties"
    cat samples.jsonl | whowrote judge --model runs/x --jsonl - --report out/
"""

from __future__ import annotations

import itertools
import json
import sys

from ..config import JUDGE_PRECISIONS
from ..errors import EXIT_BAD_INPUT, EXIT_OK, EXIT_PARTIAL, WhowroteError
from ..smooth import EDGES


def register(sub) -> None:
    p = sub.add_parser("judge", help="score texts with a trained classifier: P(label | text)")
    p.add_argument("inputs", nargs="*", help="text, file, folder of .txt, or - for stdin")
    p.add_argument("--model", required=True, help="a run folder or a model folder")
    p.add_argument("--jsonl", action="append", default=[], metavar="FILE",
                   help='JSONL input, one {"id", "text", ...} per line; - for stdin')
    p.add_argument("--json", action="store_true", help="one JSON object per line on stdout")
    p.add_argument("--windows", action="store_true", help="show the per-window breakdown")
    p.add_argument("--report", metavar="DIR", help="write a batch report (json, md, histogram) into DIR")
    p.add_argument("--group-by", action="append", metavar="FIELD", help="JSONL field(s) to group the report by")
    p.add_argument("--batch-size", type=int, default=32)
    p.add_argument("--stride", type=int, help="tokens between window starts (default: half a window)")
    p.add_argument("--explain", action="store_true",
                   help="also list the words that pushed BERT most towards and against the verdict "
                        "(integrated gradients; a char partner's share is not spread over words)")
    p.add_argument("--top", type=int, default=8, help="words listed each way with --explain")
    p.add_argument("--precision", default="auto", choices=JUDGE_PRECISIONS,
                   help="auto: bf16 on CUDA or a CPU with AMX/AVX512-BF16, else fp32; int8: dynamic "
                        "quantisation of the linear layers (CPU, on request only: ~1.8x pipeline with VNNI, "
                        "but 2.1-3.5%% of labels change, measured)")
    p.add_argument("--no-order-check", action="store_true",
                   help="skip the word-order check (a text given to an author is read again with its words "
                        "shuffled; word salad is 'neither'): faster on author-like text, fooled by word salad")
    p.add_argument("--no-keyword-check", action="store_true",
                   help="skip the keyword check (a text given to an author is read again without the author's "
                        "distinctive words; prose stuffed with them is 'neither'): faster, fooled by keyword stuffing")
    p.add_argument("--no-repetition-check", action="store_true",
                   help="skip the repetition check (a text given to an author whose windows say the same words over "
                        "and over is 'neither'): it reads no model, so this only lets a looping generator through")
    p.add_argument("--no-coherence-check", action="store_true",
                   help="skip the coherence check (a text given to an author is read by the pretrained encoder's "
                        "first layers; a word chain is 'neither' and S keeps p_coherent): faster, fooled by Markov text")
    p.add_argument("--quiet", action="store_true", help="no progress bar")
    b = p.add_argument_group("batch judging on Ray Data (pip install 'whowrote[ray]'; docs/usage.md#ray)")
    b.add_argument("--engine", default="local", choices=("local", "ray"),
                   help="local: this process (default) | ray: actors on a local Ray runtime or a cluster, "
                        "writing parts into --output that a rerun resumes")
    b.add_argument("--output", metavar="DIR", help="folder (or URI) the ray engine writes its parts into")
    b.add_argument("--format", default="jsonl", choices=("jsonl", "parquet"), help="the parts' format (ray engine)")
    b.add_argument("--address", help="a running Ray cluster to join, e.g. auto (default: a local runtime)")
    b.add_argument("--actors", type=int, help="actors that each load the model once (default: the cluster's CPUs / --actor-cpus)")
    b.add_argument("--actor-cpus", type=float, default=1, help="CPUs (torch threads) per actor (default 1)")
    b.add_argument("--block-records", type=int, default=1000, help="records per block: the unit of work and of resuming")
    g = p.add_argument_group("rolling attribution (who wrote which part of one long text)")
    g.add_argument("--rolling", metavar="FILE", help="P(label) along FILE, smoothed, with headings and change points")
    g.add_argument("--window", type=int, help="tokens per rolling window (default: the model's)")
    g.add_argument("--smooth-k", type=int, default=3, help="moving-mean width, odd (default 3)")
    g.add_argument("--edge", default="shrink", choices=EDGES, help="edge treatment of the moving mean")
    g.add_argument("--change-cost", type=float,
                   help="nats of evidence a change of hand must earn in the segmentation (default 20; higher: fewer changes)")
    g.add_argument("--among", metavar="LABELS", type=lambda v: [x.strip() for x in v.split(",") if x.strip()],
                   help="comma-separated labels the change points may choose from, e.g. alice,edgar for a text "
                        "known to be by the two (default: every label, 'neither' included)")
    g.add_argument("--out", default="rolling", help="folder for rolling.csv, rolling.json, rolling.png/.svg")
    p.set_defaults(func=run)


def _short_id(rid, width: int) -> str:
    rid = str(rid)
    return rid if len(rid) <= width else "\u2026" + rid[-(width - 1):]  # the end of a path says most


def _table_row(s, labels, width, neither: bool) -> str:
    if s.error:
        return f"{_short_id(s.id, width):<{width}}  ERROR  {s.error}"
    probs = "  ".join(f"{s.probs[l]:>8.4f}" for l in labels)
    if neither:
        probs += f"  {s.p_neither:>10.4f}"
    probs += f"  {s.s(max(s.probs, key=s.probs.get)):>6.4f}"  # S of the likeliest author, as the study scores
    return f"{_short_id(s.id, width):<{width}}  {s.label:<8}  {probs}  {s.windows:>7}  {','.join(s.flags) or '-'}"


MAX_EXPLAIN_CHARS = 1_000_000


def _materialise(record):
    """Read a record's chunks into memory (for --explain), turning read errors into record errors."""
    from ..judge.records import Record, read_error

    if record.error:
        return record
    try:
        text = "".join(record.chunks)
    except (UnicodeDecodeError, OSError) as exc:
        return Record(record.id, extra=record.extra, error=read_error(record, exc))
    if len(text) > MAX_EXPLAIN_CHARS:
        return Record(record.id, extra=record.extra, error=f"{record.id}: too long to explain (over 1M characters); drop --explain")
    return Record(record.id, [text], record.extra)


def run_rolling(args) -> int:
    import os
    from pathlib import Path

    import torch

    from ..files import write_json
    from ..judge.core import Judge
    from ..judge.rolling import CHANGE_COST
    from ..text.books import decode

    if args.inputs or args.jsonl:
        raise WhowroteError("judge: --rolling takes one file; give no other inputs")
    if args.smooth_k < 1 or args.smooth_k % 2 == 0:
        raise WhowroteError(f"judge: --smooth-k must be an odd positive integer, got {args.smooth_k}")
    path = Path(args.rolling)
    if not path.is_file():
        raise WhowroteError(f"{path}: no such file")
    data = path.read_bytes()
    if b"\x00" in data[:8192]:
        raise WhowroteError(f"{path} is a binary file, not text")
    out = Path(args.out)
    try:
        out.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise WhowroteError(f"cannot write to {out}: {exc.strerror}") from None
    torch.set_num_threads(os.cpu_count() or 1)
    judge = Judge.load(args.model, batch_size=args.batch_size, precision=args.precision)
    r = judge.rolling(decode(data, str(path)), window=args.window, stride=args.stride, smooth_k=args.smooth_k,
                      edge=args.edge, among=args.among,
                      change_cost=CHANGE_COST if args.change_cost is None else args.change_cost)
    write_json(out / "rolling.json", {**r.to_dict(), "source": str(path)})
    r.write_csv(out / "rolling.csv")
    for ext in ("png", "svg"):
        r.plot(out / f"rolling.{ext}", title=f"{path.name}: who wrote which part")
    print(f"{len(r.probs)} windows of {r.window} tokens every {r.stride}; {len(r.segments)} segment(s):")
    for s in r.segments:
        probs = "  ".join(f"P({l}) {p:.3f}" for l, p in s["mean_probs"].items())
        print(f"  tokens {s['token_start']:>7}-{s['token_end']:<7} chars {s['char_start']:>8}-{s['char_end']:<8} {s['label']:<8} {probs}")
    print(f"written to {out}/rolling.json, rolling.csv, rolling.png", file=sys.stderr)
    return EXIT_OK


def run_ray(args) -> int:
    from ..batch.ray_judge import judge_with_ray

    unsupported = [flag for flag, on in (("--rolling", args.rolling), ("--explain", args.explain),
                                         ("--report", args.report), ("--no-order-check", args.no_order_check),
                                         ("--no-keyword-check", args.no_keyword_check),
                                         ("--no-coherence-check", args.no_coherence_check),
                                         ("--no-repetition-check", args.no_repetition_check)) if on]
    if unsupported:
        raise WhowroteError(f"judge: {', '.join(unsupported)} work with the local engine only; drop --engine ray")
    if not args.output:
        raise WhowroteError("judge: --engine ray writes parts into a folder: give --output DIR")
    if not args.inputs and not args.jsonl:
        raise WhowroteError("judge: give files or folders to judge (JSONL, Parquet or text)")
    if args.batch_size < 1:
        raise WhowroteError("judge: --batch-size must be at least 1")
    s = judge_with_ray(args.model, args.inputs, args.output, jsonl=args.jsonl, fmt=args.format, address=args.address,
                       actors=args.actors, actor_cpus=args.actor_cpus, block_records=args.block_records,
                       batch_size=args.batch_size, stride=args.stride, precision=args.precision,
                       details=args.windows, progress=not args.quiet)
    for message in s["messages"]:
        print(f"whowrote: error: {message}", file=sys.stderr)
    print(f"{s['records_this_run']} records judged ({s['errors_this_run']} errors) in {s['blocks_this_run']} of "
          f"{s['blocks']} blocks, {s['seconds']:.1f} s; parts in {args.output}", file=sys.stderr)
    if s["errors_this_run"] and s["errors_this_run"] == s["records_this_run"]:
        return EXIT_BAD_INPUT
    return EXIT_PARTIAL if s["errors_this_run"] else EXIT_OK


def run(args) -> int:
    if args.engine == "ray":
        return run_ray(args)
    _check_local(args)
    if args.rolling:
        return run_rolling(args)
    import os

    import torch

    from ..judge.core import Judge
    from ..judge.inputs import jsonl_source, records_from_args

    torch.set_num_threads(os.cpu_count() or 1)  # the command owns the process; a library must not
    judge = Judge.load(args.model, batch_size=args.batch_size, stride=args.stride, precision=args.precision,
                       order_check=not args.no_order_check, keyword_check=not args.no_keyword_check,
                       coherence_check=not args.no_coherence_check, repetition_check=not args.no_repetition_check)
    records = itertools.chain(records_from_args(args.inputs), *(jsonl_source(j) for j in args.jsonl))
    if args.explain:  # explanations need each text again after scoring: hold them (modest inputs only)
        records = [_materialise(r) for r in records]
    labels, width = judge.author_labels, 24
    neither = bool(judge.open_set.background)
    progress = None
    if not args.quiet and sys.stderr.isatty():
        from tqdm.auto import tqdm

        progress = tqdm(desc="judging", unit="window", file=sys.stderr, delay=2.0)  # appears after 2 s only
    if not args.json:
        print(f"{'id':<{width}}  {'label':<8}  " + "  ".join(f"{'P(' + l + ')':>8}" for l in labels)
              + ("  P(neither)" if neither else "") + "  S(top)  windows  flags")
    scores = [] if args.report else None
    n_ok = n_bad = 0
    held = records if args.explain else itertools.repeat(None)  # each Score beside its Record
    for s, record in zip(judge.score_records(records, details=args.windows, progress=progress), held):
        if record is not None and not s.error:
            from ..judge.explain import explain

            s.extra = {**s.extra, "explanation": explain(judge, record.chunks[0], s.label, args.top)}
        n_bad, n_ok = n_bad + bool(s.error), n_ok + (not s.error)
        _print_score(s, args.json, labels, width, neither)
        if scores is not None:
            scores.append(s)
    if progress is not None:
        progress.close()
    if scores is not None:
        from ..judge.report import write

        write(scores, labels + (["neither"] if neither else []), args.report, args.group_by)
        print(f"report written to {args.report}/report.json", file=sys.stderr)
    if n_bad and not n_ok:
        return EXIT_BAD_INPUT
    return EXIT_PARTIAL if n_bad else EXIT_OK


def _check_local(args) -> None:
    """The local engine's settings, checked before the model loads."""
    batch_only = [f for f, on in (("--output", args.output), ("--address", args.address), ("--actors", args.actors))
                  if on is not None]
    if batch_only:
        raise WhowroteError(f"judge: {', '.join(batch_only)} belong to --engine ray")
    if args.rolling:
        return
    rolling_only = [f"--{name.replace('_', '-')}" for name in ("window", "change_cost", "among")
                    if getattr(args, name) is not None]
    if rolling_only:  # without --rolling they would be dropped without a word
        raise WhowroteError(f"judge: {', '.join(rolling_only)} {'apply' if len(rolling_only) > 1 else 'applies'} "
                            "to rolling attribution: add --rolling FILE")
    if not args.inputs and not args.jsonl:
        raise WhowroteError("judge: give some text, a file, a folder, - for stdin, or --jsonl FILE")
    if args.inputs.count("-") + args.jsonl.count("-") > 1:
        raise WhowroteError("judge: standard input can be read only once")
    if args.batch_size < 1:
        raise WhowroteError("judge: --batch-size must be at least 1")
    if args.stride is not None and args.stride < 1:
        raise WhowroteError("judge: --stride must be at least 1 token")
    if args.top < 1:
        raise WhowroteError("judge: --top must be at least 1")


def _print_score(s, as_json: bool, labels: list[str], width: int, neither: bool) -> None:
    """One judged record on stdout (a table row with its explanation and windows, or JSON); its
    error, if any, on stderr."""
    if s.error:
        print(f"whowrote: error: {s.error}", file=sys.stderr)
    if as_json:
        print(json.dumps(s.to_dict(), ensure_ascii=False), flush=True)
        return
    print(_table_row(s, labels, width, neither), flush=True)
    for way in ("for", "against"):
        words = (s.extra.get("explanation") or {}).get(way)
        if words:
            print(f"  {way} {s.label}: " + ", ".join(f"{w['word']} ({w['score']:+.3f})" for w in words))
    for w in (s.window_details or []):
        probs = "  ".join(f"{w['probs'][l]:>8.4f}" for l in labels)
        print(f"  chars {w['start_char']:>7}-{w['end_char']:<7}       {w['label']:<8}  {probs}")
