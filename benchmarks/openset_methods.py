"""How well can "neither" be told at all? Open-set scores compared on a run's held-out data.

For a run with a background label and held-out works, on both halves of the held-out
passages (calibration / test), the share of unseen authors flagged when each author may have
at most 5% of its unseen passages flagged (threshold per half, as an oracle would set it),
and the AUROC, for:
- the judge's P(background) (with a char partner: BERT mixed with it, `Judge.log_probs`), and BERT's alone;
- the energy of the authors' logits alone, -logsumexp (Liu et al. 2020), and the background
  logit's margin over the top author's: other readings of the same logits;
- the Mahalanobis distance of the [CLS] vector to the nearest author (Podolskiy et al. 2021),
  class means and a shared Ledoit-Wolf covariance fitted on training windows;
- a char 2-5-gram TF-IDF logistic regression with the same three labels and windows;
- BERT and the char model averaged (mean log-probability);
- the run's P(background) for contiguous texts of 2 and 4 windows' length, cut and scored
  as the judge scores a text (`whowrote.evaluation.lengths.judged_texts`).
A second table decides as the judge does, for BERT alone, this script's char model, the two
averaged, and the judge itself (BERT with its own char partner where the run has one):
the thresholds fitted on the calibration half so that each author has at most the run's
`open_set_max_flagged` of its passages flagged, by the run's `open_set_rule`
(`fit_thresholds`: one per author, or the strictest for all), BERT scored by the judge's
model (`Judge.logits` at BERT's temperature, its arithmetic); on the test
half, the unseen authors and the authors' own passages flagged, the accuracy, and the labels
that 5% typos change (the `validate` probe's typos on each window's text, normalised again).

    .venv/bin/python benchmarks/openset_methods.py runs/authors-X --readme docs/decisions.md
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

import numpy as np
import torch

sys.path.insert(0, str(Path(__file__).resolve().parent))
from machine import describe, publish, run_benchmark  # noqa: E402


def flagged_at(score: np.ndarray, y: np.ndarray, background: int, fpr: float = 0.05) -> float:
    """Share of background passages at or above the lowest threshold that keeps every
    author's flagged share at most `fpr`."""
    tau = max(np.quantile(score[y == a], 1 - fpr) for a in np.unique(y) if a != background)
    return float(np.mean(score[y == background] >= tau))


def judge_rule_rows(judge, prep, char, char_lr, config) -> list[str]:
    """Markdown rows: BERT, the char model, both, and the judge, each deciding as the judge
    decides (`fit_thresholds` on the calibration half, then `decide`)."""
    from whowrote.evaluation.probes import typos
    from whowrote.model.metrics import log_softmax
    from whowrote.model.openset import NEITHER, OpenSet, decide, fit_thresholds
    from whowrote.text.normalise import normalise

    spec, b = judge.normalise, prep.labels.index(config.background)
    authors = [c for c in range(len(prep.labels)) if c != b]

    def slipped(text: str, seed: int) -> str:  # the probe's typos, the name placeholder kept whole
        marked = text.replace(spec.placeholder, "\u00a7")
        return normalise(typos(marked, 0.05, seed).replace("\u00a7", spec.placeholder), spec, track=False).text

    def both(texts):  # (BERT's, the char model's, the judge's) log-probabilities; the texts are normalised already
        ids = [row[:prep.width] for row in judge.tokenizer(texts, add_special_tokens=False)["input_ids"]]
        return (log_softmax(judge.logits(ids), judge.bert_temperature),
                np.log(np.clip(char_lr.predict_proba(char.transform(texts)), 1e-9, 1)), judge.log_probs(ids))

    calib, calib_y = both(prep.unseen_window_texts("calib", 150)), prep.unseen_windows("calib", 150)[1]
    test_texts, test_y = prep.unseen_window_texts("test", 150), prep.unseen_windows("test", 150)[1]
    test, typo = both(test_texts), both([slipped(t, i) for i, t in enumerate(test_texts)])
    own = test_y != b
    truth = np.where(own, np.array(prep.labels)[test_y], NEITHER)  # what the judge should answer
    rows = []
    the_judge = "the judge: BERT and its char partner" if judge.partner else "the judge (BERT alone)"
    for name, pick in (("BERT alone", lambda bert, ch, j: bert), ("char 2-5-gram LR", lambda bert, ch, j: ch),
                       ("BERT and char LR, mean log-probability", lambda bert, ch, j: log_softmax((bert + ch) / 2)),
                       (the_judge, lambda bert, ch, j: j)):
        taus = fit_thresholds(np.exp(pick(*calib)[:, b]), calib_y, authors, config.open_set_max_flagged,
                              config.open_set_rule, b)
        open_set = OpenSet.fitted(config.background, prep.labels, taus)
        clean, slips = (np.array(decide(np.exp(pick(*lp)), prep.labels, open_set)) for lp in (test, typo))
        flagged = clean == NEITHER
        rows.append(f"| {name} | {flagged[~own].mean():.3f} | {flagged[own].mean():.3f} | "
                    f"{np.mean(clean == truth):.3f} | {np.mean(clean != slips):.3f} |")
    return rows


@torch.inference_mode()
def cls_and_logits(model, ids: np.ndarray):
    feats, logits = [], []
    for i in range(0, len(ids), 64):
        x = torch.as_tensor(ids[i:i + 64])
        out = model(input_ids=x, attention_mask=torch.ones_like(x), output_hidden_states=True)
        feats.append(out.hidden_states[-1][:, 0].float().numpy())
        logits.append(out.logits.float().numpy())
    return np.concatenate(feats), np.concatenate(logits)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("run")
    parser.add_argument("--readme")
    args = parser.parse_args()

    from scipy.special import logsumexp
    from sklearn.covariance import LedoitWolf
    from sklearn.feature_extraction.text import TfidfVectorizer
    from sklearn.linear_model import LogisticRegression
    from sklearn.metrics import roc_auc_score

    from whowrote.config import load_run_config
    from whowrote.data.prepare import prepare
    from whowrote.evaluation.lengths import judged_texts
    from whowrote.judge.core import Judge
    from whowrote.model.metrics import log_softmax
    from whowrote.model.openset import for_length

    config = load_run_config(args.run)
    if not config.background or not config.heldout:
        sys.exit("the run needs a background label and held-out works")
    judge = Judge.load(args.run)  # the judge's own scoring for the second table; its fp32 model for the first
    model, tok = judge.model, judge.tokenizer
    meta = json.loads((Path(args.run) / "model" / "whowrote.json").read_text())
    prep = prepare(config, tok, spec=judge.normalise)
    b = prep.labels.index(config.background)
    train_ids, train_y = prep.windows("train", 300)
    train_feats, _ = cls_and_logits(model, train_ids)
    means = np.stack([train_feats[train_y == c].mean(0) for c in range(len(prep.labels))])
    precision = LedoitWolf().fit(train_feats - means[train_y]).precision_
    char = TfidfVectorizer(analyzer="char_wb", ngram_range=(2, 5), sublinear_tf=True, min_df=2, max_features=200_000)
    char_lr = LogisticRegression(C=10, max_iter=2000, class_weight="balanced").fit(
        char.fit_transform(prep.window_texts("train", 1500)), prep.windows("train", 1500)[1])

    rows = {}
    for part in ("calib", "test"):
        ids, y, _ = prep.unseen_windows(part, 150)
        feats, logits = cls_and_logits(model, ids)
        lp = log_softmax(logits)
        dist = np.stack([np.einsum("ij,jk,ik->i", feats - m, precision, feats - m) for m in means], 1)
        authors = [c for c in range(len(prep.labels)) if c != b]
        lc = np.log(np.clip(char_lr.predict_proba(char.transform(prep.unseen_window_texts(part, 150))), 1e-9, 1))
        scores = {"P(background), the judge's score": judge.log_probs([list(r[1:-1]) for r in ids])[:, b],
                  "P(background), BERT alone": lp[:, b],
                  "energy of the authors' logits, -logsumexp (Liu et al. 2020)": -logsumexp(logits[:, authors], axis=1),
                  "background logit minus the top author's": logits[:, b] - logits[:, authors].max(1),
                  "Mahalanobis distance to the nearest author": dist[:, authors].min(1),
                  "char 2-5-gram LR, P(background)": lc[:, b],
                  "BERT and char LR, mean log-probability": log_softmax((lp + lc) / 2)[:, b]}
        for name, s in scores.items():
            rows.setdefault(name, {})[part] = (roc_auc_score(y == b, s), flagged_at(s, y, b))
        # as the judge scores a window (its log-probabilities, which log_softmax at T = 1 leaves as they are)
        texts = judged_texts(prep, part, lambda x: judge.log_probs([list(r[1:-1]) for r in x]), 1.0)
        for n in (2 * prep.width, 4 * prep.width):  # as the judge scores a longer text
            mean_logp, ty, _ = texts[n]
            s = log_softmax(mean_logp, for_length(meta.get("length_temperatures", []), n, 1.0))[:, b]
            rows.setdefault(f"P(background), contiguous texts of {n} tokens", {})[part] = (
                roc_auc_score(ty == b, s), flagged_at(s, ty, b))
    lines = [f"Run `{Path(args.run).name}`; held-out passages of 128 tokens, calibration half / test half; unseen "
             f"authors flagged when each author may have at most 5% of its unseen passages flagged. Machine: {describe()}.",
             "", "| score | AUROC | unseen authors flagged at ≤5% |", "|---|---|---|"]
    for name, r in rows.items():
        lines.append(f"| {name} | {r['calib'][0]:.3f} / {r['test'][0]:.3f} | {r['calib'][1]:.3f} / {r['test'][1]:.3f} |")
    rule = "its own threshold" if config.open_set_rule == "author" else "one threshold, the strictest author's"
    lines += ["", f"Deciding as the judge does (from the calibration half, each author at most "
              f"{config.open_set_max_flagged:.0%} flagged; {rule}), test half:", "",
              "| model | unseen authors flagged | authors' own flagged | accuracy | labels changed by 5% typos |",
              "|---|---|---|---|---|", *judge_rule_rows(judge, prep, char, char_lr, config)]
    publish("\n".join(lines), args.readme, "bench-openset")


if __name__ == "__main__":
    run_benchmark(main)
