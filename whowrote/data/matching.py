"""Content-matched background: the background windows that read most like the authors.

Unseen authors that the judge does not flag go to the author of their genre (comic prose
to Carroll, dark prose to Poe): the background label, drawn uniformly from long novels,
lets subject and register tell the authors from everyone else. With `background_match` >
0 that share of the background's training windows is drawn from the part of each
background work that reads most like the authors' training text, so the model must tell
the authors from other hands on the same kind of page, by style.

"Reads like" is measured by the pretrained encoder before fine-tuning (mean-pooled,
L2-normalised last hidden states: all-MiniLM-L6-v2 was trained as exactly such a sentence
embedding of content): a background window's likeness is the mean cosine similarity of
its `NEIGHBOURS` nearest author windows; the `TOP_FRACTION` most alike windows of each
background work form its matched pool.

    python -c "from whowrote.data.matching import matched_starts; help(matched_starts)"
"""

from __future__ import annotations

import numpy as np
import torch

from .split import disjoint_starts, with_special_tokens

TOP_FRACTION = 0.25  # of each background work's training windows: its matched pool
NEIGHBOURS = 10  # author windows a background window's likeness is averaged over
MAX_AUTHOR_WINDOWS = 3000  # per author label, evenly spaced: enough to cover its works


@torch.inference_mode()
def embed(model, windows: np.ndarray, cls_id: int, sep_id: int, batch_size: int = 64, progress: bool = False) -> np.ndarray:
    """Mean-pooled, L2-normalised last hidden states of the encoder under `model`'s head."""
    from tqdm.auto import tqdm

    encoder = model.base_model
    was_training = encoder.training
    encoder.eval()
    device = next(encoder.parameters()).device
    ids = with_special_tokens(windows, cls_id, sep_id)
    out = []
    for i in tqdm(range(0, len(ids), batch_size), desc="matching background", unit="batch", disable=not progress, leave=False):
        batch = torch.as_tensor(ids[i: i + batch_size], device=device)
        hidden = encoder(input_ids=batch, attention_mask=torch.ones_like(batch)).last_hidden_state.float()
        out.append(torch.nn.functional.normalize(hidden.mean(dim=1), dim=-1).cpu().numpy())
    encoder.train(was_training)
    return np.concatenate(out) if out else np.zeros((0, 1), np.float32)


def likeness(background: np.ndarray, authors: list[np.ndarray], neighbours: int = NEIGHBOURS) -> np.ndarray:
    """Per background embedding: the mean cosine similarity of its `neighbours` nearest
    windows of the author it is most like."""
    best = np.full(len(background), -np.inf)
    for emb in authors:
        sims = background @ emb.T
        k = min(neighbours, sims.shape[1])
        top = np.partition(sims, sims.shape[1] - k, axis=1)[:, -k:]
        best = np.maximum(best, top.mean(axis=1))
    return best


def matched_starts(prep, model, background: int, progress: bool = False) -> list[np.ndarray]:
    """For each background work with training windows: [[lowest, highest start], ...] of
    its `TOP_FRACTION` windows most like the authors' training text, each free to move by
    half a window inside its block (so a matched page is not always cut at one place)."""
    width = prep.width
    author_emb = []
    for label_id, stream in enumerate(prep.streams):
        if label_id == background:
            continue
        starts, _ = disjoint_starts(stream, prep.parts[label_id]["train"], width, MAX_AUTHOR_WINDOWS)
        author_emb.append(embed(model, np.stack([stream.tokens[s: s + width] for s in starts]), prep.cls_id,
                                prep.sep_id, progress=progress))
    stream = prep.streams[background]
    starts, works = disjoint_starts(stream, prep.parts[background]["train"], width)
    emb = embed(model, np.stack([stream.tokens[s: s + width] for s in starts]), prep.cls_id, prep.sep_id, progress=progress)
    score = likeness(emb, author_emb)
    block_bounds = np.array(stream.blocks)
    block_of = np.searchsorted(block_bounds[:, 0], starts, side="right") - 1
    lo = np.maximum(block_bounds[block_of, 0], starts - width // 2)
    hi = np.minimum(block_bounds[block_of, 1] - width, starts + width // 2)
    pools = []
    for w in np.unique(works):
        mine = np.flatnonzero(works == w)
        best = np.sort(mine[np.argsort(-score[mine])[:max(1, int(round(TOP_FRACTION * len(mine))))]])
        pools.append(np.stack([lo[best], hi[best]], axis=1))
    return pools
