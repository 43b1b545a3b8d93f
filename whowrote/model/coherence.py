"""The coherence check: does a text hang together beyond pairs of words?

A word Markov chain of order 1 built from an author's books keeps his vocabulary and every
word pair, so the classifier, which reads an author's words and their local order, gives it
to him (S 0.94). Its syntax breaks every few words, which the *pretrained* encoder's middle
layers see plainly; the fine-tuned classifier's layers no longer do for its authors' text
(they map any of Carroll's windows near Carroll). So the judge keeps the pretrained
encoder's first layers beside the classifier (`coherence/` in the model folder, a BERT
`transformers` loads as it is) and a logistic regression on the mean of their hidden states
(`CoherenceReader`): its log-odds `z` that a window is a word chain rather than prose,
fitted on every label's training books, the authors' and the background's (their windows
against word chains of order 1-2 made from each book). Per author, calibration sets a
threshold at the (1 - max_flagged) quantile of the z of its own calibration windows of prose
(`fit_coherence_threshold`).

The judge reads a text's window sample (the word-order check's) through it; a text given to
an author whose mean z is over that author's threshold is "neither", flagged "incoherent",
and its S is scaled by `p_coherent` = sigmoid(threshold - z), so a generator's reward falls
smoothly as its text stops hanging together.

    whowrote judge --model runs/X --json chain.txt   # "incoherence", "p_coherent"; "incoherent" in "flags"
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import torch

from ..data.augment import WordChain, word_groups
from ..errors import WhowroteError
from .bert import padded_batches

COHERENCE_LAYERS = (2, 3, 4)  # hidden states read (0: embeddings): where BERT's syntax is, before its top layers
FOLDER = "coherence"  # in the model folder: the truncated pretrained encoder and the head
HEAD_FILE = "head.safetensors"
INCOHERENT_FLAG = "incoherent"
CHAIN_ORDERS = (1, 2)  # the word chains the head learns to tell from prose


def layers_of(n_layers: int) -> list[int]:
    """COHERENCE_LAYERS an encoder of `n_layers` has; its top layer where it has none of them."""
    return [k for k in COHERENCE_LAYERS if k <= n_layers] or [n_layers]


def pretrained_encoder(path: str):
    """The pretrained encoder at `path` (a model folder or hub name) cut after the last layer read."""
    import transformers
    from transformers import AutoConfig, AutoModel

    try:
        config = AutoConfig.from_pretrained(path)
        config.num_hidden_layers = max(layers_of(config.num_hidden_layers))
        verbosity = transformers.logging.get_verbosity()
        transformers.logging.set_verbosity_error()  # the dropped layers' weights are "unused": by design
        try:
            encoder = AutoModel.from_pretrained(path, config=config, dtype=torch.float32)
        finally:
            transformers.logging.set_verbosity(verbosity)
    except (OSError, ValueError) as exc:
        raise WhowroteError(f"the coherence check needs the pretrained model {path}: {exc}") from None
    return encoder.eval()


class CoherenceReader:
    """The pretrained encoder's first layers and a linear head on their mean hidden states."""

    def __init__(self, encoder, weights: np.ndarray, bias: float, layers: list[int]):
        self.encoder, self.weights, self.bias, self.layers = encoder, weights, float(bias), list(layers)

    @torch.inference_mode()
    def features(self, windows: list[list[int]], tokenizer, autocast=None, batch_size: int = 32) -> np.ndarray:
        """Mean hidden states of `layers`, side by side, one row per window of content tokens."""
        out = np.zeros((len(windows), self.encoder.config.hidden_size * len(self.layers)), dtype=np.float32)
        device = next(self.encoder.parameters()).device
        for idx, ids, mask in padded_batches(windows, tokenizer, batch_size):
            with autocast if autocast is not None else torch.autocast("cpu", enabled=False):
                hidden = self.encoder(input_ids=ids.to(device), attention_mask=mask.to(device),
                                      output_hidden_states=True).hidden_states
            m = mask.to(device).unsqueeze(-1).float()
            pooled = [(hidden[k].float() * m).sum(1) / m.sum(1) for k in self.layers]
            out[idx] = torch.cat(pooled, dim=1).cpu().numpy()
        return out

    def scores(self, windows: list[list[int]], tokenizer, autocast=None) -> np.ndarray:
        """z of each window: the log-odds that it is a word chain rather than prose."""
        if not len(windows):
            return np.zeros(0)
        return self.features(windows, tokenizer, autocast).astype(np.float64) @ self.weights + self.bias

    @classmethod
    def fit(cls, encoder, prose: list[list[int]], chains: list[list[int]], tokenizer,
            seed: int = 0) -> "CoherenceReader":
        """The head fitted on windows of prose against windows of word chains (equal weight)."""
        from sklearn.linear_model import LogisticRegression
        from sklearn.preprocessing import StandardScaler

        layers = layers_of(encoder.config.num_hidden_layers)
        reader = cls(encoder, np.zeros(0), 0.0, layers)
        x = np.concatenate([reader.features(prose, tokenizer), reader.features(chains, tokenizer)]).astype(np.float64)
        y = np.r_[np.zeros(len(prose)), np.ones(len(chains))]
        scaler = StandardScaler().fit(x)
        # C 0.01: on fold 0's books it flagged as many word chains as C 0.1 and moved under 5% typos a
        # passage's log-odds by +0.9 instead of +1.4 (the decisions page)
        head = LogisticRegression(C=0.01, max_iter=3000, class_weight="balanced", random_state=seed)
        head.fit(scaler.transform(x), y)
        reader.weights = head.coef_[0] / scaler.scale_  # the scaler folded in: z = x @ weights + bias
        reader.bias = float(head.intercept_[0] - reader.weights @ scaler.mean_)
        return reader

    def save(self, model_dir: str | Path) -> dict:
        """Write coherence/ (the encoder in bf16, and the head) into the model folder; returns
        the settings whowrote.json keeps as "coherence"."""
        from safetensors.numpy import save_file

        folder = Path(model_dir) / FOLDER
        self.encoder.to(torch.bfloat16).save_pretrained(folder)  # half the bytes; read back in fp32
        self.encoder.float()
        save_file({"weights": np.ascontiguousarray(self.weights, dtype=np.float32)}, str(folder / HEAD_FILE),
                  metadata={"format": "whowrote.coherence/1"})
        return {"folder": FOLDER, "head": HEAD_FILE, "layers": self.layers, "bias": self.bias}

    @classmethod
    def load(cls, model_dir: str | Path, settings: dict | None) -> "CoherenceReader | None":
        """The reader whowrote.json's `settings` describes, or None (older model folders)."""
        if not settings:
            return None
        from safetensors import SafetensorError
        from safetensors.numpy import load_file
        from transformers import AutoModel

        folder = Path(model_dir) / settings["folder"]
        try:
            encoder = AutoModel.from_pretrained(folder, dtype=torch.float32).eval()
            weights = load_file(str(folder / settings["head"]))["weights"].astype(np.float64)
        except (OSError, ValueError, KeyError, SafetensorError) as exc:
            raise WhowroteError(f"{folder}: the coherence check's files are missing or damaged ({exc}); "
                                f"refit them with: whowrote evaluate RUN") from None
        return cls(encoder, weights, float(settings["bias"]), settings["layers"])


def chain_windows(rows: list[np.ndarray], vocab, n: int, width: int, rng: np.random.Generator,
                  orders=CHAIN_ORDERS) -> list[list[int]]:
    """`n` windows of `width` tokens of word chains over the words of `rows` (one book's or
    one author's tokens), the orders taking turns."""
    words = [g for row in rows for g in word_groups(np.asarray(row), vocab)]
    if len(words) < 2:
        return []
    chains = [WordChain(words, order) for order in orders]
    return [chains[i % len(chains)].window(width, rng).tolist() for i in range(n)]


def training_windows(books: list[np.ndarray], vocab, width: int, per_book: int, rng: np.random.Generator,
                     slips=None) -> tuple[list[list[int]], list[list[int]]]:
    """(prose, chains): `per_book` windows of each book's tokens at random places, and as many of
    word chains over that book's words (a chain from one book is what a generator could make of
    it). `slips` (`data/augment.Typos`), where given, mistypes every other window of both, so a
    typo reads as neither."""
    prose, chains = [], []
    for tokens in books:
        if len(tokens) <= width:
            continue
        starts = rng.integers(0, len(tokens) - width, per_book)
        prose += [tokens[s : s + width] for s in starts]
        chains += [np.asarray(w) for w in chain_windows([tokens], vocab, per_book, width, rng)]
    if slips is not None:
        prose, chains = ([slips(w, rng) if i % 2 else w for i, w in enumerate(ws)] for ws in (prose, chains))
    return [w.tolist() for w in prose], [w.tolist() for w in chains]


def fit_coherence_threshold(own_z: np.ndarray, max_flagged: float) -> float:
    """Just over the (1 - max_flagged) quantile of an author's own windows' z: at most that
    share of them flagged."""
    return float(np.nextafter(np.quantile(own_z, 1 - max_flagged, method="higher"), np.inf))


def p_coherent(z: float, threshold: float) -> float:
    """What a text's S keeps: sigmoid(threshold - z), a half at the threshold."""
    return float(1 / (1 + np.exp(np.clip(z - threshold, -50, 50))))
