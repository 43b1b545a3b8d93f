"""Why was a passage attributed as it was? Word-level integrated-gradients attributions.

For each window of the text, the contribution of token i to the log-odds of `label` (its
logit minus the log-sum-exp of the others, temperature applied) is integrated gradients
(Sundararajan et al. 2017) on the input embeddings e_i, from a baseline b where every word
is [MASK] ([CLS]/[SEP] kept):  IG_i = (e_i - b_i) . mean_a d odds(b + a (e - b)) / d e_i  over
`steps` points a in (0, 1]. The judge scores a text by the mean over its J windows, so a
token's attribution is the sum of its contributions in every window that holds it,
divided by J: the attributions of the whole text then add up (approximately, with `steps`
points) to the mean over windows of odds(window) - odds(baseline window), the printed
`log_odds - baseline_log_odds`, for a text of any length. Log-odds, not log P: a confident
P saturates and its gradient vanishes. The text goes through the model's normalisation
first, so a masked name gets no credit (it is the baseline's [MASK] already); word pieces
("ver", "##y") are summed into the word they spell; punctuation stays on its own (it is a
stylistic cue too). Positive: the word pushes towards `label`. With a char partner
(`model/partner.py`) the words explain BERT's reading, at BERT's own temperature in the
mix; the char n-grams' share of the verdict is not spread over words.

    whowrote judge --model runs/X --explain "The Walrus and the Carpenter were walking close at hand"
"""

from __future__ import annotations

from collections import defaultdict

import numpy as np
import torch


def _log_odds(model, embeds: torch.Tensor, target: int, temperature: float) -> torch.Tensor:
    """Log-odds of `target` against the other labels, one per row of `embeds`."""
    mask = torch.ones(embeds.shape[:2], dtype=torch.long, device=embeds.device)
    z = model(inputs_embeds=embeds, attention_mask=mask).logits.float() / temperature
    others = torch.cat([z[:, :target], z[:, target + 1:]], dim=1)
    return z[:, target] - torch.logsumexp(others, dim=1)


def token_attributions(judge, text: str, label: str | None = None, steps: int = 16):
    """(label, [(start_char, end_char, score)] per token, [(log_odds, baseline_log_odds)] per window)."""
    ids, offsets = judge.encode([text])[0]
    model, tok = judge.model, judge.tokenizer
    if label is None or label not in judge.labels:  # "neither": explain the background label
        label = judge.score([text])[0].label if label is None else label
        label = label if label in judge.labels else (judge.open_set.background or judge.labels[0])
    target = judge.labels.index(label)
    contributions, odds = defaultdict(list), []
    embed = model.get_input_embeddings()
    # Baseline: every word replaced by [MASK], "a passage with the words taken out";
    # [CLS] and [SEP] are kept. (A zero embedding is no neutral input for BERT.)
    mask_id = tok.mask_token_id if tok.mask_token_id is not None else tok.pad_token_id
    alphas = (torch.arange(steps, device=judge.device, dtype=torch.float32) + 0.5) / steps  # midpoint rule
    for w, _, _, tokens_read in judge.windows(encoded=(ids, offsets)):
        first = tokens_read - len(w)
        ids = torch.tensor([[tok.cls_token_id, *w, tok.sep_token_id]], device=judge.device)
        e = embed(ids).detach()
        keep = embed(torch.full_like(ids, mask_id)).detach()
        keep[:, 0], keep[:, -1] = e[:, 0], e[:, -1]
        with torch.enable_grad():
            path = (keep + alphas.to(e.dtype)[:, None, None] * (e - keep)).requires_grad_(True)
            (grad,) = torch.autograd.grad(_log_odds(model, path, target, judge.bert_temperature).sum(), path)
        contrib = ((e - keep)[0] * grad.mean(0)).sum(-1)[1:-1].detach().cpu().numpy()
        with torch.no_grad():
            odds.append(tuple(_log_odds(model, torch.cat([e, keep]), target, judge.bert_temperature).tolist()))
        for k, c in enumerate(contrib):
            contributions[first + k].append(float(c))
    n_windows = len(odds)
    return label, [(offsets[i][0], offsets[i][1], sum(contributions[i]) / n_windows) for i in sorted(contributions)], odds


def word_attributions(judge, text: str, label: str | None = None):
    """Tokens merged into the words they spell (touching letters), in text order."""
    label, tokens, odds = token_attributions(judge, text, label)
    words: list[dict] = []
    for start, end, score in tokens:
        # word pieces of a word the normalisation rewrote ("Tge" -> "the", a folded or re-cased
        # word) each map to the whole original word: they overlap it rather than touch it
        inside = words and start < words[-1]["end_char"]
        touching = (words and words[-1]["end_char"] == start and start > 0 and text[start - 1].isalnum()
                    and text[start].isalnum())
        if inside or touching:
            words[-1]["end_char"], words[-1]["score"] = max(end, words[-1]["end_char"]), words[-1]["score"] + score
        else:
            words.append({"start_char": start, "end_char": end, "score": score})
    for w in words:
        w["word"] = text[w["start_char"]:w["end_char"]]
    return label, words, odds


def explain(judge, text: str, label: str | None = None, top_k: int = 10, all_words: bool = False) -> dict:
    """The words that pushed most towards `label` (default: the predicted one) and against
    it; with `all_words`, every word with its offsets too (for highlighting)."""
    label, words, odds = word_attributions(judge, text, label)
    ranked = sorted(words, key=lambda w: w["score"], reverse=True)
    keep = lambda ws: [{"word": w["word"], "score": round(w["score"], 4), "start_char": w["start_char"]} for w in ws]
    out = {"label": label, "for": keep([w for w in ranked if w["score"] > 0][:top_k]),
           "against": keep([w for w in ranked[::-1] if w["score"] < 0][:top_k]),
           "log_odds": float(np.mean([o for o, _ in odds])),
           "baseline_log_odds": float(np.mean([b for _, b in odds])),
           "sum_of_scores": float(np.sum([w["score"] for w in words]))}
    if all_words:
        out["words"] = [{"word": w["word"], "start_char": w["start_char"], "end_char": w["end_char"],
                         "score": round(w["score"], 5)} for w in words]
    return out
