"""Score a trained run on text it never trained on, calibrate it, and write report.json.

Three sets of windows, all disjoint from training:
- in-book: the validation and test blocks of the training works (the study's numbers);
- unseen works, calibration half: the temperature T and the "neither" threshold are fitted
  here (without held-out works: T on the in-book validation blocks, no threshold);
- unseen works, test half: accuracy, ECE and open-set rates on works -- and, for the
  background label, authors -- that neither training nor calibration saw.
Shorter and longer texts (`lengths.py`): pieces of an eighth, a quarter and half a window,
and contiguous texts of 2, 4 and 8 windows' length, cut and scored as the judge does, get
their own temperature and "neither" threshold on the calibration half, and their numbers on
the test half go into report.json ("unseen_by_length").
With `partner = "char"` the scores of every window are BERT's mixed with a char n-gram
model's (`training/partner.py`), which is fitted here first, on the training windows, with its
mix on the calibration windows; every number after that is the mix's, as the judge scores.

    whowrote evaluate runs/authors-20261127-120000          # rewrites its report.json
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from ..config import Config, load_run_config
from ..files import write_json
from ..layout import RunFiles, read_json
from ..text.background import era
from ..training.partner import CharPartner, window_texts
from ..training.runfolder import REPORT_FORMAT, check_run_dir, update_model_meta
from .lengths import fit_lengths, judged_texts, lengths_report
from .metrics import calibration_report, classification_metrics, ece, nll, predict_logits, softmax
from .openset import NEITHER, OpenSet, decide, fit_thresholds, rates, split_probs

HELDOUT_WINDOWS_PER_WORK = 150  # evenly spaced disjoint windows per held-out work and half
# evenly spaced in-book validation and test windows per label: the 38 background books' 3.8M
# tokens would give 3,000 of each, minutes of scoring on a CPU for the least telling number
IN_BOOK_WINDOWS_PER_LABEL = 600


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
    authors, p_background, author_names = split_probs(probs, labels, config.background)
    per_label = rates(decisions, truth, truth)
    for lab, r in per_label.items():
        if lab in author_names:  # without the open set: which author it would be
            idx = [i for i, t in enumerate(truth) if t == lab]
            r["author_accuracy"] = float(np.mean(authors[idx].argmax(axis=1) == author_names.index(lab)))
    out = {"passages": len(y), "accuracy": float(np.mean([d == t for d, t in zip(decisions, truth)])),
           "ece": ece(probs, y), "per_label": per_label, "per_work": per_work}
    if config.background:
        out.update(verification(p_background, np.array(truth) != NEITHER))
        years = {b["source"]: b.get("year") for b in books}
        eras = [era(years.get(w)) if t == NEITHER else "" for w, t in zip(works, truth)]
        flagged = np.array([d == NEITHER for d in decisions])
        out["neither_by_era"] = {e: {"passages": int(sum(x == e for x in eras)),
                                     "neither": float(flagged[[x == e for x in eras]].mean())}
                                 for e in sorted(set(eras) - {""})}
    return out


def verification(p_background: np.ndarray, is_author: np.ndarray) -> dict:
    """"By one of the authors" against "by another author", as authorship verification
    reports it: the AUROC of 1 - P(background), and the share of other authors' passages
    accepted where 95% of the authors' own are (FPR at 95% TPR)."""
    from sklearn.metrics import roc_auc_score

    if is_author.all() or not is_author.any():
        return {}
    score = 1 - p_background
    cut = np.quantile(score[is_author], 0.05)
    return {"auroc": float(roc_auc_score(is_author, score)), "others_accepted_at_95": float(np.mean(score[~is_author] >= cut))}


def fit_partner(config: Config, prep, fit_ids: np.ndarray, fit_y: np.ndarray,
                fit_bert: np.ndarray) -> tuple[CharPartner, np.ndarray]:
    """The char partner (`training/partner.py`) fitted on the training windows and mixed with
    BERT on the calibration windows, and its logits of those windows."""
    train_ids, train_y = prep.windows("train", config.partner_windows)
    partner = CharPartner.fit(window_texts(prep.tokenizer, train_ids[:, 1:-1]), train_y, seed=config.seed,
                              common_words=config.partner_common_words)
    if config.background and not config.partner_neither:
        partner.neither_column = prep.labels.index(config.background)
    fit_char = partner.window_logits(prep.tokenizer, fit_ids[:, 1:-1])
    return partner.fit_mix(fit_bert, fit_char, fit_y), fit_char


def evaluate_run(run_dir: str | Path, data_dir: str | None = None, progress: bool = True, model=None,
                 tokenizer=None, extra: dict | None = None) -> dict:
    """Score the run's model on every held-out set; write report.json, the model card, and
    the fitted temperature and threshold into model/whowrote.json."""
    from ..data.prepare import prepare
    from ..training.model import load_classifier
    from ..training.runfolder import model_spec
    from .card import write_card

    run_dir = check_run_dir(run_dir)
    files = RunFiles(run_dir)
    config = load_run_config(run_dir)
    if data_dir:
        config.data_dir = data_dir
    if model is None:
        model, tokenizer = load_classifier(files.model)
    prep = prepare(config, tokenizer, spec=model_spec(files.model))  # as it was trained
    labels = prep.labels

    def bert_logits(ids):
        return predict_logits(model, ids, progress=progress)

    val_ids, val_y = prep.windows("val", IN_BOOK_WINDOWS_PER_LABEL)
    test_ids, test_y = prep.windows("test", IN_BOOK_WINDOWS_PER_LABEL)
    val_bert = bert_logits(val_ids)
    if config.heldout:  # the partner's mix is fitted where the temperature is
        calib_ids, calib_y, calib_works = prep.unseen_windows("calib", HELDOUT_WINDOWS_PER_WORK)
        fit_ids, fit_y, fit_bert = calib_ids, calib_y, bert_logits(calib_ids)
    else:
        fit_ids, fit_y, fit_bert = val_ids, val_y, val_bert
    partner, fit_char = fit_partner(config, prep, fit_ids, fit_y, fit_bert) if config.partner == "char" else (None, None)

    def logits_of(ids, bert=None, char=None):
        """The window scores the temperature calibrates: BERT's logits, or their mix with the
        partner's (`bert`, `char`: those logits of `ids`, where already computed)."""
        bert = bert_logits(ids) if bert is None else bert
        if partner is None:
            return bert
        return partner.mix(bert, partner.window_logits(tokenizer, ids[:, 1:-1]) if char is None else char)

    fit_logits = logits_of(fit_ids, fit_bert, fit_char)
    val_logits = fit_logits if fit_ids is val_ids else logits_of(val_ids, val_bert)
    test_logits = logits_of(test_ids)
    report = {"format": REPORT_FORMAT, "run": run_dir.name, "labels": labels, "seq_len": config.seq_len,
              "test": classification_metrics(test_logits, test_y, labels),
              "val": classification_metrics(val_logits, val_y, labels)}
    if partner:
        report["partner"] = {**partner.settings(), "windows_per_label": config.partner_windows,
                             "fitted_on": "held-out works, calibration half" if config.heldout else "in-book validation blocks",
                             "nll": {"bert": nll(fit_bert, fit_y, partner.bert_temperature), "mixed": nll(fit_logits, fit_y)}}
    open_set, length_temperatures = OpenSet(), []
    if config.heldout:
        u_ids, u_y, u_works = prep.unseen_windows("test", HELDOUT_WINDOWS_PER_WORK)
        u_bert = bert_logits(u_ids)
        u_char = partner.window_logits(tokenizer, u_ids[:, 1:-1]) if partner else None
        calib_logits, u_logits = fit_logits, logits_of(u_ids, u_bert, u_char)
        if partner:  # each reader alone and the mix, on works neither saw: is the second reader worth it?
            report["partner"]["unseen_accuracy"] = {
                "bert": float(np.mean(u_bert.argmax(1) == u_y)), "mixed": float(np.mean(u_logits.argmax(1) == u_y)),
                "char": float(np.mean(u_char.argmax(1) == u_y))}
        temperature, report["calibration"] = calibration_report(calib_logits, calib_y, u_logits, u_y,
                                                                "held-out works, calibration half")
        b = labels.index(config.background) if config.open_set == "background" else None
        authors = [i for i in range(len(labels)) if i != b]
        taus = {}
        if b is not None:
            _, p_neither, _ = split_probs(softmax(calib_logits, temperature), labels, config.background)
            taus = fit_thresholds(p_neither, calib_y, authors, config.open_set_max_flagged, config.open_set_rule, b)
        # shorter and longer texts: their own temperature and threshold, fitted on texts cut as the judge cuts them
        length_temperatures, tables = fit_lengths(
            judged_texts(prep, "calib", logits_of, temperature), authors, b, config.open_set_max_flagged, prep.width,
            taus, config.open_set_rule)
        if b is not None:
            open_set = OpenSet.fitted(config.background, labels, taus, tables)
        report["unseen_by_length"] = lengths_report(config.background, labels,
                                                    judged_texts(prep, "test", logits_of, temperature), open_set,
                                                    length_temperatures, prep.width)
        books = read_json(files.config).get("books", [])
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
    # the partner's files beside the whowrote.json that describes them, once everything is fitted
    update_model_meta(files.model, temperature=temperature, open_set=open_set.to_dict(),
                      length_temperatures=length_temperatures,
                      partner=partner.save(files.model) if partner else None)

    previous = read_json(files.report)
    for key in ("steps", "train_seconds", "precision", "hardware", "timings", "stopped_early", "validity"):
        if key in previous:
            report[key] = previous[key]
    report["quoted_words_dropped"] = {b["source"]: b["quoted_words_dropped"] for b in prep.books if b.get("quoted_words_dropped")}
    report["test_windows_note"] = "disjoint windows of seq_len-2 tokens from held-out blocks; no token shared with training"
    report.update(extra or {})
    write_json(files.report, report)
    write_card(run_dir)
    return report
