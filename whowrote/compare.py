"""Is BERT worth it, at which length? Classical baselines and whowrote on identical passages.

Protocol: blocked k-fold over the no-leak blocks (every block is test once), for several
seeds (each reshuffles which blocks share a fold). Per fold, seed and passage length L
(content tokens): every method trains on windows of the training blocks and is scored on
the same disjoint test windows. BERT runs are `whowrote train` itself (the run's config,
seq_len = L + 2, a shorter schedule: `bert_steps`). Baselines see the passages the way BERT
does: its tokenizer's view of the text (lower-cased), decoded back to words.

    whowrote compare --run runs/X --lengths 16 32 64 128 256 --folds 5 --seeds 3 --ensemble
"""

from __future__ import annotations

import dataclasses
import shutil
import tempfile
import time
from pathlib import Path

import numpy as np

from .baselines import BASELINES
from .config import Config
from .data import prepare
from .metrics import ece, fit_temperature, nll, softmax


def _texts(tokenizer, ids: np.ndarray) -> list[str]:
    return tokenizer.batch_decode(ids[:, 1:-1], clean_up_tokenization_spaces=True)


def _scores(probs: np.ndarray, y: np.ndarray) -> dict:
    from sklearn.metrics import balanced_accuracy_score, f1_score

    pred = probs.argmax(axis=1)
    # Balanced accuracy (mean recall per label) leads: Poe outnumbers Looking-Glass 14 to 1,
    # so plain accuracy would credit a model that always answers "edgar" with 93%.
    return {"balanced_accuracy": float(balanced_accuracy_score(y, pred)), "accuracy": float((pred == y).mean()),
            "macro_f1": float(f1_score(y, pred, average="macro")), "ece": ece(probs, y)}


def _bert_probs(config: Config, tmp: Path, val_ids, val_y, test_ids) -> tuple[np.ndarray, np.ndarray, float, float]:
    """Train with whowrote's own loop; calibrated val/test probabilities and fit/predict seconds."""
    from .metrics import predict_logits
    from .model import load_classifier
    from .train import train

    t0 = time.perf_counter()
    run = train(config, name=f"L{config.seq_len - 2}-f{config.fold}-s{config.seed}", progress=False, finalize=False)
    fit_s = time.perf_counter() - t0
    model, _ = load_classifier(run / "model")
    t0 = time.perf_counter()
    test_logits = predict_logits(model, test_ids)
    predict_s = time.perf_counter() - t0
    val_logits = predict_logits(model, val_ids)
    shutil.rmtree(run, ignore_errors=True)
    t = fit_temperature(val_logits, val_y)
    return softmax(val_logits, t), softmax(test_logits, t), fit_s, predict_s


def _ensemble(p_bert_val, p_char_val, y_val, p_bert, p_char) -> tuple[np.ndarray, float]:
    """Weighted mean of log-probabilities; the weight is the one with the best validation NLL."""
    def mixed_logits(a, b, w):
        return w * np.log(np.clip(a, 1e-12, None)) + (1 - w) * np.log(np.clip(b, 1e-12, None))
    grid = np.linspace(0, 1, 21)
    w = float(grid[int(np.argmin([nll(mixed_logits(p_bert_val, p_char_val, w), y_val) for w in grid]))])
    return softmax(mixed_logits(p_bert, p_char, w)), w


def run_protocol(base: Config, tokenizer, lengths: list[int], folds: int, seeds: int, methods: list[str],
                 bert: bool = True, bert_steps: int = 60, ensemble: bool = False, max_train_windows: int = 4000,
                 max_test_windows: int = 1000, progress: bool = True) -> list[dict]:
    """One row per (seed, fold, length, method) with accuracy, macro-F1, ECE, times, counts."""
    from tqdm.auto import tqdm

    rows = []
    tasks = [(s, f, L) for s in range(seeds) for f in range(folds) for L in lengths]
    bar = tqdm(tasks, desc="compare", unit="task", disable=not progress)
    with tempfile.TemporaryDirectory() as tmp:
        for s, f, L in bar:
            bar.set_postfix(seed=s, fold=f, length=L)
            config = dataclasses.replace(base, folds=folds, fold=f, seed=base.seed + s, seq_len=L + 2,
                                         block_len=max(base.block_len, L), steps=bert_steps, eval_every=0, checkpoint_every=0, output_dir=tmp)
            prep = prepare(config, tokenizer)
            # Disjoint windows everywhere: honest counts, and training windows never overlap
            # each other either, so no baseline sees a passage twice.
            train_ids, train_y = prep.windows("train", limit_per_class=max_train_windows)
            val_ids, val_y = prep.windows("val", limit_per_class=max_test_windows)
            test_ids, test_y = prep.windows("test", limit_per_class=max_test_windows)  # evenly spaced
            train_t, val_t, test_t = _texts(tokenizer, train_ids), _texts(tokenizer, val_ids), _texts(tokenizer, test_ids)
            counts = {f"test_{lab}": int((test_y == i).sum()) for i, lab in enumerate(prep.labels)}
            common = {"seed": base.seed + s, "fold": f, "length": L, **counts}
            probs, times = {}, {}
            for name in methods:
                model = BASELINES[name](seed=base.seed + s)
                t0 = time.perf_counter()
                model.fit(train_t, train_y, val_t, val_y)
                fit_s = time.perf_counter() - t0
                t0 = time.perf_counter()
                p = model.predict_proba(test_t)
                rows.append({**common, "method": model.name, **_scores(p, test_y), "fit_s": fit_s,
                             "predict_s": time.perf_counter() - t0})
                probs[name] = (model.predict_proba(val_t), p)
                times[name] = (fit_s, rows[-1]["predict_s"])
            if bert:
                p_val, p_test, fit_s, pred_s = _bert_probs(config, Path(tmp), val_ids, val_y, test_ids)
                label = f"whowrote BERT ({Path(str(base.model)).name}, {bert_steps} steps)"
                rows.append({**common, "method": label, **_scores(p_test, test_y), "fit_s": fit_s, "predict_s": pred_s})
                if ensemble and "char" in probs:
                    p_ens, w = _ensemble(p_val, probs["char"][0], val_y, p_test, probs["char"][1])
                    rows.append({**common, "method": "ensemble BERT + char n-grams", **_scores(p_ens, test_y),
                                 "fit_s": fit_s + times["char"][0], "predict_s": pred_s + times["char"][1],
                                 "bert_weight": w})
    return rows
