"""Score a trained run on text it never trained on, calibrate it, and write report.json.

Three sets of windows, all disjoint from training:
- in-book: the validation and test blocks of the training works (the study's numbers);
- unseen works, calibration half: the temperature T and the "neither" threshold are fitted
  here (without held-out works: T on the in-book validation blocks, no threshold);
- unseen works, test half: accuracy, ECE and open-set rates on works -- and, for the
  background label, authors -- that neither training nor calibration saw.
Longer texts: contiguous texts of 2, 4 and 8 windows' length, cut and scored as the judge
does, get their own "neither" thresholds on the calibration half, and their rates on the
test half go into report.json ("unseen_by_length").

    whowrote evaluate runs/authors-20261127-120000          # rewrites its report.json
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np

from ..config import Config, load_run_config
from ..files import write_json
from ..training.runfolder import REPORT_FORMAT, check_run_dir, update_model_meta
from .metrics import calibration_report, classification_metrics, ece, log_softmax, predict_logits, softmax
from .openset import MIN_TEXTS, NEITHER, OpenSet, decide, fit_threshold, rates, split_probs

HELDOUT_WINDOWS_PER_WORK = 150  # evenly spaced disjoint windows per held-out work and half
TEXT_WINDOWS = (1, 2, 4, 8)  # longer texts: this many windows' length (1: the table's first row)
# Longer texts of the background's held-out works: at most this many blocks per work and half
# (about the 150 windows of the one-window numbers). The authors' works are used whole: their
# calibration texts set the thresholds, and their test texts are few at 8 windows.
BACKGROUND_BLOCKS_PER_WORK = 20


def judged_texts(prep, part: str, logits_of, temperature: float,
                 with_background: bool = True) -> dict[int, tuple[np.ndarray, np.ndarray, list[str]]]:
    """{tokens: (probabilities over every label [n, L], labels [n], works)} for contiguous
    texts of the held-out works' `part`, each scored as the judge scores a text: the mean of
    its windows' calibrated log-probabilities, renormalised."""
    background = prep.config.background
    limits = {lab: None for lab in prep.config.heldout if lab != background}
    if with_background and background:
        limits[background] = BACKGROUND_BLOCKS_PER_WORK
    ids, spans = prep.unseen_judged_texts(part, [k * prep.width for k in TEXT_WINDOWS], limits)
    logp = log_softmax(logits_of(ids), temperature) if len(ids) else np.zeros((0, len(prep.labels)))
    return {n: (softmax(np.stack([logp[r].mean(0) for r in rows])) if rows else np.zeros((0, len(prep.labels))), y, works)
            for n, (rows, y, works) in spans.items()}


def fit_by_length(texts: dict, authors: list[int], background: int, max_flagged: float, width: int) -> list[list[float]]:
    """[[tokens, threshold], ...] for the lengths beyond one window, while every author has
    MIN_TEXTS calibration texts of that length."""
    out = []
    for n in sorted(texts):
        probs, y, _ = texts[n]
        if n <= width:
            continue
        if any(np.sum(y == a) < MIN_TEXTS for a in authors):
            break
        out.append([n, fit_threshold(probs[:, background], y, authors, max_flagged)])
    return out


def by_length_report(config: Config, labels: list[str], texts: dict, open_set: OpenSet) -> list[dict]:
    """Per text length: the threshold the judge uses, and on the test half each true label's
    texts, share labelled its own label and share flagged."""
    out = []
    for n in sorted(texts):
        probs, y, _ = texts[n]
        if not len(y):  # longer than any block of the held-out works
            continue
        truth = [NEITHER if labels[i] == config.background else labels[i] for i in y]
        out.append({"tokens": n, "threshold": open_set.threshold_for(n),
                    "fitted": n == min(texts) or any(m == n for m, _ in open_set.by_length),
                    "texts": len(y), "per_label": rates(decide(probs, labels, open_set, n), truth, truth)})
    return out


def unseen_report(config: Config, labels: list[str], logits: np.ndarray, y: np.ndarray, works: list[str],
                  temperature: float, open_set: OpenSet, books: list[dict]) -> dict:
    """Decisions on the unseen test half: overall, per author label, per work (or author)."""
    probs = softmax(logits, temperature)
    decisions = decide(probs, labels, open_set)
    truth = [NEITHER if labels[i] == config.background else labels[i] for i in y]
    names = {b["source"]: f"{b.get('author') or '?'}: {b.get('title') or b['source']}" for b in books}
    per_work = rates(decisions, truth, works)
    for w, r in per_work.items():
        r["work"] = names.get(w, w)
    authors, _, author_names = split_probs(probs, labels, config.background)
    per_label = rates(decisions, truth, truth)
    for lab, r in per_label.items():
        if lab in author_names:  # without the open set: which author it would be
            idx = [i for i, t in enumerate(truth) if t == lab]
            r["author_accuracy"] = float(np.mean(authors[idx].argmax(axis=1) == author_names.index(lab)))
    return {"passages": len(y), "accuracy": float(np.mean([d == t for d, t in zip(decisions, truth)])),
            "ece": ece(probs, y), "per_label": per_label, "per_work": per_work}


def evaluate_run(run_dir: str | Path, data_dir: str | None = None, progress: bool = True, model=None,
                 tokenizer=None, extra: dict | None = None) -> dict:
    """Score the run's model on every held-out set; write report.json, the model card, and
    the fitted temperature and threshold into model/whowrote.json."""
    from ..data.prepare import prepare
    from ..training.model import load_classifier
    from .card import write_card

    run_dir = check_run_dir(run_dir)
    config = load_run_config(run_dir)
    if data_dir:
        config.data_dir = data_dir
    if model is None:
        model, tokenizer = load_classifier(run_dir / "model")
    prep = prepare(config, tokenizer)
    labels = prep.labels

    def logits_of(ids):
        return predict_logits(model, ids, progress=progress)

    val_ids, val_y = prep.windows("val")
    test_ids, test_y = prep.windows("test")
    val_logits, test_logits = logits_of(val_ids), logits_of(test_ids)
    report = {"format": REPORT_FORMAT, "run": run_dir.name, "labels": labels, "seq_len": config.seq_len,
              "test": classification_metrics(test_logits, test_y, labels),
              "val": classification_metrics(val_logits, val_y, labels)}
    open_set = OpenSet()
    if config.heldout:
        calib_ids, calib_y, calib_works = prep.unseen_windows("calib", HELDOUT_WINDOWS_PER_WORK)
        u_ids, u_y, u_works = prep.unseen_windows("test", HELDOUT_WINDOWS_PER_WORK)
        calib_logits, u_logits = logits_of(calib_ids), logits_of(u_ids)
        temperature, report["calibration"] = calibration_report(calib_logits, calib_y, u_logits, u_y,
                                                                "held-out works, calibration half")
        if config.open_set == "background":
            b = labels.index(config.background)
            _, p_neither, _ = split_probs(softmax(calib_logits, temperature), labels, config.background)
            threshold = fit_threshold(p_neither, calib_y, [i for i in range(len(labels)) if i != b],
                                      config.open_set_max_flagged)
            calib_texts = judged_texts(prep, "calib", logits_of, temperature, with_background=False)
            by_length = fit_by_length(calib_texts, [i for i in range(len(labels)) if i != b], b,
                                      config.open_set_max_flagged, prep.width)
            open_set = OpenSet("background", config.background, threshold, by_length)
            report["unseen_by_length"] = by_length_report(config, labels, judged_texts(prep, "test", logits_of, temperature),
                                                          open_set)
        books = json.loads((run_dir / "config.json").read_text()).get("books", [])
        report["unseen_calibration"] = unseen_report(config, labels, calib_logits, calib_y, calib_works,
                                                     temperature, open_set, books)
        report["unseen"] = unseen_report(config, labels, u_logits, u_y, u_works, temperature, open_set, books)
        report["unseen"]["note"] = ("disjoint windows of works never trained on (test half); temperature and "
                                    "threshold were fitted on the other half")
    else:
        temperature, report["calibration"] = calibration_report(val_logits, val_y, test_logits, test_y,
                                                                "in-book validation blocks")
    report["open_set"] = {**open_set.to_dict(), "max_flagged": config.open_set_max_flagged}
    report["calibration"]["in_book_test_after"] = {
        "ece": ece(softmax(test_logits, temperature), test_y)}
    update_model_meta(run_dir / "model", temperature=temperature, open_set=open_set.to_dict())

    previous = json.loads((run_dir / "report.json").read_text()) if (run_dir / "report.json").is_file() else {}
    for key in ("steps", "train_seconds", "stopped_early", "validity"):
        if key in previous:
            report[key] = previous[key]
    report["test_windows_note"] = "disjoint windows of seq_len-2 tokens from held-out blocks; no token shared with training"
    report.update(extra or {})
    write_json(run_dir / "report.json", report)
    write_card(run_dir)
    return report
