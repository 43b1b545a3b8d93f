"""The coherence check: word chains, the reader's fit and files, the threshold, and the judge
and report applying it."""

import dataclasses

import numpy as np
import pytest

from tests.conftest import STYLE_A, invented_text, judge_with
from whowrote import Judge
from whowrote.data.augment import WordChain, word_groups
from whowrote.data.pieces import word_pieces
from whowrote.model import coherence as coh

A_TEXT = invented_text(STYLE_A, 400, 21)


def test_a_chain_of_order_one_only_joins_words_that_follow_each_other_in_its_source():
    rng = np.random.default_rng(0)
    words = [np.array([w]) for w in [1, 2, 3, 1, 4, 5, 2, 6]]
    seen = {(1, 2), (2, 3), (3, 1), (1, 4), (4, 5), (5, 2), (2, 6)}
    for _ in range(20):
        chain = WordChain(words, 1).window(12, rng).tolist()
        assert len(chain) == 12
        jumps = [p for p in zip(chain, chain[1:]) if p not in seen]
        assert all(a == 6 for a, _ in jumps)  # only after the last word, which nothing follows


def test_a_chain_keeps_each_word_whole(tiny_model):
    from transformers import AutoTokenizer

    tok = AutoTokenizer.from_pretrained(tiny_model)
    vocab = word_pieces(tok)
    row = np.array(tok(A_TEXT, add_special_tokens=False)["input_ids"])
    windows = coh.chain_windows([row], vocab, 6, 30, np.random.default_rng(1))
    assert len(windows) == 6 and all(len(w) == 30 for w in windows)
    known = {tuple(g) for g in word_groups(row, vocab)}
    for w in windows:  # every word but a cut-off last one is a word of the source
        assert all(tuple(g) in known for g in word_groups(np.array(w), vocab)[:-1])


def test_the_heads_windows_come_from_every_book_long_enough_and_slips_touch_every_other(tiny_model):
    from transformers import AutoTokenizer

    from whowrote.data.augment import Typos

    tok = AutoTokenizer.from_pretrained(tiny_model)
    vocab = word_pieces(tok)
    books = [np.array(tok(invented_text(STYLE_A, 200, s), add_special_tokens=False)["input_ids"]) for s in (1, 2)]
    books.append(books[0][:20])  # shorter than a window: it gives none
    prose, chains = coh.training_windows(books, vocab, 24, 6, np.random.default_rng(0))
    assert len(prose) == len(chains) == 12 and {len(w) for w in prose + chains} == {24}
    whole = {tuple(b[i:i + 24]) for b in books[:2] for i in range(len(b) - 23)}
    assert all(tuple(w) in whole for w in prose)  # prose windows are the books' own
    slipped, _ = coh.training_windows(books, vocab, 24, 6, np.random.default_rng(0), Typos(tok, 1.0, letter_rate=0.5))
    unk = tok.unk_token_id  # the tiny word-level vocabulary spells a mistyped word [UNK]
    assert not any(unk in w for w in slipped[::2]) and sum(unk in w for w in slipped[1::2]) >= 4


def test_layers_read_are_those_the_encoder_has():
    assert coh.layers_of(6) == [2, 3, 4]
    assert coh.layers_of(3) == [2, 3]
    assert coh.layers_of(1) == [1]


def test_threshold_flags_at_most_the_allowed_share_and_s_falls_past_it():
    own = np.linspace(-5, 5, 101)
    tau = coh.fit_coherence_threshold(own, 0.02)
    assert np.mean(own > tau) <= 0.02 and np.mean(own >= 4.8) > 0.02
    assert coh.p_coherent(tau, tau) == pytest.approx(0.5)
    assert coh.p_coherent(tau - 6, tau) > 0.99 and coh.p_coherent(tau + 6, tau) < 0.01


@pytest.fixture(scope="module")
def reader_and_windows(tiny_model):
    """A reader fitted to tell windows of one invented style from chains of another: the fit
    must find the direction whatever the tiny model's random weights make of them."""
    from transformers import AutoTokenizer

    tok = AutoTokenizer.from_pretrained(tiny_model)
    ids = lambda text: tok(text, add_special_tokens=False)["input_ids"]  # noqa: E731
    prose = [ids(invented_text(STYLE_A, 30, s))[:24] for s in range(40)]
    chains = [ids(invented_text(["raven", "tomb", "crypt", "gloom"], 30, s))[:24] for s in range(40)]
    reader = coh.CoherenceReader.fit(coh.pretrained_encoder(str(tiny_model)), prose, chains, tok)
    return reader, prose, chains, tok


def test_the_fitted_head_tells_the_two_apart_and_survives_its_files(reader_and_windows, tmp_path):
    reader, prose, chains, tok = reader_and_windows
    assert reader.layers == [2] and reader.encoder.config.num_hidden_layers == 2
    z_prose, z_chains = reader.scores(prose, tok), reader.scores(chains, tok)
    assert z_chains.min() > z_prose.max()
    settings = reader.save(tmp_path)
    again = coh.CoherenceReader.load(tmp_path, settings)
    # saved in bf16: the same verdicts, the log-odds within bf16's rounding
    np.testing.assert_allclose(again.scores(chains, tok), reader.scores(chains, tok), atol=0.5)
    assert coh.CoherenceReader.load(tmp_path, None) is None


def test_damaged_files_are_a_clear_error(reader_and_windows, tmp_path):
    from whowrote.errors import WhowroteError

    settings = reader_and_windows[0].save(tmp_path)
    (tmp_path / coh.FOLDER / coh.HEAD_FILE).write_bytes(b"not a safetensors file")
    with pytest.raises(WhowroteError, match="whowrote evaluate"):
        coh.CoherenceReader.load(tmp_path, settings)


def test_judge_flags_a_text_over_the_threshold_and_scales_its_s(open_set_judge, reader_and_windows):
    reader = reader_and_windows[0]
    base = dataclasses.replace(open_set_judge.open_set, order_thresholds={}, keyword_thresholds={}, coherence_thresholds={"alice": np.inf})

    def judge(open_set, **kwargs):
        return judge_with(open_set_judge, open_set, coherence=reader, **kwargs)

    plain = judge(dataclasses.replace(base, coherence_thresholds={})).score([A_TEXT])[0]
    text, short = judge(base).score([A_TEXT, "the kitten"])
    assert plain.label == text.label == "alice" and plain.incoherence is None
    assert text.p_coherent == pytest.approx(1.0) and text.s("alice") == pytest.approx(plain.s("alice"))
    assert short.incoherence is None  # too short to check
    at = judge(dataclasses.replace(base, coherence_thresholds={"alice": text.incoherence})).score([A_TEXT])[0]
    assert at.label == "alice" and at.s("alice") == pytest.approx(plain.s("alice") / 2)
    over = judge(dataclasses.replace(base, coherence_thresholds={"alice": text.incoherence - 1e-6})).score([A_TEXT])[0]
    assert over.label == "neither" and coh.INCOHERENT_FLAG in over.flags
    assert {"incoherence", "p_coherent"} <= set(over.to_dict())
    off = judge(base, coherence_check=False).score([A_TEXT])[0]
    assert off.incoherence is None and off.s("alice") == pytest.approx(plain.s("alice"))


def test_calibration_fits_the_reader_and_the_report_measures_it(open_set_run, capsys):
    from whowrote.commands.evaluate import print_report
    from whowrote.config import load_run_config
    from whowrote.data.prepare import prepare
    from whowrote.evaluation.checkfits import COHERENCE_PER_BOOK, training_books
    from whowrote.layout import RunFiles, read_json, read_model_meta

    report = read_json(RunFiles(open_set_run).report)
    fit = report["coherence_check"]
    assert fit["fitted_on"]["prose"] == fit["fitted_on"]["chains"] > 0
    # the head reads the authors' training books as well as the background's: a generator imitating
    # an author makes chains of his words
    judge, config = Judge.load(open_set_run), load_run_config(open_set_run)
    prep = prepare(config, judge.tokenizer, spec=judge.normalise)
    books = {label: training_books(prep, i) for i, label in enumerate(prep.labels)}
    assert all(books[a] for a in config.author_labels) and len(books[config.background]) > 1
    long_enough = [b for bs in books.values() for b in bs if len(b) > prep.width]
    assert fit["fitted_on"]["prose"] == COHERENCE_PER_BOOK * len(long_enough)
    for row in fit["authors"].values():
        assert row["own_flagged"] <= 0.02
    assert set(fit["test_flagged"]) <= set(report["labels"])
    meta = read_model_meta(RunFiles(open_set_run).model)
    kept = [a for a, row in fit["authors"].items() if row["kept"]]
    assert sorted(meta["open_set"]["coherence_thresholds"]) == sorted(kept)
    assert (meta.get("coherence") is not None) == bool(kept)
    print_report(open_set_run)  # as `whowrote evaluate` prints it
    out = capsys.readouterr().out
    assert "coherence check" in out and all(f"  {a} " in out for a in fit["authors"])


def test_the_shell_table_gives_the_s_of_the_likeliest_author(open_set_run, capsys):
    from whowrote.cli import main

    assert main(["judge", "--model", str(open_set_run), "--quiet", A_TEXT]) == 0
    header, row = capsys.readouterr().out.strip().splitlines()[:2]
    columns, values = header.split(), row.split()
    assert len(columns) == len(values)
    score = Judge.load(open_set_run).score([A_TEXT])[0]
    s_top = score.s(max(score.probs, key=score.probs.get))
    assert float(values[columns.index("S(top)")]) == pytest.approx(s_top, abs=1e-4)
