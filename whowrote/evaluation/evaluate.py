"""Score a calibrated run (calibrate.py) on text it never trained on, and write report.json.

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
model's (`model/partner.py`), which is fitted here first, on the training windows, with its
mix on the calibration windows; every number after that is the mix's, as the judge scores.

    whowrote evaluate runs/authors-20261127-120000          # rewrites its report.json
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from ..config import Config
from ..data.pieces import word_pieces
from ..files import write_json
from ..layout import RunFiles, read_json
from ..model.keywords import keyword_pieces, window_keyword_gains
from ..model.metrics import calibration_report, classification_metrics, ece, nll, softmax
from ..model.openset import NEITHER, OpenSet, decide, rates, split_probs
from ..model.repetition import repetition
from ..model.wordorder import prose_rows, window_gains
from ..text.background import era
from ..training.runfolder import REPORT_FORMAT
from .calibrate import HELDOUT_WINDOWS_PER_WORK, IN_BOOK_WINDOWS_PER_LABEL, Calibrated, calibrate_run
from .lengths import judged_texts, lengths_report


def unseen_report(config: Config, labels: list[str], logits: np.ndarray, y: np.ndarray, works: list[str],
                  temperature: float, open_set: OpenSet, books: list[dict], checked: np.ndarray | None = None) -> dict:
    """Decisions on the unseen test half: overall, per author label, per work (or author);
    `checked`: windows the judge's checks make "neither"."""
    probs = softmax(logits, temperature)
    decisions = decide(probs, labels, open_set)
    if checked is not None:
        decisions = [NEITHER if f else d for d, f in zip(decisions, checked)]
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


def evaluate_run(run_dir: str | Path, data_dir: str | None = None, progress: bool = True, model=None,
                 tokenizer=None, extra: dict | None = None) -> dict:
    """Calibrate the run's model (calibrate.py writes model/whowrote.json), then score it on
    every held-out set and write report.json and the model card; returns the report."""
    return write_report(calibrate_run(run_dir, data_dir, progress, model, tokenizer), extra)


def write_report(c: Calibrated, extra: dict | None = None) -> dict:
    """Measure a calibrated model on the windows calibration never used; write report.json
    and the model card (this reads the model folder, never writes it)."""
    from .card import write_card

    files, config, labels = RunFiles(c.run_dir), c.config, c.labels
    (val_ids, val_y), (fit_ids, fit_y) = c.windows["val"], c.windows["fit"]
    test_ids, test_y = c.prep.windows("test", IN_BOOK_WINDOWS_PER_LABEL)
    val_logits = c.logits["fit"] if fit_ids is val_ids else c.logits_of(val_ids, c.logits["val_bert"])
    test_logits = c.logits_of(test_ids)
    report = {"format": REPORT_FORMAT, "run": c.run_dir.name, "labels": labels, "seq_len": config.seq_len,
              "test": classification_metrics(test_logits, test_y, labels),
              "val": classification_metrics(val_logits, val_y, labels)}
    if c.partner:
        report["partner"] = {**c.partner.settings(), "windows_per_label": config.partner_windows,
                             "fitted_on": "held-out works, calibration half" if config.heldout else "in-book validation blocks",
                             "nll": {"bert": nll(c.logits["fit_bert"], fit_y, c.partner.bert_temperature),
                                     "mixed": nll(c.logits["fit"], fit_y)}}
    if config.heldout:
        _unseen_sections(c, report, read_json(files.config).get("books", []))
    else:
        report["calibration"] = calibration_report(val_logits, val_y, test_logits, test_y, "in-book validation blocks",
                                                   temperature=c.temperature)[1]
    report["open_set"] = {**c.open_set.to_dict(), "max_flagged": config.open_set_max_flagged}
    report["calibration"]["in_book_test_after"] = {"ece": ece(softmax(test_logits, c.temperature), test_y)}
    report["calibration"]["precision"] = c.precision  # BERT's reading of every window scored here
    previous = read_json(files.report)
    for key in ("steps", "train_seconds", "precision", "hardware", "timings", "stopped_early", "validity"):
        if key in previous:
            report[key] = previous[key]
    report["quoted_words_dropped"] = {b["source"]: b["quoted_words_dropped"] for b in c.prep.books if b.get("quoted_words_dropped")}
    report["test_windows_note"] = "disjoint windows of seq_len-2 tokens from held-out blocks; no token shared with training"
    report.update(extra or {})
    write_json(files.report, report)
    write_card(c.run_dir)
    return report


def _unseen_sections(c: Calibrated, report: dict, books: list[dict]) -> None:
    """The held-out works' test half: calibration before and after, the partner's worth, every
    length, and the decisions on works (and authors) neither training nor calibration saw."""
    config, labels, fit_y = c.config, c.labels, c.windows["fit"][1]
    u_ids, u_y, u_works = c.prep.unseen_windows("test", HELDOUT_WINDOWS_PER_WORK)
    u_bert = c.bert_logits(u_ids)
    u_char = c.partner.window_logits(c.tokenizer, u_ids[:, 1:-1]) if c.partner else None
    u_logits = c.logits_of(u_ids, u_bert, u_char)
    if c.partner:  # each reader alone and the mix, on works neither saw: is the second reader worth it?
        report["partner"]["unseen_accuracy"] = {
            "bert": float(np.mean(u_bert.argmax(1) == u_y)), "mixed": float(np.mean(u_logits.argmax(1) == u_y)),
            "char": float(np.mean(u_char.argmax(1) == u_y))}
    report["calibration"] = calibration_report(c.logits["fit"], fit_y, u_logits, u_y, "held-out works, calibration half",
                                               temperature=c.temperature)[1]
    report["unseen_by_length"] = lengths_report(config.background, labels,
                                                judged_texts(c.prep, "test", c.logits_of, c.temperature), c.open_set,
                                                c.length_temperatures, c.prep.width)
    report["unseen_calibration"] = unseen_report(config, labels, c.logits["fit"], fit_y, c.windows["calib_works"],
                                                 c.temperature, c.open_set, books)
    # in the judge's order, each on what the ones before left
    flagged, truth = None, np.array([labels[i] for i in u_y])
    for name, fit, flagger in (("repetition_check", c.repetition, _repetition_flagged),
                               ("coherence_check", c.coherence, _coherence_flagged),
                               ("order_check", c.order, _order_flagged), ("keyword_check", c.keywords, _keyword_flagged)):
        marks = flagger(c, u_ids, u_logits, flagged)
        flagged = _either(flagged, marks)
        if fit:  # what each check turns to "neither" among the test windows, by truth
            marks = np.zeros(len(truth), bool) if marks is None else marks
            report[name] = {**fit, "test_flagged": {lab: float(marks[truth == lab].mean()) for lab in dict.fromkeys(truth)}}
    report["unseen"] = unseen_report(config, labels, u_logits, u_y, u_works, c.temperature, c.open_set, books, flagged)
    report["unseen"]["note"] = ("disjoint windows of works never trained on (test half); temperature and "
                                "threshold were fitted on the other half")


def _given_prose(c: Calibrated, ids: np.ndarray, logits: np.ndarray, thresholds: dict, skip: np.ndarray | None = None):
    """(decisions, indices) of the windows of prose the judge gives to an author with a threshold,
    less those in `skip` (a check before this one made them "neither")."""
    decisions = np.array(decide(softmax(logits, c.temperature), c.labels, c.open_set))
    checked = np.isin(decisions, list(thresholds)) & prose_rows(ids, word_pieces(c.tokenizer))
    return decisions, np.flatnonzero(checked if skip is None else checked & ~skip)


def _keyword_flagged(c: Calibrated, ids: np.ndarray, logits: np.ndarray, already: np.ndarray | None) -> np.ndarray | None:
    """Which windows the keyword check turns to "neither" (None: the model has no check): those
    the judge would still give to an author whose gain is over that author's threshold."""
    thresholds = c.open_set.keyword_thresholds
    if not thresholds:
        return None
    decisions, given = _given_prose(c, ids, logits, thresholds, already)
    keys = {a: keyword_pieces(c.tokenizer, c.open_set.keywords[a]) for a in thresholds}
    flagged = np.zeros(len(ids), bool)
    gains = window_keyword_gains(c.logits_of, ids[given], c.temperature, c.labels, c.config.background,
                                 list(decisions[given]), keys, word_pieces(c.tokenizer), logits[given])
    flagged[given] = gains > np.array([thresholds[d] for d in decisions[given]])
    return flagged


def _either(a: np.ndarray | None, b: np.ndarray | None) -> np.ndarray | None:
    return b if a is None else a if b is None else a | b


def _repetition_flagged(c: Calibrated, ids: np.ndarray, logits: np.ndarray, already: np.ndarray | None = None
                        ) -> np.ndarray | None:
    """Which windows the repetition check turns to "neither" (None: the model has no check):
    those the judge would give to an author that repeat more of their word runs than its threshold."""
    thresholds = c.open_set.repetition_thresholds
    if not thresholds:
        return None
    decisions, given = _given_prose(c, ids, logits, thresholds, already)
    vocab = word_pieces(c.tokenizer)
    flagged = np.zeros(len(ids), bool)
    flagged[given] = [repetition(ids[i, 1:-1], vocab) > thresholds[decisions[i]] for i in given]
    return flagged


def _coherence_flagged(c: Calibrated, ids: np.ndarray, logits: np.ndarray, already: np.ndarray | None = None
                       ) -> np.ndarray | None:
    """Which windows the coherence check turns to "neither" (None: the model has no check):
    those the judge would give to an author whose word-chain log-odds are over its threshold."""
    thresholds = c.open_set.coherence_thresholds
    if not thresholds or c.coherence_reader is None:
        return None
    decisions, given = _given_prose(c, ids, logits, thresholds, already)
    flagged = np.zeros(len(ids), bool)
    z = c.coherence_reader.scores(ids[given][:, 1:-1].tolist(), c.tokenizer)
    flagged[given] = z > np.array([thresholds[d] for d in decisions[given]])
    return flagged


def _order_flagged(c: Calibrated, ids: np.ndarray, logits: np.ndarray, already: np.ndarray | None = None
                   ) -> np.ndarray | None:
    """Which windows the word-order check turns to "neither" (None: the model has no check):
    those the judge would give to an author whose gain is under that author's threshold."""
    thresholds = c.open_set.order_thresholds
    if not thresholds:
        return None
    decisions, given = _given_prose(c, ids, logits, thresholds, already)
    flagged = np.zeros(len(ids), bool)
    gains = window_gains(c.logits_of, ids[given], c.temperature, c.labels, c.config.background, list(decisions[given]),
                         word_pieces(c.tokenizer), logits[given])
    flagged[given] = gains < np.array([thresholds[d] for d in decisions[given]])
    return flagged
