"""A small causal language model trained here, to have a generator to judge: a byte-level BPE
tokenizer trained with `tokenizers` on the authors' training books, a GPT-2 built from a
config (a few million parameters), and passages of each author prefixed by a control token
(`<alice>`, `<edgar>`) so one model writes either on request.

    python -c "from whowrote.generator.lm import tiny_gpt2, train_tokenizer; \
t = train_tokenizer({'a': ['the kitten said so. ' * 50]}, 300); print(tiny_gpt2(t).num_parameters())"
"""

from __future__ import annotations

import re

import numpy as np
import torch

from ..text.headings import is_section_heading
from ..text.normalise import Aligned, typography
from . import SAMPLING

PAD = "<pad>"


def control_token(label: str) -> str:
    return f"<{label}>"


def prose(text: str) -> str:
    """The book as paragraphs of words in the judge's typography (one form of quotes and dashes,
    text/normalise.py): headings (CHAPTER I., a title in capitals) and lines mostly of other
    characters (a logic diagram, a table) are dropped and each paragraph's lines joined, so a
    model of a few million parameters spends itself on words, not on a typesetter's layout."""
    paragraphs = []
    for block in re.split(r"\n[ \t]*\n", typography(Aligned.of(text, track=False)).text):
        lines = (re.sub(r"\s+", " ", line).strip() for line in block.splitlines())
        kept = [line for line in lines if line and _mostly_letters(line) and not is_section_heading(line)]
        if kept:
            paragraphs.append(" ".join(kept))
    return "\n\n".join(paragraphs)


def _mostly_letters(line: str) -> bool:
    ink = line.replace(" ", "")
    return sum(c.isalpha() for c in ink) >= max(2, len(ink) / 2)


def train_tokenizer(texts: dict[str, list[str]], vocab_size: int = 4096):
    """A byte-level BPE over every author's texts, with a control token per author and a pad."""
    from tokenizers import ByteLevelBPETokenizer
    from transformers import PreTrainedTokenizerFast

    bpe = ByteLevelBPETokenizer()
    specials = [PAD, "<eos>"] + [control_token(label) for label in texts]
    bpe.train_from_iterator((t for ts in texts.values() for t in ts), vocab_size=vocab_size, min_frequency=2,
                            special_tokens=specials, show_progress=False)
    return PreTrainedTokenizerFast(tokenizer_object=bpe, pad_token=PAD, eos_token="<eos>",
                                   additional_special_tokens=specials[2:])


def tiny_gpt2(tokenizer, layers: int = 4, hidden: int = 256, heads: int = 4, context: int = 128):
    """A GPT-2 from a config, sized to train on two CPU cores in minutes."""
    from transformers import GPT2Config, GPT2LMHeadModel

    config = GPT2Config(vocab_size=len(tokenizer), n_positions=context, n_embd=hidden, n_layer=layers, n_head=heads,
                        bos_token_id=tokenizer.eos_token_id, eos_token_id=tokenizer.eos_token_id,
                        pad_token_id=tokenizer.pad_token_id)
    return GPT2LMHeadModel(config)


class ControlPassages(torch.utils.data.Dataset):
    """Windows of `context - 1` tokens of each author's text, each after its control token;
    as many windows of each author (the larger one's are subsampled), so neither dominates;
    at most `max_windows` each."""

    def __init__(self, tokenizer, texts: dict[str, list[str]], context: int, seed: int = 0,
                 max_windows: int | None = None):
        rng, width, per_label = np.random.default_rng(seed), context - 1, {}
        for label, ts in texts.items():
            ids = np.array([i for t in ts for i in tokenizer(t)["input_ids"]], np.int64)
            starts = np.arange(0, max(0, len(ids) - width), width)
            per_label[label] = (tokenizer.convert_tokens_to_ids(control_token(label)), ids, starts)
        n = min([len(starts) for _, _, starts in per_label.values()] + ([max_windows] if max_windows else []))
        if n == 0:
            from ..errors import WhowroteError

            raise WhowroteError(f"generator: an author's text is under {width} tokens")
        self.labels = list(per_label)
        self.rows = [np.concatenate([[control], ids[s : s + width]])
                     for control, ids, starts in per_label.values() for s in rng.choice(starts, n, replace=False)]

    def __len__(self) -> int:
        return len(self.rows)

    def chars_per_token(self, tokenizer) -> float:
        """Characters each predicted token stands for here, to turn a loss into bits per character."""
        return sum(len(tokenizer.decode(row[1:])) for row in self.rows) / sum(len(row) - 1 for row in self.rows)

    def __getitem__(self, i: int) -> dict:
        ids = torch.as_tensor(self.rows[i])
        return {"input_ids": ids, "labels": ids.clone()}


@torch.no_grad()
def sample(model, tokenizer, label: str, n: int, tokens: int, seed: int, temperature: float = SAMPLING["temperature"],
           top_p: float = SAMPLING["top_p"]) -> list[str]:
    """`n` passages of `tokens` tokens written after the author's control token (nucleus
    sampling: the smallest set of tokens holding `top_p` of the probability, at `temperature`)."""
    was_training = model.training
    model.eval()
    torch.manual_seed(seed)
    start = torch.full((n, 1), tokenizer.convert_tokens_to_ids(control_token(label)), device=model.device)
    out = model.generate(start, attention_mask=torch.ones_like(start), do_sample=True, top_k=0, top_p=top_p,
                         temperature=temperature, max_new_tokens=tokens, min_new_tokens=tokens,
                         pad_token_id=tokenizer.pad_token_id)
    model.train(was_training)
    return [tokenizer.decode(row[1:], skip_special_tokens=True).strip() for row in out]
