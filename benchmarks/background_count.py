"""How far does "neither" reach with more background authors? The char 2-5-gram model (the
judge's partner reader: TF-IDF and a class-balanced logistic regression) fitted on the
preset's training windows with 3, 6, 9 or 12 background authors, drawn from its training
background and its calibration authors, then asked about the unseen test authors. No BERT is trained,
so the whole sweep takes minutes; it shows the trend that more background authors would
give, which is what `whowrote train --add-source neither=ID,...` adds where Gutenberg is
reachable.

Training windows: up to `--author-windows` disjoint windows of each author's training
books and up to `--per-background` of each background work; the calibration authors'
windows come from their calibration blocks, which training never uses in the real preset
(they are here only to count more authors). Each draw of N background authors is a random
subset of the pool (seeded; one draw when N is the whole pool). Scored on the test half of the held-out works: the unseen test authors
flagged when each author's own test passages are flagged at most `--budget` of the time,
a threshold fitted on the very passages it is scored on (an oracle), so read the trend,
not the level; and the AUROC of P(background) between the authors' own passages and the
unseen authors'. `--per-author`: the same with one label per background author in place of
one background label, P(background) then the sum of theirs.

    .venv/bin/python benchmarks/background_count.py --data-dir ../shared/corpora --readme docs/decisions.md
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
from machine import describe, publish, run_benchmark  # noqa: E402


def flagged_at_budget(p_background: np.ndarray, author_of: np.ndarray, own: np.ndarray, budget: float) -> float:
    """Share of unseen authors' passages flagged when each author's threshold lets `budget`
    of its own passages be flagged (texts given to an author meet that author's threshold)."""
    taus = {a: np.quantile(p_background[own & (author_of == a)], 1 - budget) for a in np.unique(author_of[own])}
    threshold = np.array([taus.get(a, np.inf) for a in author_of])
    return float((p_background >= threshold)[~own].mean())


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--preset", default="authors")
    ap.add_argument("--data-dir", default=None, help="folder of Gutenberg files (default: as whowrote train)")
    ap.add_argument("--sizes", default="3,6,9,12", help="numbers of background authors to draw")
    ap.add_argument("--draws", type=int, default=4, help="random draws for each size below all")
    ap.add_argument("--author-windows", type=int, default=1500, help="training windows per author (the partner's)")
    ap.add_argument("--per-background", type=int, default=300, help="training windows per background work")
    ap.add_argument("--budget", type=float, default=0.03, help="share of each author's own passages allowed flagged")
    ap.add_argument("--per-author", action="store_true", help="also: one label per background author")
    ap.add_argument("--readme", help="write the table into this README's bench-background section")
    args = ap.parse_args()

    from sklearn.metrics import roc_auc_score

    from whowrote.compare.baselines import CharNgrams
    from whowrote.config import resolve
    from whowrote.data.prepare import prepare
    from whowrote.data.split import disjoint_windows_by_work
    from whowrote.model.bert import load_tokenizer
    from whowrote.model.partner import window_texts

    config = resolve(args.preset, data_dir=args.data_dir)
    if not config.background or not any(config.heldout.get(config.background, [])):
        sys.exit(f"preset {args.preset!r} has no background label with held-out authors to test on")
    tokenizer = load_tokenizer(config.model)
    prep = prepare(config, tokenizer, download=False)
    bg = prep.labels.index(config.background)
    rng = np.random.default_rng(0)

    texts, y, group = [], [], []  # group: which background author a window is from (-1: an author's)
    for label_id, (stream, parts) in enumerate(zip(prep.streams, prep.parts)):
        windows, works = disjoint_windows_by_work(stream, parts["train"], prep.width, None, per_work=True)
        if label_id == bg:
            keep = np.concatenate([rng.permutation(np.flatnonzero(works == k))[: args.per_background] for k in np.unique(works)])
            group += list(works[keep])
        else:
            keep = rng.permutation(len(windows))[: args.author_windows]
            group += [-1] * len(keep)
        texts += window_texts(tokenizer, windows[keep])
        y += [label_id] * len(keep)
    stream, parts = prep.unseen[bg], prep.unseen_parts[bg]  # the calibration authors' blocks
    windows, works = disjoint_windows_by_work(stream, parts["calib"], prep.width, None, per_work=True)
    calib_groups = []
    for k in np.unique(works):
        keep = rng.permutation(np.flatnonzero(works == k))[: args.per_background]
        texts += window_texts(tokenizer, windows[keep])
        y += [bg] * len(keep)
        group += [1000 + k] * len(keep)
        calib_groups.append(1000 + k)
    y, group = np.array(y), np.array(group)
    background_authors = np.unique(group[(group >= 0) & (group < 1000)])

    test_ids, test_y, _ = prep.unseen_windows("test", 150)
    test_texts = window_texts(tokenizer, test_ids[:, 1:-1])
    own = test_y != bg
    authors = [i for i in range(len(prep.labels)) if i != bg]

    def score(picked: np.ndarray, per_author: bool) -> tuple[float, float]:
        rows = (group == -1) | np.isin(group, picked)
        labels = np.where(y[rows] == bg, 10_000 + group[rows], y[rows]) if per_author else y[rows]
        model = CharNgrams(seed=0).fit([t for t, r in zip(texts, rows) if r], labels).model
        proba, classes = model.predict_proba(test_texts), np.asarray(model.classes_)
        is_author = np.isin(classes, authors)
        p_background = proba[:, ~is_author].sum(1)
        author_of = classes[is_author][proba[:, is_author].argmax(1)]
        return flagged_at_budget(p_background, author_of, own, args.budget), float(roc_auc_score(~own, p_background))

    pool = np.concatenate([background_authors, calib_groups]).astype(int)
    sizes = [int(s) for s in args.sizes.split(",") if s.strip()]
    if any(n < 1 or n > len(pool) for n in sizes):
        sys.exit(f"--sizes: between 1 and {len(pool)} background authors")
    plans = [(f"{n}", [np.random.default_rng(d).permutation(pool)[:n]
                       for d in range(args.draws if n < len(pool) else 1)]) for n in sizes]
    plans.append((f"{len(background_authors)}, the preset's own", [background_authors]))
    rows = []
    for mode in [False, True] if args.per_author else [False]:
        for name, draws in plans:
            results = np.array([score(picked, mode) for picked in draws])
            print(f"{name} {'per-author labels' if mode else 'one label'}: {results.tolist()}", flush=True)
            flagged, auroc = results[:, 0], results[:, 1]
            spread = f" ({flagged.min():.2f}-{flagged.max():.2f})" if len(draws) > 1 else ""
            rows.append(f"| {name} | {'one per author' if mode else 'one'} | {len(draws)} | "
                        f"{flagged.mean():.3f}{spread} | {auroc.mean():.3f} |")
    lines = [f"Preset `{args.preset}`: the char 2-5-gram model, fitted on up to {args.author_windows} windows of each "
             f"author and {args.per_background} of each background work, N background authors drawn from {len(pool)} "
             f"(the training background and the calibration authors); unseen test authors' passages (test half) "
             f"flagged with each author's threshold at {args.budget:.0%} of its own test passages (an oracle: read "
             f"the trend). {describe()}.", "",
             "| background authors | background labels | draws | unseen authors flagged (range) | AUROC |",
             "|---|---|---|---|---|", *rows]
    publish("\n".join(lines), args.readme, "bench-background")


if __name__ == "__main__":
    run_benchmark(main)
