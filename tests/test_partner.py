"""The char partner: fitted like compare's char baseline, stored and reloaded exactly, mixed
by weights fitted on calibration windows, and read by the judge on the tokens BERT reads."""

from __future__ import annotations

import json
import subprocess
import sys

import numpy as np
import pytest
from conftest import STYLE_A, STYLE_B, STYLE_C, invented_text

from whowrote.config import resolve
from whowrote.errors import WhowroteError
from whowrote.judge.core import Judge
from whowrote.model.metrics import log_softmax
from whowrote.model.partner import CharPartner, window_texts

TEXTS = [invented_text(style, 40, seed) for seed in range(12) for style in (STYLE_A, STYLE_B, STYLE_C)]
LABELS = np.array([0, 1, 2] * 12)


@pytest.mark.parametrize("n_labels", [2, 3])
def test_partner_logits_are_the_char_baseline_after_a_round_trip(tmp_path, n_labels):
    from whowrote.compare.baselines import CharNgrams

    keep = LABELS < n_labels
    texts, y = [t for t, k in zip(TEXTS, keep) if k], LABELS[keep]
    partner = CharPartner.fit(texts, y)
    baseline = CharNgrams().fit(texts, y).model.decision_function(texts)
    logits = partner.logits(texts)
    assert logits.shape == (len(texts), n_labels)
    # two labels: the logistic form, [0, d], so log_softmax is the baseline's log-probability
    expected = np.stack([np.zeros_like(baseline), baseline], 1) if n_labels == 2 else baseline
    assert logits == pytest.approx(expected, abs=1e-4)
    assert (logits.argmax(1) == y).all()
    partner.coef = np.asfortranarray(partner.coef)  # as lbfgs may leave it: the file must not scramble it
    again = CharPartner.load(tmp_path, partner.save(tmp_path))
    assert again.logits(texts) == pytest.approx(logits, abs=1e-9)
    assert (tmp_path / "partner.safetensors").is_file() and (tmp_path / "partner_vocabulary.json").is_file()


def test_the_mix_weight_follows_the_reader_that_knows():
    rng = np.random.default_rng(0)
    y = rng.integers(0, 3, 300)
    knows = np.eye(3)[y] * 4 + rng.normal(0, 1, (300, 3))
    noise = rng.normal(0, 1, (300, 3))
    partner = CharPartner([], np.zeros(0), np.zeros((3, 0)), np.zeros(3))
    assert partner.fit_mix(knows, noise, y).weight <= 0.1  # the char reader knows nothing: BERT decides
    assert partner.fit_mix(noise, knows, y).weight >= 0.9
    partner.bert_temperature, partner.temperature, partner.weight = 2.0, 0.5, 0.25
    z = partner.mix(knows, noise)
    assert z == pytest.approx(0.75 * log_softmax(knows, 2.0) + 0.25 * log_softmax(noise, 0.5))


def test_a_partner_kept_out_of_neither_leaves_that_column_to_bert(tmp_path):
    rng = np.random.default_rng(1)
    bert, char = rng.normal(0, 2, (50, 3)), rng.normal(0, 2, (50, 3))
    partner = CharPartner([], np.zeros(0), np.zeros((3, 0)), np.zeros(3), 1.5, 0.7, 0.6, neither_column=2)
    z = partner.mix(bert, char)
    assert z[:, 2] == pytest.approx(log_softmax(bert, 1.5)[:, 2])  # "neither" is BERT's alone
    assert z[:, :2] == pytest.approx((0.4 * log_softmax(bert, 1.5) + 0.6 * log_softmax(char, 0.7))[:, :2])
    # word salad: BERT says "neither", the order-blind char model says author 0; BERT's "neither" stands
    salad_bert, salad_char = np.array([[-3.0, -3.0, 3.0]]), np.array([[6.0, -3.0, -6.0]])
    gated = log_softmax(partner.mix(salad_bert, salad_char)).argmax(1)
    partner.neither_column = None
    assert gated == [2] and log_softmax(partner.mix(salad_bert, salad_char)).argmax(1) == [0]
    partner.neither_column = 2
    again = CharPartner.load(tmp_path, partner.save(tmp_path))
    assert again.neither_column == 2


def test_window_texts_keep_the_name_mask(trained):
    judge = Judge.load(trained)
    (ids, _), = judge.encode(["Alice said the kitten was curious."])
    text = window_texts(judge.tokenizer, [ids])[0]
    assert "[MASK]" in text and "kitten" in text and "curious" in text


def test_a_trained_run_judges_with_its_partner(trained):
    meta = json.loads((trained / "model" / "whowrote.json").read_text())
    report = json.loads((trained / "report.json").read_text())
    assert meta["partner"]["kind"] == "char-ngrams" and 0 <= meta["partner"]["weight"] <= 1
    assert report["partner"]["fitted_on"] == "in-book validation blocks"  # the tiny run holds no work out
    judge = Judge.load(trained)
    assert judge.partner is not None and judge.bert_temperature == meta["partner"]["bert_temperature"]
    windows = [w for w, *_ in judge.windows(encoded=judge.encode([invented_text(STYLE_A, 60, 99)])[0])]
    mixed = judge.partner.mix(judge.logits(windows), judge.partner.logits(window_texts(judge.tokenizer, windows)))
    assert judge.log_probs(windows) == pytest.approx(log_softmax(mixed, judge.temperature))
    alone = Judge.load(trained)
    alone.partner = None
    assert alone.log_probs(windows) == pytest.approx(log_softmax(judge.logits(windows), judge.temperature))


def test_partner_none_leaves_bert_alone(tiny_config):
    import dataclasses

    from whowrote.pipeline import train

    run = train(dataclasses.replace(tiny_config, partner="none", steps=4), name="alone", progress=False)
    assert json.loads((run / "model" / "whowrote.json").read_text()).get("partner") is None
    assert "partner" not in json.loads((run / "report.json").read_text())
    assert not (run / "model" / "partner.safetensors").exists()
    assert Judge.load(run).partner is None


def test_study_presets_judge_with_bert_alone_and_bad_settings_are_refused():
    assert resolve("paper").partner == resolve("course").partner == "none"
    assert resolve("authors").partner == resolve("cpu").partner == "char"
    with pytest.raises(WhowroteError, match="unknown partner 'words'"):
        resolve("cpu", partner="words")
    with pytest.raises(WhowroteError, match="partner_windows"):
        resolve("cpu", partner_windows=0)


def test_damaged_partner_files_are_a_one_line_error(trained, tmp_path):
    import shutil

    model = tmp_path / "model"
    shutil.copytree(trained / "model", model)
    (model / "partner.safetensors").write_bytes(b"not safetensors")
    with pytest.raises(WhowroteError, match="refit them with: whowrote evaluate"):
        Judge.load(model)
    proc = subprocess.run([sys.executable, "-m", "whowrote", "judge", "--model", str(model), "some text here"],
                          capture_output=True, text=True)
    assert proc.returncode == 2
    assert "Traceback" not in proc.stderr and len(proc.stderr.strip().splitlines()) == 1


def test_a_partner_that_reads_common_words_only_ignores_rare_ones(tmp_path):
    from whowrote.model.partner import mask_rare_words

    assert mask_rare_words(["the corpse was in the kitten's cupboard [MASK]"], 300) == ["the * was in the *'s * [MASK]"]
    assert mask_rare_words(["the corpse"], 0) == ["the corpse"]
    # two styles told apart only by rare words, and by punctuation habits that every word shares
    a = [f"the {w} was there; and so it was; and then it went" for w in ("corpse", "crypt", "tomb", "raven")] * 5
    b = [f"the {w} was there, and so it was, and then it went" for w in ("kitten", "pudding", "chess", "mutton")] * 5
    y = np.array([0] * len(a) + [1] * len(b))
    plain, masked = CharPartner.fit(a + b, y), CharPartner.fit(a + b, y, common_words=300)
    swapped = ["the kitten was there; and so it was; and then it went"]  # style a, a word of b
    assert plain.logits(swapped)[0, 1] > masked.logits(swapped)[0, 1]  # the rare word no longer pulls to b
    assert masked.logits(swapped).argmax() == 0
    again = CharPartner.load(tmp_path, masked.save(tmp_path))
    assert again.common_words == 300 and again.logits(swapped) == pytest.approx(masked.logits(swapped), abs=1e-9)
