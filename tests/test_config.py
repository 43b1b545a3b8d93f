import dataclasses

import pytest

from whowrote.config import DEFAULT_PRESET, PRESETS, Config, from_dict, parse_sources, resolve
from whowrote.errors import WhowroteError


def test_presets_resolve_and_paper_is_the_study():
    for name in PRESETS:
        assert resolve(name).preset == name
    paper = resolve("paper")
    assert (paper.model, paper.steps, paper.per_class, paper.seq_len) == ("bert-base-uncased", 150, 32, 256)
    assert paper.sources == {"alice": ["12"], "edgar": ["2147", "2148", "2149", "2150", "2151"]}
    assert paper.lr <= 2e-5
    course = resolve("course")
    assert course.sources == {"alice": ["11"], "edgar": ["2148"]} and course.lr == 5e-7
    assert resolve("cpu").model == "bundled"


def test_overrides_apply_in_order_preset_toml_flags(tmp_path):
    toml = tmp_path / "run.toml"
    toml.write_text('steps = 7\nlr = 1e-4\n[sources]\nalice = ["11"]\nedgar = ["2148", "2149"]\n')
    c = resolve("paper", str(toml), steps="9")
    assert c.steps == 9 and c.lr == 1e-4 and c.seq_len == 256
    assert c.sources == {"alice": ["11"], "edgar": ["2148", "2149"]}


def test_round_trip_through_dict():
    c = resolve("course", seed=5)
    assert from_dict(c.to_dict()) == c


@pytest.mark.parametrize("kwargs,match", [
    ({"seq_len": 4}, "seq_len"),
    ({"steps": 0}, "steps"),
    ({"schedule": "exotic"}, "schedule"),
    ({"lr": "fast"}, "lr"),
    ({"val_frac": 0.6, "test_frac": 0.5}, "val_frac"),
    ({"block_len": 10, "seq_len": 64}, "block_len"),
    ({"sources": {"alice": ["12"]}}, "two labels"),
    ({"spelling": "maybe"}, "'spelling' expects bool"),
    ({"token_mask": 1.5}, "token_mask must be in"),
    ({"partner_common_words": -1}, "partner_common_words"),
])
def test_bad_values_are_clear_errors(kwargs, match):
    with pytest.raises(WhowroteError, match=match):
        resolve("cpu", **kwargs)


def test_unknown_preset_and_setting():
    with pytest.raises(WhowroteError, match="unknown preset 'gpu'.*cpu, paper"):
        resolve("gpu")
    with pytest.raises(WhowroteError, match="unknown setting"):
        resolve("cpu", learning_rate=1)


def test_bad_toml(tmp_path):
    bad = tmp_path / "x.toml"
    bad.write_text("steps = = 3")
    with pytest.raises(WhowroteError, match="not valid TOML"):
        resolve("cpu", str(bad))
    with pytest.raises(WhowroteError, match="not found"):
        resolve("cpu", str(tmp_path / "none.toml"))


def test_parse_sources():
    assert parse_sources(["alice=12", "edgar=2147,2148", "edgar=2149"]) == {"alice": ["12"], "edgar": ["2147", "2148", "2149"]}
    with pytest.raises(WhowroteError):
        parse_sources(["alice"])


def test_labels_follow_source_order():
    assert resolve("cpu").labels == ["alice", "edgar"] and Config().labels == ["alice", "edgar", "neither"]


def test_config_defaults_are_the_default_preset():
    assert Config() == resolve() and Config().preset == DEFAULT_PRESET
    assert Config().calibration["neither"] and not set(Config().heldout["neither"]) & set(Config().sources["neither"])


def test_an_older_run_takes_a_missing_setting_as_runs_had_it():
    saved = dataclasses.asdict(resolve("cpu"))
    for name in ("scramble", "partner_neither", "background_per_class"):
        saved.pop(name)
    old = from_dict(saved)
    assert (old.scramble, old.partner_neither, old.background_per_class) == (0.0, True, 0)
    assert from_dict(dataclasses.asdict(resolve())) == resolve()  # a run of today: as saved


def test_new_books_drop_the_presets_held_out_works_and_background():
    c = resolve("authors", sources={"a": ["1"], "b": ["2"]})
    assert c.heldout == {} and c.background == "" and c.open_set == "none" and c.scramble == 0.0
    c = resolve("authors", sources={"a": ["1"], "b": ["2"], "n": ["3"]}, background="n")
    assert c.scramble == resolve("authors").scramble > 0  # a background of one's own keeps the negatives
    c = resolve("cpu", sources={"a": ["1"], "b": ["2"]}, heldout={"a": ["3"]})
    assert c.heldout == {"a": ["3"]}
    assert resolve("authors").heldout["edgar"] == ["2150"]


def test_added_books_keep_the_presets_labels_held_out_works_and_background():
    base = resolve("authors")
    trained, held = base.sources["neither"][0], base.heldout["neither"][0]
    c = resolve("authors", add_sources={"neither": ["1342", "76", trained]})  # there already: not twice
    assert c.sources["neither"] == base.sources["neither"] + ["1342", "76"]
    assert c.sources["alice"] == base.sources["alice"] and c.heldout == base.heldout
    assert c.background == "neither" and c.open_set == "background"
    assert base.sources["neither"] == resolve("authors").sources["neither"]  # the preset itself is untouched
    with pytest.raises(WhowroteError, match="no label 'nether'"):
        resolve("authors", add_sources={"nether": ["1342"]})
    with pytest.raises(WhowroteError, match="both trained on and held out|held out"):
        resolve("authors", add_sources={"neither": [held]})  # a held-out author cannot be trained on


def test_booleans_read_every_usual_spelling():
    for word, value in (("true", True), ("Yes", True), ("1", True), ("false", False), ("NO", False), ("0", False)):
        assert resolve("cpu", spelling=word).spelling is value


def test_leave_one_work_out_moves_the_held_out_book_into_training(monkeypatch):
    import importlib.util
    from pathlib import Path

    path = Path(__file__).resolve().parents[1] / "benchmarks" / "author_works.py"
    monkeypatch.syspath_prepend(str(path.parent))  # as running the script puts it first
    spec = importlib.util.spec_from_file_location("author_works", path)
    works = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(works)
    config = resolve("authors")
    held = config.heldout["alice"][0]
    first = config.sources["alice"][0]
    out = works.leave_out(config, "alice", first)
    assert out.heldout["alice"] == [first] and held in out.sources["alice"] and first not in out.sources["alice"]
    with pytest.raises(WhowroteError, match="no book 999999"):
        works.leave_out(resolve("authors"), "alice", "999999")
