"""The generator study: does the judge reward a generator that learns to write like the
author, and not one that games it? Trains a small GPT-2 (generator/lm.py) on the authors'
training books with a control token per author, using `transformers.Trainer` with the
judge attached (`JudgeCallback`: every `every` steps it samples passages after each control
token and logs their mean S = P(target author) and "neither" share) and, at the same steps,
the model's loss on the authors' held-out works in bits per character (how well it writes
like them, by a measure that is not the judge's); then scores the
reference generators (generator/references.py) and writes DIR/report.json, DIR/samples.jsonl
and DIR/study.png/.svg.

    whowrote generator-study --model runs/<name> --out study/
"""

from __future__ import annotations

import json
import time
from pathlib import Path

import numpy as np

from ..config import load_run_config
from ..errors import WhowroteError
from ..evaluation.validate import training_books
from ..files import atomic_write, pyplot, save_figure, write_json
from ..judge.core import Judge
from ..judge.hooks import JudgeCallback
from ..text.books import load
from ..text.overlap import Overlap
from ..text.topics import topic_words
from . import SAMPLING, lm
from .references import reference_texts, score_texts

STUDY_FORMAT = "whowrote.generator-study/1"
HELDOUT_WINDOWS = 48  # per author and check: ~6k tokens, a few seconds of forward passes


def run_study(run: str, out: str, steps: int = 600, every: int = 100, samples: int = 24, tokens: int = 120,
              layers: int = 4, hidden: int = 256, batch: int = 16, lr: float = 1e-3, references: int = 24,
              temperature: float = SAMPLING["temperature"], top_p: float = SAMPLING["top_p"],
              seed: int = 0, progress: bool = True) -> dict:
    """Run the study for the judge in run folder `run`; returns report.json's content."""
    from transformers import set_seed

    t0, seconds = time.perf_counter(), {}
    judge, config = Judge.load(run), load_run_config(run)
    authors = list(config.author_labels)
    if len(authors) < 2:
        raise WhowroteError("generator-study needs a judge of at least two authors (one control token each)")
    target, out_dir = authors[0], Path(out)
    out_dir.mkdir(parents=True, exist_ok=True)
    books = {a: [lm.prose(t) for t in texts] for a, texts in training_books(config).items()}
    held = {a: [lm.prose(t) for t in texts] for a, texts in training_books(config, heldout=True).items()}
    set_seed(seed)
    tokenizer = lm.train_tokenizer(books)
    model = lm.tiny_gpt2(tokenizer, layers=layers, hidden=hidden)
    data = lm.ControlPassages(tokenizer, books, model.config.n_positions, seed)
    held_data = _heldout_windows(tokenizer, held, model.config.n_positions, seed)
    seconds["books and tokenizer"] = time.perf_counter() - t0

    t1 = time.perf_counter()
    study = _Training(judge, target, tokenizer, samples, tokens, seed, {"temperature": temperature, "top_p": top_p})
    trainer = study.train(model, data, held_data, out_dir / "lm", steps=steps, every=every, batch=batch, lr=lr,
                          progress=progress)
    seconds["language model training (judge sampling included)"] = time.perf_counter() - t1

    t1 = time.perf_counter()
    detectors = {a: Overlap(texts) for a, texts in books.items()}
    others = _other_texts(config, 4)
    keywords = topic_words({**books, **({config.background: others} if others else {})})
    refs = reference_texts(books, others, keywords, references, tokens * 3 // 4, seed)
    ref_scores = {name: {a: score_texts(judge, texts, a, target, detectors[a]) for a, texts in by_author.items()}
                  for name, by_author in refs.items()}
    final_step, final = study.final_scores(authors, detectors)
    _write_samples(out_dir, judge, study.recorded, detectors)
    seconds["references and scoring"] = time.perf_counter() - t1

    report = {"format": STUDY_FORMAT, "judge": str(run), "target": target, "authors": authors,
              "language_model": {"parameters": model.num_parameters(), "layers": layers, "hidden": hidden,
                                 "context": model.config.n_positions, "vocab": len(tokenizer), "steps": steps,
                                 "batch": batch, "lr": lr, "windows": len(data),
                                 "loss": [r for r in trainer.state.log_history if "loss" in r],
                                 "heldout_works": {a: config.heldout[a] for a in held},
                                 "heldout_windows": {a: len(d) for a, d in held_data.items()}},
              "samples_per_check": samples, "tokens_per_sample": tokens, "sampling": study.sampling,
              "history": study.history(trainer.state.log_history, held_data),
              "final_step": final_step, "final": final, "references": ref_scores,
              "gap": (final[target]["mean_s_target"] - np.mean([final[a]["mean_s_target"] for a in authors if a != target])
                      if final else None),
              "seconds": {k: round(v, 1) for k, v in {**seconds, "whole study": time.perf_counter() - t0}.items()}}
    write_json(out_dir / "report.json", report)
    plot_study(report, out_dir / "study.png")
    return report


class _Training:
    """The language model's Trainer with one JudgeCallback per control token; every sample the
    callbacks judged is kept in `recorded`."""

    def __init__(self, judge, target: str, tokenizer, samples: int, tokens: int, seed: int, sampling: dict):
        self.judge, self.target, self.tokenizer = judge, target, tokenizer
        self.samples, self.tokens, self.seed, self.sampling = samples, tokens, seed, sampling
        self.recorded: list[dict] = []
        self.callbacks: dict = {}

    def writer(self, label: str):
        def generate(model, step):
            texts = lm.sample(model, self.tokenizer, label, self.samples, self.tokens, self.seed * 100_003 + step,
                              **self.sampling)
            self.recorded.extend({"step": step, "control": lm.control_token(label), "author": label, "text": t} for t in texts)
            return texts
        return generate

    def train(self, model, data, held_data: dict, folder: Path, steps: int, every: int, batch: int, lr: float,
              progress: bool):
        from transformers import PrinterCallback, Trainer, TrainingArguments

        args = TrainingArguments(output_dir=str(folder), max_steps=steps, per_device_train_batch_size=batch,
                                 learning_rate=lr, warmup_steps=max(1, steps // 10), lr_scheduler_type="cosine",
                                 weight_decay=0.01, logging_steps=max(1, every // 2), save_strategy="no", report_to="none",
                                 use_cpu=True, disable_tqdm=not progress, seed=self.seed, dataloader_num_workers=0,
                                 eval_strategy="steps" if held_data else "no", eval_steps=every,
                                 per_device_eval_batch_size=batch)
        trainer = Trainer(model=model, args=args, train_dataset=data, eval_dataset=held_data or None)
        if not progress:
            trainer.remove_callback(PrinterCallback)  # it prints every log row when there are no bars
        for author in data.labels:
            self.callbacks[author] = JudgeCallback.attach(trainer, self.judge, self.writer(author), every=every,
                                                          label=self.target, prefix=lm.control_token(author))
        trainer.train()
        return trainer

    def final_scores(self, authors: list[str], detectors: dict) -> tuple[int, dict]:
        """The last check's step, and its samples scored per control token."""
        if not self.recorded:
            return 0, {}
        step = max(r["step"] for r in self.recorded)
        return step, {a: score_texts(self.judge, [r["text"] for r in self.recorded if r["author"] == a and r["step"] == step],
                                     a, self.target, detectors[a]) for a in authors}

    def history(self, log_history: list[dict], held_data: dict) -> list[dict]:
        """One row per judged step: each control token's mean S and "neither" share, and the
        model's held-out loss on that author's works in bits per character."""
        rows: dict[int, dict] = {}
        for author, cb in self.callbacks.items():
            prefix = lm.control_token(author)
            for h in cb.history:
                rows.setdefault(h["step"], {"step": h["step"]})[author] = {
                    "mean_s": h[f"{prefix}/mean_s_{self.target}"], "neither": h[f"{prefix}/neither"]}
        per_char = {a: d.chars_per_token(self.tokenizer) for a, d in held_data.items()}
        for log in log_history:
            for author in per_char:
                if f"eval_{author}_loss" in log and author in rows.get(log["step"], {}):
                    bits = log[f"eval_{author}_loss"] / np.log(2) / per_char[author]
                    rows[log["step"]][author]["heldout_bits_per_char"] = float(bits)
        return [rows[k] for k in sorted(rows)]


def _heldout_windows(tokenizer, held: dict[str, list[str]], context: int, seed: int) -> dict:
    """Up to HELDOUT_WINDOWS windows of each author's held-out works; an author whose works
    are shorter than one window is left out."""
    out = {}
    for author, texts in held.items():
        try:
            out[author] = lm.ControlPassages(tokenizer, {author: texts}, context, seed, HELDOUT_WINDOWS)
        except WhowroteError:  # under one window of text: no held-out loss to report for this author
            pass
    return out


def _other_texts(config, n: int) -> list[str]:
    """Up to `n` of the background's training books (text nobody asked the generator to copy)."""
    if not config.background:
        return []
    return [load(src, config.data_dir).text for src in config.sources.get(config.background, [])[:n]]


def _write_samples(out_dir: Path, judge, recorded: list[dict], detectors: dict) -> None:
    scores = judge.score([r["text"] for r in recorded]) if recorded else []
    lines = [json.dumps({**r, "label": s.label, "s": s.s(r["author"]), "probs": s.probs, "p_neither": s.p_neither,
                         "p_coherent": s.p_coherent, "check_odds": s.check_odds, "flags": s.flags,
                         "copied": round(detectors[r["author"]].covered_share(r["text"]), 4)})
             for r, s in zip(recorded, scores)]
    atomic_write(out_dir / "samples.jsonl", "".join(line + "\n" for line in lines))


def plot_study(report: dict, path: Path) -> None:
    """Above: S (and the "neither" share, dashed) of each control token's samples against the
    step, with the reference generators' S as labelled lines at the right. Below: the model's
    held-out loss on each author's works, bits per character."""
    plt = pyplot()
    target, history = report["target"], report["history"]
    has_loss = any("heldout_bits_per_char" in h.get(a, {}) for h in history for a in report["authors"])
    fig, axes = plt.subplots(2 if has_loss else 1, 1, figsize=(9, 6.2 if has_loss else 4.2), sharex=True, squeeze=False,
                             gridspec_kw={"height_ratios": [3, 1.3] if has_loss else [1]})
    ax = axes[0, 0]
    for i, author in enumerate(report["authors"]):
        steps = [h["step"] for h in history if author in h]
        color = f"C{i}"
        ax.plot(steps, [h[author]["mean_s"] for h in history if author in h], "-o", color=color, ms=3,
                label=f"<{author}> samples: S = P({target})")
        ax.plot(steps, [h[author]["neither"] for h in history if author in h], "--", color=color, alpha=0.6,
                label=f"<{author}> samples: share judged neither")
        if has_loss:
            rows = [h for h in history if "heldout_bits_per_char" in h.get(author, {})]
            axes[1, 0].plot([h["step"] for h in rows], [h[author]["heldout_bits_per_char"] for h in rows], "-o", ms=3,
                            color=color, label=f"{author}'s held-out works")
    _reference_lines(ax, report)
    ax.set_ylabel("share / probability")
    ax.set_ylim(-0.02, 1.02)
    ax.set_title(f"Generator study: the judge's S = P({target}) of a GPT-2 trained here", fontsize=9)
    ax.legend(fontsize=6, loc="upper left")
    if has_loss:
        axes[1, 0].set_ylabel("bits per character", fontsize=8)
        axes[1, 0].legend(fontsize=6, loc="upper right")
    for a in axes[:, 0]:
        a.grid(alpha=0.3)
    axes[-1, 0].set_xlabel("language model training step")
    fig.tight_layout()
    for p in (path, path.with_suffix(".svg")):
        save_figure(fig, p)
    plt.close(fig)


def _reference_lines(ax, report: dict) -> None:
    """The reference generators' S of the target as dotted lines; references within 0.03 of
    each other share one line and one label."""
    target = report["target"]
    refs = sorted((by_author[target]["mean_s"], name) for name, by_author in report["references"].items() if target in by_author)
    groups: list[list] = []
    for y, name in refs:
        if groups and y - groups[-1][0][-1] < 0.03:
            groups[-1][0].append(y)
            groups[-1][1].append(name)
        else:
            groups.append([[y], [name]])
    for ys, names in groups:
        y = float(np.mean(ys))
        ax.axhline(y, color="0.6", lw=0.8, ls=":")
        ax.annotate(", ".join(names), (1.0, y), xycoords=("axes fraction", "data"), fontsize=6, color="0.35",
                    xytext=(3, 0), textcoords="offset points", va="center")
