"""Is BERT worth it, at which passage length, and on works it never saw? Classical
stylometry and whowrote on identical passages.

Two protocols:
- `blocks` (in-book): blocked k-fold over the no-leak blocks of the training works; every
  block is test once; each seed reshuffles which blocks share a fold.
- `works` (unseen works): fold k holds out the k-th work of every author (the run's
  training and held-out works, cycling for an author with fewer), trains on the others
  and tests on every passage of the held-out works.
The comparison is between the author labels (a background label, if any, is left out).

What each method sees, the same for all where it can be:
- the passages: disjoint windows of L tokens; the classical methods get each window's own
  text (typography unified, names masked, case and punctuation kept), BERT its token ids;
- training: classical methods up to `max_train_windows` disjoint passages per label,
  class-balanced (logistic regression: class_weight="balanced"; Delta: z-scores and
  centroids with every label weighted equally); BERT `bert_steps` balanced batches of
  `per_class` random, overlapping windows per label (the whowrote trainer itself);
- calibration: one temperature on each method's log-scores, fitted on the same validation
  passages, before ECE is compared.

    whowrote compare --protocol works --lengths 32 128 --seeds 1 --ensemble
"""

from __future__ import annotations

import dataclasses
import shutil
import tempfile
import time
from pathlib import Path

import numpy as np

from ..config import Config
from ..data.prepare import prepare
from ..errors import WhowroteError
from ..layout import RunFiles
from ..model.metrics import ece, fit_temperature, log_softmax, mix_weight, softmax
from .baselines import BASELINES

PROTOCOLS = ("blocks", "works")


def _scores(probs: np.ndarray, y: np.ndarray) -> dict:
    from sklearn.metrics import balanced_accuracy_score, f1_score

    pred = probs.argmax(axis=1)
    # Balanced accuracy (mean recall per label) leads: Poe outnumbers Carroll many times over,
    # so plain accuracy would credit a model that always answers "edgar".
    return {"balanced_accuracy": float(balanced_accuracy_score(y, pred)), "accuracy": float((pred == y).mean()),
            "macro_f1": float(f1_score(y, pred, average="macro")), "ece": ece(probs, y)}


# One temperature range for every method: Delta's -distances span a far smaller range than
# logits, so the judge's floor (0.25, against sharpening without end) would keep it too flat.
COMPARE_T_BOUNDS = (1e-3, 1e3)


def calibrate(val_scores: np.ndarray, val_y: np.ndarray, test_scores: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """The same temperature fit for every method: log-scores -> calibrated probabilities."""
    t = fit_temperature(val_scores, val_y, bounds=COMPARE_T_BOUNDS)
    return softmax(val_scores, t), softmax(test_scores, t)


def ensemble(p_a_val, p_b_val, y_val, p_a, p_b) -> tuple[np.ndarray, float]:
    """Weighted mean of two methods' log-probabilities; the weight of `a` is the one on a
    0.05 grid with the lowest validation NLL (`metrics.mix_weight`)."""
    def logp(p):
        return np.log(np.clip(p, 1e-12, None))
    w = mix_weight(logp(p_a_val), logp(p_b_val), y_val)
    return softmax(w * logp(p_a) + (1 - w) * logp(p_b)), w


def fold_configs(base: Config, protocol: str, folds: int, seed: int, length: int) -> list[tuple[Config, dict]]:
    """One (config, description) per fold: the author labels only, passages of `length` tokens."""
    authors = base.author_labels
    common = dict(seed=seed, seq_len=length + 2, block_len=max(base.block_len, length), background="",
                  open_set="none", eval_every=0, checkpoint_every=0)
    if protocol == "blocks":
        sources = {a: base.sources[a] for a in authors}
        return [(dataclasses.replace(base, sources=sources, heldout={}, folds=folds, fold=f, **common), {"fold": f})
                for f in range(folds)]
    works = {a: base.sources[a] + base.heldout.get(a, []) for a in authors}
    short = [a for a, w in works.items() if len(w) < 2]
    if short:
        raise WhowroteError(f"compare --protocol works: {', '.join(short)} has only one work; give each author "
                            f"two or more (--source / --heldout)")
    out = []
    for f in range(max(len(w) for w in works.values())):
        held = {a: w[f % len(w)] for a, w in works.items()}
        sources = {a: [x for x in w if x != held[a]] for a, w in works.items()}
        out.append((dataclasses.replace(base, sources=sources, heldout={a: [h] for a, h in held.items()}, folds=0, **common),
                    {"fold": f, "held_out": " ".join(f"{a}:{h.split('@')[0]}" for a, h in held.items())}))
    return out


def _passages(prep, protocol: str, max_train: int, max_test: int) -> dict:
    train_ids, train_y = prep.windows("train", max_train)
    val_ids, val_y = prep.windows("val", max_test)
    if protocol == "blocks":
        test_ids, test_y = prep.windows("test", max_test)
        test_texts = prep.window_texts("test", max_test)
    else:  # every passage of the held-out works, both halves
        parts = [prep.unseen_windows(p, max_test // 2) for p in ("calib", "test")]
        test_ids, test_y = np.concatenate([p[0] for p in parts]), np.concatenate([p[1] for p in parts])
        test_texts = prep.unseen_window_texts("calib", max_test // 2) + prep.unseen_window_texts("test", max_test // 2)
    return {"train": (train_ids, train_y, prep.window_texts("train", max_train)),
            "val": (val_ids, val_y, prep.window_texts("val", max_test)), "test": (test_ids, test_y, test_texts)}


def _bert_scores(config: Config, val_ids, test_ids) -> tuple[np.ndarray, np.ndarray, float, float]:
    """Train with whowrote's own loop; (val logits, test logits, fit seconds, predict seconds)."""
    from ..model.bert import load_classifier
    from ..model.metrics import predict_logits
    from ..pipeline import train

    t0 = time.perf_counter()
    run = train(config, name=f"L{config.window}-f{config.fold}-s{config.seed}-{time.monotonic_ns()}",
                progress=False, finalize=False)
    fit_s = time.perf_counter() - t0
    model, _ = load_classifier(RunFiles(run).model)
    t0 = time.perf_counter()
    test_logits = predict_logits(model, test_ids)
    predict_s = time.perf_counter() - t0
    val_logits = predict_logits(model, val_ids)
    shutil.rmtree(run, ignore_errors=True)
    return val_logits, test_logits, fit_s, predict_s


def run_protocol(base: Config, tokenizer, lengths: list[int], folds: int, seeds: int, methods: list[str],
                 protocol: str = "blocks", bert: bool = True, bert_steps: int = 60, ensemble_with: str | None = None,
                 max_train_windows: int = 4000, max_test_windows: int = 1000, progress: bool = True) -> list[dict]:
    """One row per (seed, fold, length, method): accuracy, balanced accuracy, macro-F1, ECE,
    seconds, passage counts."""
    from tqdm.auto import tqdm

    tasks = [(s, L, cfg, desc) for s in range(seeds) for L in lengths
             for cfg, desc in fold_configs(base, protocol, folds, base.seed + s, L)]
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        for s, L, config, desc in tqdm(tasks, desc=f"compare ({protocol})", unit="task", disable=not progress):
            config = dataclasses.replace(config, steps=bert_steps, output_dir=tmp)
            data = _passages(prepare(config, tokenizer), protocol, max_train_windows, max_test_windows)
            (_, train_y, train_t), (val_ids, val_y, val_t), (test_ids, test_y, test_t) = data["train"], data["val"], data["test"]
            labels = config.author_labels
            common = {"protocol": protocol, "seed": base.seed + s, "length": L, **desc,
                      **{f"test_{lab}": int((test_y == i).sum()) for i, lab in enumerate(labels)},
                      **{f"train_{lab}": int((train_y == i).sum()) for i, lab in enumerate(labels)}}
            calibrated = {}
            for name in methods:
                model = BASELINES[name](seed=base.seed + s)
                t0 = time.perf_counter()
                model.fit(train_t, train_y)
                fit_s = time.perf_counter() - t0
                t0 = time.perf_counter()
                test_scores = model.scores(test_t)
                predict_s = time.perf_counter() - t0
                calibrated[name] = calibrate(model.scores(val_t), val_y, test_scores)
                rows.append({**common, "method": model.name, **_scores(calibrated[name][1], test_y),
                             "fit_s": fit_s, "predict_s": predict_s})
            if bert:
                val_logits, test_logits, fit_s, predict_s = _bert_scores(config, val_ids, test_ids)
                p_val, p_test = calibrate(log_softmax(val_logits), val_y, log_softmax(test_logits))
                rows.append({**common, "method": f"whowrote BERT ({Path(str(base.model)).name}, {bert_steps} steps)",
                             **_scores(p_test, test_y), "fit_s": fit_s, "predict_s": predict_s})
                if ensemble_with in calibrated:
                    p_ens, w = ensemble(p_val, calibrated[ensemble_with][0], val_y, p_test, calibrated[ensemble_with][1])
                    rows.append({**common, "method": f"ensemble BERT + {BASELINES[ensemble_with].name}",
                                 **_scores(p_ens, test_y), "fit_s": fit_s, "predict_s": predict_s, "bert_weight": w})
    return rows
