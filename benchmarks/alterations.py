"""More ways a generator, an editor or an adversary alters a passage, beyond `whowrote
validate`'s probes: how many of the judge's labels each one changes, on the run's held-out
passages (the validate passages: disjoint windows of works never trained on, as published).

- a modern edition's spelling: to-day -> today, shew -> show, colour -> color, whilst -> while ...
  (only the passages it touches can change);
- sentences shuffled within the passage (the words and the sentences kept);
- contractions expanded (don't -> do not): a paraphrase that keeps the words' sense;
- contractions made (did not -> didn't, Is not -> Isn't, will not -> won't): a modern
  rewrite, as a generator writes dialogue;
- semicolons -> full stops: a change of punctuation, which is partly style;
- lines re-flowed: the hard line breaks of the printed page joined into one line per
  paragraph, as a generator or a web page gives prose;
- a Markdown heading ("## Chapter 1") above the passage, as a generator sets its output,
  or a title and a byline ("**The Visitor**", "*by a writer of today*");
- a chat model's preamble above the passage ("Sure! Here's a short story:", "Here is a
  passage in the style of the author:", "Certainly. Here is the text you asked for."), and
  its closing line below ("I hope you enjoyed it! Let me know if you would like another.");
- quoted as in an email or Markdown ("> " before every line);
- as a web page's HTML: each paragraph in <p>...</p>, quotation marks and apostrophes as
  entities (&ldquo; &rdquo; &rsquo;), as text copied from a page's source or an API gives it;
- an emoji after every paragraph, as a chat's output decorates it;
- Title Case and UPPER CASE: every word's first letter capitalised ("Don't", not
  Python's "Don'T"), or every letter;
- one sentence of another label inserted: a real sentence of that label's training books
  (6-30 words) at a random sentence boundary, the way a generator might plant a signature
  line. The authors' passages get the other author's sentence; the other authors' passages
  a random author's, which tests whether one quoted sentence makes a text that author's.

Prints, and with --readme writes into the README's bench-alterations section, the share
of labels changed, per true label, and where the changed labels went.

    .venv/bin/python benchmarks/alterations.py runs/authors-X --readme docs/validation.md
"""

from __future__ import annotations

import argparse
import random
import re
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from machine import publish, run_benchmark  # noqa: E402

MODERN = [(r"\b([Tt])o-(day|morrow|night)\b", r"\1o\2"), (r"\b(some|any|every|no) one\b", r"\1one"),
          (r"\bcan not\b", "cannot"), (r"\bconnexion", "connection"), (r"\b([Ss])hew(n|ed|ing|s)?\b", r"\1how\2"),
          (r"\b(col|hon|fav|neighb|lab|hum|behavi|vig|rum|harb|od|ard|val|clam|splend|rig|sav|arm|tum)our", r"\1or"),
          (r"\bcentre", "center"), (r"\btheatre", "theater"), (r"\bgrey\b", "gray"), (r"\bwhilst\b", "while"),
          (r"\bamongst\b", "among"), (r"\bgaol", "jail"), (r"\bancle", "ankle")]
CONTRACTIONS = [(r"\bdon't\b", "do not"), (r"\bcan't\b", "cannot"), (r"\bwon't\b", "will not"), (r"\bI'm\b", "I am"),
                (r"\bit's\b", "it is"), (r"\bdidn't\b", "did not"), (r"\bisn't\b", "is not"), (r"\bthat's\b", "that is"),
                (r"\bI've\b", "I have"), (r"\byou're\b", "you are"), (r"\bI'll\b", "I will"), (r"\bwasn't\b", "was not"),
                (r"\bshan't\b", "shall not"), (r"\bcouldn't\b", "could not"), (r"\bwouldn't\b", "would not")]
CONTRACTING = [(r"\b([Ww])ill not\b", r"\1on't"), (r"\b([Ss])hall not\b", r"\1han't"),
               (r"\b([Cc]an)(?:not| not)\b", r"\1't"),
               (r"\b([Dd]o|[Dd]oes|[Dd]id|[Ii]s|[Aa]re|[Ww]as|[Ww]ere|[Hh]as|[Hh]ave|[Hh]ad|[Cc]ould|[Ww]ould|[Ss]hould"
                r"|[Mm]ust|[Nn]eed) not\b", r"\1n't")]
PREAMBLES = ["Sure! Here's a short story:\n\n", "Here is a passage in the style of the author:\n\n",
             "Certainly. Here is the text you asked for.\n\n"]
CLOSING = "I hope you enjoyed it! Let me know if you would like another."
SENTENCE_END = re.compile(r"(?<=[.!?])\s+(?=[\"'A-Z])")


def substitute(text: str, rules) -> str:
    for pattern, repl in rules:
        text = re.sub(pattern, repl, text)
    return text


def reflow(text: str) -> str:
    return "\n\n".join(" ".join(p.split()) for p in re.split(r"\n\s*\n", text))


def as_html(text: str) -> str:
    """Paragraphs as <p> elements, double quotes as curly-quote entities, apostrophes as &rsquo;."""
    quotes = iter(["&ldquo;", "&rdquo;"] * (text.count('"') + 1))
    text = re.sub(r'"', lambda m: next(quotes), text).replace("'", "&rsquo;")
    return "\n".join(f"<p>{p.strip()}</p>" for p in re.split(r"\n\s*\n", text) if p.strip())


def shuffle_sentences(text: str, seed: int) -> str:
    sentences = SENTENCE_END.split(text)
    random.Random(seed).shuffle(sentences)
    return " ".join(sentences)


def insert_sentence(text: str, sentence: str, seed: int) -> str:
    sentences = SENTENCE_END.split(text)
    sentences.insert(random.Random(seed).randrange(len(sentences) + 1), sentence)
    return " ".join(sentences)


def training_sentences(config, label: str, limit: int = 2000) -> list[str]:
    """Sentences of 6-30 words from `label`'s training books (their text as published)."""
    from whowrote.text.books import load

    out = []
    for source in config.sources[label]:
        text = " ".join(load(source, config.data_dir).text.split())
        out += [s for s in SENTENCE_END.split(text) if 6 <= len(s.split()) <= 30]
    return random.Random(0).sample(out, min(limit, len(out)))


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("run")
    ap.add_argument("--per-work", type=int, default=60, help="passages per held-out work (validate's default)")
    ap.add_argument("--readme", help="write the table into this README's bench-alterations section")
    args = ap.parse_args()

    from whowrote import Judge
    from whowrote.config import load_run_config
    from whowrote.evaluation.validate import held_out_passages
    from whowrote.model.openset import NEITHER

    config = load_run_config(args.run)
    if not any(config.heldout.get(label) for label in config.author_labels):
        sys.exit("the run has no held-out works of its authors to alter")
    judge = Judge.load(args.run)
    passages = held_out_passages(judge, config, args.per_work)
    texts, truth = [p["text"] for p in passages], [p["label"] for p in passages]
    authors = list(config.author_labels)
    quotes = {label: training_sentences(config, label) for label in authors}
    rng = random.Random(1)

    def planted(i: int) -> str:
        others = [a for a in authors if a != truth[i]]
        return insert_sentence(texts[i], rng.choice(quotes[rng.choice(others)]), i)

    alterations = {
        "a modern edition's spelling": [substitute(t, MODERN) for t in texts],
        "sentences shuffled": [shuffle_sentences(t, i) for i, t in enumerate(texts)],
        "contractions expanded": [substitute(t, CONTRACTIONS) for t in texts],
        "contractions made": [substitute(t, CONTRACTING) for t in texts],
        "semicolons -> full stops": [t.replace(";", ".") for t in texts],
        "lines re-flowed": [reflow(t) for t in texts],
        "a Markdown heading above": ["## Chapter 1\n\n" + t for t in texts],
        "a title and a byline above": ["**The Visitor**\n\n*by a writer of today*\n\n" + t for t in texts],
        "a chat model's preamble above": [PREAMBLES[i % len(PREAMBLES)] + t for i, t in enumerate(texts)],
        "a chat model's closing line below": [t.rstrip() + "\n\n" + CLOSING for t in texts],
        "quoted (\"> \" before every line)": [re.sub(r"(?m)^", "> ", t) for t in texts],
        "as a web page's HTML": [as_html(t) for t in texts],
        "an emoji after every paragraph": [re.sub(r"\n\s*\n", " \u2728\n\n", t).rstrip() + " \U0001F600" for t in texts],
        "Title Case": [re.sub(r"(?<![\w'])[a-z]", lambda m: m.group().upper(), t) for t in texts],
        "UPPER CASE": [t.upper() for t in texts],
        "one sentence of another label inserted": [planted(i) for i in range(len(texts))],
    }
    base = [s.label for s in judge.score(texts)]
    lines = [f"Run `{Path(args.run).name}`; {len(texts)} held-out passages of {config.seq_len} tokens, the test half "
             f"of the held-out works ({args.per_work} per work at most, as `whowrote validate`).", "",
             "| alteration | passages altered | labels changed | by true label | changed labels went to |",
             "|---|---|---|---|---|"]
    for name, altered in alterations.items():
        touched = [i for i, (a, t) in enumerate(zip(altered, texts)) if a != t]
        new = [s.label for s in judge.score([altered[i] for i in touched])]
        moved = {i: lab for i, lab in zip(touched, new) if lab != base[i]}
        by_label = ", ".join(f"{lab} {sum(truth[i] == lab for i in moved)}/{truth.count(lab)}" for lab in dict.fromkeys(truth))
        went = ", ".join(f"{lab} {n}" for lab in [*authors, NEITHER] if (n := sum(v == lab for v in moved.values())))
        lines.append(f"| {name} | {len(touched)} | {len(moved) / len(texts):.3f} | {by_label} | {went or '-'} |")
    publish("\n".join(lines), args.readme, "bench-alterations")


if __name__ == "__main__":
    run_benchmark(main)
