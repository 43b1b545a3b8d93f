"""The numbers: logits of fixed windows, accuracy/loss/F1, calibration (ECE, Brier, NLL).

Calibration is a single temperature T fitted on calibration windows (minimum NLL), then
judged on test windows by expected calibration error (ECE, 15 equal-width confidence
bins) and the Brier score (mean over passages of sum_c (p_c - 1[y=c])^2), before and after.
One softmax / log-softmax / NLL / temperature fit for the whole package, and one interval
for a share of passages (`share_interval`).

    python -c "from whowrote.model.metrics import ece; import numpy as np; print(ece(np.array([[.9, .1]]), np.array([0])))"
"""

from __future__ import annotations

import math

import numpy as np
import torch

ECE_BINS = 15


@torch.inference_mode()
def predict_logits(model, input_ids: np.ndarray, batch_size: int = 64, device=None, progress: bool = False,
                   bf16: bool = False) -> np.ndarray:
    """Logits for equal-length windows (no padding needed), as float64 [n, n_labels]; with
    `bf16`, read under bf16 autocast."""
    from tqdm.auto import tqdm

    was_training = model.training
    model.eval()
    device = device or next(model.parameters()).device
    out = []
    batches = range(0, len(input_ids), batch_size)
    for i in tqdm(batches, desc="evaluating", unit="batch", disable=not progress, leave=False):
        ids = torch.as_tensor(input_ids[i : i + batch_size], device=device)
        with torch.autocast(device.type, dtype=torch.bfloat16, enabled=bf16):
            logits = model(input_ids=ids, attention_mask=torch.ones_like(ids)).logits
        out.append(logits.float().cpu().numpy())
    model.train(was_training)
    n_labels = getattr(model, "module", model).config.num_labels  # DDP wraps the model in .module
    return np.concatenate(out).astype(np.float64) if out else np.zeros((0, n_labels))


def log_softmax(logits: np.ndarray, temperature: float = 1.0) -> np.ndarray:
    z = logits / temperature
    z = z - z.max(axis=1, keepdims=True)
    return z - np.log(np.exp(z).sum(axis=1, keepdims=True))


def softmax(logits: np.ndarray, temperature: float = 1.0) -> np.ndarray:
    return np.exp(log_softmax(logits, temperature))


def nll(logits: np.ndarray, labels: np.ndarray, temperature: float = 1.0) -> float:
    if not len(labels):
        return float("nan")
    return float(-np.mean(log_softmax(logits, temperature)[np.arange(len(labels)), labels]))


def ece(probs: np.ndarray, labels: np.ndarray, bins: int = ECE_BINS) -> float:
    if not len(labels):
        return float("nan")
    conf = probs.max(axis=1)
    correct = probs.argmax(axis=1) == labels
    # Bin i holds confidences in (i/bins, (i+1)/bins]; a confidence of exactly 0 joins bin 0.
    idx = np.clip(np.ceil(conf * bins).astype(int) - 1, 0, bins - 1)
    total = 0.0
    for b in range(bins):
        mask = idx == b
        if mask.any():
            total += mask.sum() / len(labels) * abs(correct[mask].mean() - conf[mask].mean())
    return float(total)


def brier(probs: np.ndarray, labels: np.ndarray) -> float:
    onehot = np.eye(probs.shape[1])[labels]
    return float(np.mean(np.sum((probs - onehot) ** 2, axis=1))) if len(labels) else float("nan")


T_MIN, T_MAX = 0.25, 20.0


def mix_weight(logp_a: np.ndarray, logp_b: np.ndarray, labels: np.ndarray) -> float:
    """The weight w of `a` in w log p_a + (1 - w) log p_b, on a 0.05 grid, with the lowest NLL
    on `labels` (ties: the smaller w). Two readers of the same passages, mixed as a weighted
    geometric mean: `compare --ensemble` and the judge's char partner."""
    grid = np.linspace(0, 1, 21)
    return round(float(grid[int(np.argmin([nll(w * logp_a + (1 - w) * logp_b, labels) for w in grid]))]), 2)


def fit_temperature(logits: np.ndarray, labels: np.ndarray, bounds: tuple[float, float] = (T_MIN, T_MAX)) -> float:
    """The T in `bounds` (default [T_MIN, T_MAX]) minimising validation NLL of softmax(logits / T).

    The floor matters: when every validation window is right, NLL keeps falling as T -> 0,
    an optimum that only says the validation set has too few errors. Sharpening without end
    would make the judge report 1.0000 for every text, useless on text unlike the books."""
    from scipy.optimize import minimize_scalar

    if not len(labels):
        return 1.0
    res = minimize_scalar(lambda log_t: nll(logits, labels, math.exp(log_t)), bounds=(math.log(bounds[0]), math.log(bounds[1])), method="bounded")
    return float(math.exp(res.x))


def fit_author_offsets(logits: np.ndarray, labels: np.ndarray, temperature: float, authors: list[int]) -> np.ndarray:
    """Log-odds for the `authors` (zero for every other label, mean zero among them) that
    `weigh_authors` adds to P(author | by one of them) at `temperature`, fitted by least NLL on
    the authors' windows with each author's windows weighing alike. Equal priors: not the mix
    of book lengths in the calibration set (Poe's 150 windows against Carroll's 33), and not a
    lean that an author's unseen works sit further from his training works than another's."""
    from scipy.optimize import minimize

    offsets = np.zeros(logits.shape[1])
    rows = np.isin(labels, authors)
    if len(authors) < 2 or not all(np.any(labels == a) for a in authors):
        return offsets  # an author without calibration windows: nothing to weigh against
    z = logits[rows][:, authors] / temperature
    y = np.array([authors.index(v) for v in labels[rows]])
    weight = 1.0 / np.bincount(y, minlength=len(authors))[y]

    def loss(free):
        logp = log_softmax(z + np.concatenate([[0.0], free]))
        return -np.sum(weight * logp[np.arange(len(y)), y]) / len(authors)

    shift = np.concatenate([[0.0], minimize(loss, np.zeros(len(authors) - 1), method="L-BFGS-B").x])
    offsets[authors] = shift - shift.mean()
    return offsets


def weigh_authors(log_probs: np.ndarray, offsets: np.ndarray | None, background: int | None) -> np.ndarray:
    """Window log-probabilities with P(author | by one of them) multiplied by exp(offset) and
    renormalised among the authors (every label but `background`), and P(background), the
    model's answer to "by none of them", left as it was. None: no offsets."""
    from scipy.special import logsumexp

    if offsets is None:
        return log_probs
    cols = [i for i in range(log_probs.shape[1]) if i != background]
    before = log_probs[:, cols]
    after = before + offsets[cols]
    out = log_probs.copy()
    out[:, cols] = after - logsumexp(after, axis=1, keepdims=True) + logsumexp(before, axis=1, keepdims=True)
    return out


def classification_metrics(logits: np.ndarray, labels: np.ndarray, names: list[str], temperature: float = 1.0) -> dict:
    """Everything report.json says about one set of windows."""
    from sklearn.metrics import balanced_accuracy_score, confusion_matrix, precision_recall_fscore_support

    probs = softmax(logits, temperature)
    pred = probs.argmax(axis=1)
    ids = list(range(len(names)))
    p, r, f, s = precision_recall_fscore_support(labels, pred, labels=ids, zero_division=0)
    return {
        "windows": int(len(labels)),
        "windows_per_label": {n: int((labels == i).sum()) for i, n in enumerate(names)},
        "accuracy": float((pred == labels).mean()) if len(labels) else float("nan"),
        "balanced_accuracy": float(balanced_accuracy_score(labels, pred)) if len(labels) else float("nan"),
        "loss": nll(logits, labels, temperature),
        "ece": ece(probs, labels),
        "brier": brier(probs, labels),
        "confusion_matrix": {"labels": names, "rows_true_cols_pred": confusion_matrix(labels, pred, labels=ids).tolist()},
        "per_label": {
            n: {"precision": float(p[i]), "recall": float(r[i]), "f1": float(f[i]), "support": int(s[i])}
            for i, n in enumerate(names)
        },
        "macro_f1": float(np.mean(f)),
    }


def calibration_report(fit_logits, fit_labels, test_logits, test_labels, fitted_on: str = "val",
                       temperature: float | None = None) -> tuple[float, dict]:
    """Fit T on (fit_logits, fit_labels) (or take the `temperature` fitted there), report
    ECE/Brier/NLL of the test windows before and after."""
    t = fit_temperature(fit_logits, fit_labels) if temperature is None else temperature

    def part(temp):
        probs = softmax(test_logits, temp)
        return {"ece": ece(probs, test_labels), "brier": brier(probs, test_labels), "nll": nll(test_logits, test_labels, temp)}
    return t, {"temperature": t, "fitted_on": fitted_on, "ece_bins": ECE_BINS, "test_before": part(1.0), "test_after": part(t)}


def share_interval(count: int, n: int, confidence: float = 0.95) -> list[float]:
    """The Wilson score interval [lo, hi] of a share `count` of `n` passages (scipy's
    binomtest). Why Wilson: the held-out sets are small (24 passages of Carroll's unseen work
    in the README run), and at 0 of 24 the normal approximation gives [0, 0] where Wilson
    gives [0, 0.14]. Passages cut from one work are not independent draws, so the real
    uncertainty is wider still; the interval is a floor on it. n = 0: [0, 1]."""
    if n <= 0:
        return [0.0, 1.0]
    from scipy.stats import binomtest

    ci = binomtest(int(round(count)), int(n)).proportion_ci(confidence, method="wilson")
    return [float(ci.low), float(ci.high)]


def share_text(row: dict, key: str) -> str:
    """`row[key]` and, where the row has it (`KEY_ci`; absent in files written before the
    intervals), its interval: "0.067 [0.04, 0.12]". For cards, reports and the command line."""
    ci = row.get(f"{key}_ci")
    return f"{row[key]:.3f}" + (f" [{ci[0]:.2f}, {ci[1]:.2f}]" if ci else "")
