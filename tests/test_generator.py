"""The generator study: a small GPT-2 trained with control tokens, judged while it learns,
beside reference generators and a copy detector; the command end to end on a tiny budget."""

import json

import numpy as np

from tests.conftest import STYLE_A, STYLE_B, invented_text
from tests.test_cli import assert_one_line_error, run_cli
from whowrote.judge.records import Score
from whowrote.text.overlap import Overlap


def test_s_counts_neither_as_an_answer():
    assert Score("a", "alice", {"alice": 0.8, "edgar": 0.2}, p_neither=0.5).s("alice") == 0.4
    assert Score("a", "alice", {"alice": 0.8, "edgar": 0.2}).s("edgar") == 0.2  # no background: P itself


def test_copy_detector_counts_words_inside_copied_runs():
    book = invented_text(STYLE_A, 400, 1)
    words = book.split()
    detector = Overlap([book])
    assert detector.covered_share(" ".join(words[100:140])) == 1.0
    fresh = invented_text(STYLE_B, 60, 2)
    mixed = " ".join(words[10:30]) + " " + fresh
    assert 0.2 < detector.covered_share(mixed) < 0.4  # 20 copied words of 80
    assert detector.covered_share("") == 0.0


def test_prose_keeps_lines_of_words_and_drops_diagrams():
    from whowrote.generator.lm import prose

    book = ('CHAPTER I.\n\nIt was   a bright\tday,\nand she didn\u2019t\nmind.\n  |---|---|\n | 1 | 0 |\n\n\n\n'
            'She said x="fat" to him.\n-------\n')
    assert prose(book) == 'It was a bright day, and she didn\'t mind.\n\nShe said x="fat" to him.'


def test_control_passages_give_each_author_as_many_windows_after_its_token():
    from whowrote.generator import lm

    texts = {"alice": [invented_text(STYLE_A, 3000, 1)], "edgar": [invented_text(STYLE_B, 900, 2)]}
    tokenizer = lm.train_tokenizer(texts, vocab_size=300)
    data = lm.ControlPassages(tokenizer, texts, context=32)
    first = [int(data[i]["input_ids"][0]) for i in range(len(data))]
    ids = {a: tokenizer.convert_tokens_to_ids(lm.control_token(a)) for a in texts}
    assert first.count(ids["alice"]) == first.count(ids["edgar"]) > 5 and set(first) == set(ids.values())
    assert all(len(data[i]["input_ids"]) == 32 for i in range(len(data)))
    model = lm.tiny_gpt2(tokenizer, layers=1, hidden=16, heads=2, context=32)
    out = lm.sample(model, tokenizer, "alice", 3, 10, seed=0)
    assert len(out) == 3 and all(isinstance(t, str) and t for t in out)
    assert out == lm.sample(model, tokenizer, "alice", 3, 10, seed=0)  # seeded
    assert len(set(lm.sample(model, tokenizer, "alice", 3, 10, seed=0, temperature=1e-4))) == 1  # ~greedy
    capped = lm.ControlPassages(tokenizer, texts, context=32, max_windows=4)
    wider = lm.train_tokenizer(texts, vocab_size=600)  # longer pieces: more characters per token
    per_token = [d.chars_per_token(t) for t, d in ((tokenizer, capped), (wider, lm.ControlPassages(wider, texts, 32)))]
    assert len(capped) == 8 and 1.0 < per_token[0] < per_token[1] < 12


def test_held_out_windows_leave_out_an_author_under_one_window():
    from whowrote.generator import lm
    from whowrote.generator.study import _heldout_windows

    texts = {"alice": [invented_text(STYLE_A, 900, 1)], "edgar": ["Once upon a midnight dreary."]}
    tokenizer = lm.train_tokenizer(texts, vocab_size=300)
    held = _heldout_windows(tokenizer, texts, context=32, seed=0)
    assert list(held) == ["alice"] and len(held["alice"]) > 5
    assert all(len(held["alice"][i]["input_ids"]) == 32 for i in range(len(held["alice"])))


def test_generator_study_end_to_end_on_a_tiny_budget(open_set_run, tmp_path):
    page = tmp_path / "docs" / "generator.md"
    page.parent.mkdir()
    page.write_text("# Study\n\n<!-- generator:start -->\n<!-- generator:end -->\n")
    out = tmp_path / "study"
    proc = run_cli("generator-study", "--model", str(open_set_run), "--out", str(out), "--steps", "4", "--every", "2",
                   "--samples", "2", "--tokens", "16", "--layers", "1", "--hidden", "32", "--batch", "4",
                   "--references", "3", "--temperature", "0.5", "--top-p", "0.9", "--docs", str(page), "--quiet")
    assert proc.returncode == 0, proc.stderr
    report = json.loads((out / "report.json").read_text())
    assert report["format"] == "whowrote.generator-study/1" and report["target"] == "alice"
    assert [h["step"] for h in report["history"]] == [2, 4] and all({"alice", "edgar"} <= set(h) for h in report["history"])
    assert all(0 <= h[a]["mean_s"] <= 1 for h in report["history"] for a in ("alice", "edgar"))
    bits = [h[a]["heldout_bits_per_char"] for h in report["history"] for a in ("alice", "edgar")]
    assert all(0 < b < 20 for b in bits) and report["language_model"]["heldout_works"]["alice"] == ["91003"]
    assert report["sampling"] == {"temperature": 0.5, "top_p": 0.9}
    samples = [json.loads(line) for line in (out / "samples.jsonl").read_text().splitlines()]
    assert len(samples) == 2 * 2 * 2 and {s["control"] for s in samples} == {"<alice>", "<edgar>"}
    assert all(s["label"] in ("alice", "edgar", "neither") for s in samples)
    refs = report["references"]
    assert {"verbatim copies", "shuffled words", "Markov order 1", "Markov order 4", "others stuffed 10%"} <= set(refs)
    assert refs["verbatim copies"]["alice"]["copied"] == 1.0 and refs["shuffled words"]["alice"]["copied"] < 0.5
    assert np.isfinite(report["gap"]) and (out / "study.png").is_file() and (out / "study.svg").is_file()
    assert "| verbatim copies | alice |" in page.read_text() and (page.parent / "generator" / "study.png").is_file()
    assert "S of" in proc.stdout


def test_generator_study_needs_a_run_folder_and_sane_sizes(trained, tmp_path):
    assert_one_line_error(run_cli("generator-study", "--model", str(tmp_path), "--out", str(tmp_path / "o")),
                          "not a whowrote run folder")
    assert_one_line_error(run_cli("generator-study", "--model", str(trained), "--out", str(tmp_path / "o"),
                                  "--tokens", "500"), "--tokens")
    assert_one_line_error(run_cli("generator-study", "--model", str(trained), "--out", str(tmp_path / "o"),
                                  "--top-p", "0"), "--top-p")
    assert not (tmp_path / "o").exists()
