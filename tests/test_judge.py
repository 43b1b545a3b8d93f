"""The judge on a tiny trained run: windows, combination, calibration, inputs, errors, CLI."""

import json
import subprocess
import sys

import numpy as np
import pytest

from tests.conftest import STYLE_A, STYLE_B, invented_text
from whowrote import Judge
from whowrote.errors import WhowroteError
from whowrote.judge.inputs import file_chunks, records_from_args, records_from_jsonl
from whowrote.judge.records import Record

A_TEXT = invented_text(STYLE_A, 400, 11)
B_TEXT = invented_text(STYLE_B, 400, 12)


@pytest.fixture(scope="module")
def judge(trained):
    return Judge.load(trained)


def test_load_from_run_or_model_folder_reads_seq_len_and_temperature(trained, judge):
    meta = json.loads((trained / "model" / "whowrote.json").read_text())
    assert judge.seq_len == meta["seq_len"] == 32 and judge.temperature == meta["temperature"]
    assert Judge.load(trained / "model").labels == judge.labels == ["alice", "edgar"]


def test_judges_invented_styles_and_flags_short_text(judge):
    a, b, short = judge.score([A_TEXT, B_TEXT, "the kitten"])
    assert (a.label, b.label) == ("alice", "edgar")
    assert a.windows > 1 and not a.flags
    assert short.windows == 1 and short.flags == ["short"] and short.tokens == 2
    # one window: the probabilities are the temperature-scaled softmax of the model's logits,
    # mixed with the char partner's reading of the same tokens (model/partner.py)
    import torch

    from whowrote.model.metrics import softmax
    from whowrote.model.partner import window_texts

    tok = judge.tokenizer
    content = tok("the kitten", add_special_tokens=False)["input_ids"]
    ids = torch.tensor([[tok.cls_token_id, *content, tok.sep_token_id]])
    with torch.no_grad(), judge._autocast():  # on the judge's device, in its arithmetic (a GPU: bf16)
        logits = judge.model(input_ids=ids.to(judge.device)).logits.float().cpu().numpy().astype(np.float64)
    assert judge.partner is not None  # the cpu preset's default
    z = judge.partner.mix(logits, judge.partner.logits(window_texts(tok, [content])))
    p = softmax(z, judge.temperature)[0]
    # bf16 (auto on a CPU with it, e.g. AMX) rounds a padded batch of three and this lone
    # window differently: 1.5% of a 0.0006 probability was seen; a wrong temperature moves it tenfold
    tolerance = 1e-4 if judge.precision == "fp32" else 3e-2
    assert [short.probs[l] for l in judge.labels] == pytest.approx(p.tolist(), rel=tolerance)


def test_a_text_in_capitals_is_judged_as_the_same_text_in_lower_case(judge):
    text = invented_text(STYLE_A, 60, 5) + " Then Alice came."  # a name that capitals alone cannot show
    (up, _), (low, _) = judge.encode([text.upper(), text.lower()])
    assert up == low and judge.tokenizer.mask_token_id in up
    shouted, lower = judge.score([text.upper(), text.lower()], details=True)
    assert shouted.probs == pytest.approx(lower.probs) and shouted.tokens == lower.tokens
    assert shouted.window_details[0]["end_char"] == lower.window_details[0]["end_char"]  # offsets into the text as given


def test_windows_cover_the_text_with_offsets_and_end_aligned(judge):
    text = A_TEXT[:1500]
    wins = list(judge.windows([text]))
    n_tokens = len(judge.tokenizer(text, add_special_tokens=False)["input_ids"])
    assert all(len(w) == judge.window for w, *_ in wins)
    assert wins[0][1] == 0 and wins[-1][2] == len(text.rstrip())
    assert wins[-1][3] == n_tokens  # the last window ends on the last token
    starts = [s for _, s, _, _ in wins]
    assert starts == sorted(starts)
    first_ids = judge.tokenizer(text[wins[1][1]:wins[1][2]], add_special_tokens=False)["input_ids"]
    assert first_ids == wins[1][0]  # offsets point at exactly the window's text


def test_text_score_is_mean_log_probability_of_windows(judge):
    (s,) = judge.score([A_TEXT + "\n" + B_TEXT[:300]], details=True)
    logp = np.array([[np.log(w["probs"][l]) for l in judge.labels] for w in s.window_details])
    mean = logp.mean(axis=0)
    expected = np.exp(mean - mean.max()) / np.exp(mean - mean.max()).sum()
    assert [s.probs[l] for l in judge.labels] == pytest.approx(expected.tolist())
    assert len(s.window_details) == s.windows


def test_temperature_is_applied(trained):
    cold, hot = Judge.load(trained), Judge.load(trained)
    cold.temperature, hot.temperature = 1.0, 4.0
    p1 = cold.score([A_TEXT[:100]])[0].probs["alice"]
    p4 = hot.score([A_TEXT[:100]])[0].probs["alice"]
    assert abs(p4 - 0.5) < abs(p1 - 0.5)


def test_streamed_file_scores_like_the_whole_text(judge, tmp_path, monkeypatch):
    import whowrote.judge.inputs as inputs

    f = tmp_path / "long.txt"
    f.write_text(A_TEXT * 3)
    monkeypatch.setattr(inputs, "CHUNK_CHARS", 97)  # many small reads, cut on whitespace
    assert "".join(file_chunks(f)) == A_TEXT * 3
    (streamed,) = judge.score_records([Record("f", file_chunks(f))])
    (whole,) = judge.score([A_TEXT * 3])
    assert streamed.windows == whole.windows and streamed.probs == pytest.approx(whole.probs)


def test_a_batch_goes_on_past_bad_records(judge, tmp_path):
    binary = tmp_path / "image.txt"
    binary.write_bytes(b"\x89PNG\x00\x00\x01")
    latin = tmp_path / "latin.txt"
    latin.write_bytes("caf\u00e9 ol\u00e9".encode("latin-1"))
    folder = tmp_path / "folder"
    folder.mkdir()
    (folder / "one.txt").write_text(B_TEXT)
    args = [A_TEXT, "   ", str(binary), str(latin), str(tmp_path / "missing.txt"), str(folder)]
    scores = list(judge.score_records(records_from_args(args)))
    assert [bool(s.error) for s in scores] == [False, True, True, True, True, False]
    assert "empty" in scores[1].error and "binary" in scores[2].error
    assert "not UTF-8" in scores[3].error and "no such file" in scores[4].error
    assert scores[5].id.endswith("one.txt") and scores[5].label == "edgar"


def test_jsonl_keeps_ids_and_fields_and_reports_bad_lines():
    lines = ['{"id": 7, "text": "a b", "model": "m1"}', "{not json", '{"text": 3}', "", '{"text": "c"}']
    recs = list(records_from_jsonl(lines, "in"))
    assert [r.id for r in recs] == ["7", "in:2", "in:3", "in:5"]
    assert recs[0].extra == {"model": "m1"} and recs[1].error and recs[2].error and not recs[3].error


def test_not_a_classifier_is_a_clear_error(tmp_path, tiny_model):
    with pytest.raises(WhowroteError, match="not a model folder"):
        Judge.load(tmp_path)
    with pytest.raises(WhowroteError, match="not a sequence classifier"):
        Judge.load(tiny_model)  # a bare BertModel
    with pytest.raises(WhowroteError, match="not found"):
        Judge.load(tmp_path / "nope")


def run_judge(*args, stdin=""):
    return subprocess.run([sys.executable, "-m", "whowrote", "judge", *args], input=stdin,
                          capture_output=True, text=True, timeout=300)


def test_cli_json_report_and_exit_codes(trained, tmp_path):
    samples = "".join(json.dumps(r) + "\n" for r in [
        {"id": "s1", "text": A_TEXT[:400], "model": "gen-a", "prompt": "p1"},
        {"id": "s2", "text": B_TEXT[:400], "model": "gen-b", "prompt": "p1"},
        {"id": "s3", "text": A_TEXT[400:800], "model": "gen-a", "prompt": "p2"},
    ]) + "{broken\n"
    proc = run_judge("--model", str(trained), "--jsonl", "-", "--json", "--report", str(tmp_path / "rep"), stdin=samples)
    assert proc.returncode == 1 and "Traceback" not in proc.stderr  # one bad record: partial
    out = [json.loads(l) for l in proc.stdout.splitlines()]
    assert [o["id"] for o in out] == ["s1", "s2", "s3", "stdin:4"]
    assert out[0]["model"] == "gen-a" and out[0]["prompt"] == "p1" and out[0]["label"] == "alice"
    assert "error" in out[3] and "stdin line 4" in proc.stderr
    report = json.loads((tmp_path / "rep" / "report.json").read_text())
    assert report["overall"]["scored"] == 3 and report["overall"]["errors"] == 1
    assert report["groups"]["model"]["gen-a"]["by_label"]["alice"]["count"] == 2
    lo, hi = report["groups"]["model"]["gen-a"]["by_label"]["alice"]["share_ci"]  # 2 of 2: Wilson [0.34, 1]
    assert lo == pytest.approx(0.342, abs=0.01) and hi == pytest.approx(1.0)
    assert set(report["groups"]["prompt"]) == {"p1", "p2"}
    assert (tmp_path / "rep" / "p_alice_hist.png").stat().st_size > 1000
    assert (tmp_path / "rep" / "report.md").read_text().count("| model = ") == 2


def test_cli_table_windows_and_all_bad(trained):
    proc = run_judge("--model", str(trained), "--windows", A_TEXT[:600])
    assert proc.returncode == 0
    assert proc.stdout.splitlines()[1].startswith("text1") and "chars" in proc.stdout
    proc = run_judge("--model", str(trained), "", "missing.txt")
    assert proc.returncode == 2 and proc.stderr.count("whowrote: error:") == 2
    proc = run_judge("--model", "/nonexistent/model", "text")
    assert proc.returncode == 2 and proc.stderr.strip().count("\n") == 0 and "Traceback" not in proc.stderr


def test_precision_choices_agree_and_bad_choice_is_refused(trained):
    fp32, bf16 = Judge.load(trained, precision="fp32"), Judge.load(trained, precision="bf16")
    assert not fp32.bf16 and bf16.bf16
    texts = [A_TEXT[:300], B_TEXT[:300]]
    assert [s.label for s in fp32.score(texts)] == [s.label for s in bf16.score(texts)] == ["alice", "edgar"]
    with pytest.raises(WhowroteError, match="precision"):
        Judge.load(trained, precision="int4")


def test_int8_scores_close_to_fp32_and_still_explains(trained):
    from whowrote.judge.explain import explain

    # int8 (torch dynamic quantisation) runs on the CPU only, also where a GPU is present
    fp32, int8 = Judge.load(trained, precision="fp32", device="cpu"), Judge.load(trained, precision="int8", device="cpu")
    assert int8.precision == "int8" and int8.scoring_model is not int8.model  # a quantised copy scores
    assert any(".quantized.dynamic." in type(m).__module__ for m in int8.scoring_model.modules())
    texts = [A_TEXT[:300], B_TEXT[:300]]
    a, b = fp32.score(texts), int8.score(texts)
    assert [s.label for s in a] == [s.label for s in b] == ["alice", "edgar"]
    assert all(abs(x.probs[k] - y.probs[k]) < 0.05 for x, y in zip(a, b) for k in x.probs)
    assert explain(int8, A_TEXT[:160], top_k=3)["label"] == "alice"  # gradients come from the fp32 model


def test_mixed_inputs_keep_their_order(judge, tmp_path):
    f = tmp_path / "b.txt"
    f.write_text(B_TEXT[:500])
    recs = [Record("t1", [A_TEXT[:300]]), Record("f", file_chunks(f)), Record("t2", [B_TEXT[:300]]),
            Record("bad", error="broken")]
    out = list(judge.score_records(recs))
    assert [s.id for s in out] == ["t1", "f", "t2", "bad"]
    assert [s.label for s in out[:3]] == ["alice", "edgar", "edgar"] and out[3].error == "broken"


def test_unfinished_run_folder_says_how_to_finish_it(tmp_path):
    (tmp_path / "config.json").write_text('{"format": "whowrote.run/1", "config": {}}')
    (tmp_path / "metrics.jsonl").write_text("")
    with pytest.raises(WhowroteError, match="--resume"):
        Judge.load(tmp_path)


def test_explanations_point_at_the_style_words_and_add_up(judge):
    from whowrote.judge.explain import explain, token_attributions

    text = A_TEXT[:160]
    out = explain(judge, text, top_k=5)
    assert out["label"] == "alice"
    assert sum(w["word"].lower() in STYLE_A for w in out["for"]) >= 3
    assert all(text[w["start_char"]:].startswith(w["word"]) for w in out["for"] + out["against"])
    # integrated gradients are complete: scores add up to odds(text) - odds(baseline)
    _, tokens, odds = token_attributions(judge, text, "alice", steps=64)
    assert len(odds) == 1
    assert sum(s for _, _, s in tokens) == pytest.approx(odds[0][0] - odds[0][1], rel=0.05, abs=0.05)


def test_cli_explain_lists_words_each_way(trained):
    proc = run_judge("--model", str(trained), "--explain", "--top", "3", A_TEXT[:200])
    assert proc.returncode == 0, proc.stderr
    assert "  for alice: " in proc.stdout


def test_explanations_match_captum_layer_integrated_gradients(judge):
    """The same integrated gradients as Captum's, on the word embeddings, same baseline,
    same midpoint rule and number of steps."""
    import torch
    from captum.attr import LayerIntegratedGradients

    from whowrote.judge.explain import _log_odds, token_attributions

    text = A_TEXT[:120]
    _, ours, _ = token_attributions(judge, text, "alice", steps=32)
    ids, _ = judge.encode([text])[0]
    tok = judge.tokenizer
    input_ids = torch.tensor([[tok.cls_token_id, *ids, tok.sep_token_id]], device=judge.device)
    baseline = torch.full_like(input_ids, tok.mask_token_id)
    baseline[0, 0], baseline[0, -1] = tok.cls_token_id, tok.sep_token_id
    embed = judge.model.get_input_embeddings()

    def log_odds(input_ids):
        return _log_odds(judge.model, embed(input_ids), judge.labels.index("alice"), judge.bert_temperature)

    lig = LayerIntegratedGradients(log_odds, embed)
    theirs = lig.attribute(input_ids, baselines=baseline, n_steps=32, method="riemann_middle").sum(-1)[0, 1:-1]
    assert [s for _, _, s in ours] == pytest.approx(theirs.detach().tolist(), rel=1e-3, abs=1e-5)


def test_explanations_add_up_for_a_text_of_many_windows(judge):
    """A token in several windows gets the sum of its contributions over the windows, over
    the number of windows: the total is the mean over windows of the log-odds difference."""
    from whowrote.judge.explain import explain, token_attributions

    text = (A_TEXT + " " + B_TEXT)[:1500]
    _, tokens, odds = token_attributions(judge, text, "alice", steps=64)
    assert len(odds) >= 4  # several overlapping windows
    mean_diff = float(np.mean([o - b for o, b in odds]))
    assert sum(s for _, _, s in tokens) == pytest.approx(mean_diff, rel=0.05, abs=0.05)
    out = explain(judge, text, "alice")
    assert out["sum_of_scores"] == pytest.approx(out["log_odds"] - out["baseline_log_odds"], rel=0.1, abs=0.1)


def test_ids_must_match_texts_and_slashes_in_text_are_text(judge):
    with pytest.raises(WhowroteError, match="2 texts but 1 ids"):
        judge.score(["a", "b"], ids=["x"])
    recs = list(records_from_args(["and/or", "notes.txt", "./draft"]))
    assert recs[0].error is None and recs[0].chunks == ["and/or"]
    assert "no such file" in recs[1].error and "no such file" in recs[2].error


def test_cli_refuses_bad_stride_and_top(trained):
    for flags, fragment in ((["--stride", "0"], "--stride"), (["--explain", "--top", "0"], "--top")):
        proc = run_judge("--model", str(trained), *flags, "the kitten")
        assert proc.returncode == 2 and fragment in proc.stderr and "Traceback" not in proc.stderr


def test_loading_a_judge_leaves_torch_threads_alone(trained):
    import torch

    before = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        Judge.load(trained)
        assert torch.get_num_threads() == 1
    finally:
        torch.set_num_threads(before)


@pytest.mark.parametrize("n_tokens", [5, 126, 127, 189, 190, 300, 1000])
def test_window_starts_are_where_the_judge_cuts_a_text(judge, n_tokens):
    from whowrote.data.split import window_starts

    ids = list(range(n_tokens))  # each id its own position
    cut = [w[0] for w, *_ in judge.windows(encoded=(ids, [(i, i + 1) for i in ids]))]
    assert cut == window_starts(n_tokens, judge.window, judge.stride)


def test_word_pieces_of_a_rewritten_word_make_one_word(monkeypatch):
    """Pieces of a word the normalisation rewrote each map to the whole original word (their
    spans overlap, not touch): the page must show the word once, with the pieces' sum."""
    import whowrote.judge.explain as explain_module

    text = "Tge cat sat"
    monkeypatch.setattr(explain_module, "token_attributions",
                        lambda judge, text, label=None: ("alice", [(0, 3, 0.25), (0, 3, 0.5), (4, 7, 1.0), (8, 11, -1.0)],
                                                         [(1.0, 0.0)]))
    _, words, _ = explain_module.word_attributions(None, text)
    assert [(w["word"], w["score"]) for w in words] == [("Tge", 0.75), ("cat", 1.0), ("sat", -1.0)]


def test_a_word_the_rules_keep_keeps_its_own_offsets():
    from whowrote.text.normalise import Spec, normalise

    n = normalise("the Walrus said", Spec(names="mask", spelling=True, capitals=True, lower_names=True))
    assert n.text == "the Walrus said"
    assert [n.original_span(i, i + 1) for i in range(4, 10)] == [(i, i + 1) for i in range(4, 10)]


NOT_ENGLISH = ["\u611b\u9e97\u7d72\u5922\u904a\u4ed9\u5883 " * 40, "| 1 | 0 | --- | 3. | 4. |\n" * 30, "12 345 6789 " * 40]


def test_a_text_that_is_not_english_is_flagged_and_an_open_set_answers_neither(judge, open_set_run):
    english = invented_text(STYLE_A, 120, 5)
    two_labels = judge.score([english, *NOT_ENGLISH])
    assert "not-english" not in two_labels[0].flags
    for s in two_labels[1:]:  # no "neither" to give: the author stays, the flag says what it is worth
        assert "not-english" in s.flags and s.label in ("alice", "edgar")
    open_set = Judge.load(open_set_run).score([english, *NOT_ENGLISH])
    assert "not-english" not in open_set[0].flags and open_set[0].label != "neither"
    assert all(s.label == "neither" and "not-english" in s.flags for s in open_set[1:])
    assert open_set[1].to_dict()["flags"] == ["not-english"]


def test_english_words_are_counted_in_the_text_as_given():
    from whowrote.judge.english import count_english, english_share
    from whowrote.text.normalise import Spec, normalise

    assert count_english("the unwholesome kitten") == (3, 3)
    assert count_english("'Twas brillig, and the slithy toves") == (6, 4)  # Webster's has "twas" and "slithy"
    assert count_english("Alice said 12,000!") == (2, 1)  # a name is a word but no English one; numbers no words
    # a generator's sample: names are words, not garbage (the study's share of real words)
    assert count_english("Alice said 12,000!", names=True) == (2, 2) and english_share("Alice zqxv", names=True) == 0.5
    assert english_share("12,000") == 0.0
    assert count_english("Didn't you? Isn\u2019t it?") == (4, 4)  # n't contractions by their stem, curly or not
    assert count_english("\u611b\u9e97\u7d72") == (0, 0)
    # counted before the spelling repair, which makes near-English of French ("fois" -> "foil")
    french = "Il \u00e9tait une fois une petite fille qui vivait au bord de la for\u00eat avec sa m\u00e8re."
    words, english = count_english(french)
    assert english < 0.5 * words
    assert not count_english("une fois")[1] and normalise("une fois", Spec(), track=False).text == "one foil"


def test_window_is_seq_len_less_cls_and_sep_and_content_is_deprecated(judge):
    assert judge.window == judge.seq_len - 2
    with pytest.warns(DeprecationWarning, match="Judge.window"):
        assert judge.content == judge.window
