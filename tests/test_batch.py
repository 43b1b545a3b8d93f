"""Batch judging: blocks that read what the local judge reads, parts written whole and
resumed, and `--engine ray` on a local Ray runtime giving the local judge's verdicts."""

import json
import os

import pytest

from tests.conftest import STYLE_A, STYLE_B, invented_text
from tests.test_cli import assert_one_line_error, run_cli
from whowrote.errors import WhowroteError
from whowrote.judge.inputs import file_record, records_from_jsonl

pa = pytest.importorskip("pyarrow", reason="pyarrow comes with the ray extra: pip install 'whowrote[ray]'")
import pyarrow.parquet as pq  # noqa: E402

from whowrote.batch.blocks import plan, read  # noqa: E402
from whowrote.batch.parts import Output  # noqa: E402


def _jsonl(path, n, bad_every=0, seed=0):
    lines = []
    for i in range(n):
        if bad_every and i % bad_every == bad_every - 1:
            lines.append("{not json" if i % 2 else json.dumps({"id": f"x{i}", "text": 5}))
            continue
        style = STYLE_A if (i + seed) % 2 else STYLE_B
        row = {"text": invented_text(style, 20 + i % 50, seed * 1000 + i), "model": f"m{i % 3}"}
        if i % 4:
            row["id"] = f"{path.stem}-{i}"
        lines.append(json.dumps(row))
        if i % 17 == 5:
            lines.append("   ")  # a blank line counts for line numbers, and is no record
    path.write_text("\n".join(lines) + "\n")
    return path


def _key(record):
    return (record.id, None if record.error else "".join(record.chunks), record.extra, record.error)


def test_jsonl_blocks_read_the_records_the_local_judge_reads(tmp_path):
    path = _jsonl(tmp_path / "a.jsonl", 45, bad_every=9)
    blocks = plan([str(path)], block_records=10)
    assert [b.index for b in blocks] == list(range(len(blocks))) and len(blocks) == 5
    got = [_key(r) for b in blocks for r in read(b)]
    with open(path, "rb") as fh:
        expected = [_key(r) for r in records_from_jsonl(fh, "a.jsonl")]
    assert got == expected and any(e[3] for e in expected)
    assert plan([str(path)], block_records=10) == blocks  # a rerun plans the same blocks


def test_parquet_blocks_across_row_groups_carry_ids_and_columns(tmp_path):
    rows = [{"id": None if i % 3 == 0 else f"p{i}", "text": None if i == 7 else f"text {i}", "score": i}
            for i in range(23)]
    pq.write_table(pa.Table.from_pylist(rows), tmp_path / "s.parquet", row_group_size=6)
    blocks = plan([str(tmp_path / "s.parquet")], block_records=10)
    assert [(b.start, b.stop) for b in blocks] == [(0, 10), (10, 20), (20, 23)]
    got = [r for b in blocks for r in read(b)]
    assert [r.id for r in got] == [f"s.parquet:{i + 1}" if i % 3 == 0 or i == 7 else f"p{i}" for i in range(23)]
    assert got[7].error == 's.parquet row 8: needs a string "text" column'
    assert "".join(got[22].chunks) == "text 22" and got[22].extra == {"score": 22}


def test_text_folders_are_one_record_a_file_named_as_the_local_judge_names_them(tmp_path):
    (tmp_path / "c" / "sub").mkdir(parents=True)
    (tmp_path / "c" / "one.txt").write_text("\ufeffThe first passage.")
    (tmp_path / "c" / "sub" / "two.txt").write_bytes("caf\xe9".encode("latin-1"))
    (tmp_path / "c" / ".hidden.txt").write_text("never read")
    (tmp_path / "c" / "notes.csv").write_text("not an input")
    folder = str(tmp_path / "c")
    records = [r for b in plan([folder]) for r in read(b)]
    assert [r.id for r in records] == [os.path.join(folder, "one.txt"), os.path.join(folder, "sub", "two.txt")]
    assert "".join(records[0].chunks) == "".join(file_record(tmp_path / "c" / "one.txt").chunks)
    with pytest.raises(UnicodeDecodeError):
        "".join(records[1].chunks)  # the judge turns this into the local judge's error record


def test_missing_inputs_and_stdin_fail_before_any_work(tmp_path):
    with pytest.raises(WhowroteError, match="no such file or folder"):
        plan([str(tmp_path / "nope.jsonl")])
    with pytest.raises(WhowroteError, match="standard input"):
        plan(["-"])
    (tmp_path / "empty").mkdir()
    with pytest.raises(WhowroteError, match="holds no .jsonl"):
        plan([str(tmp_path / "empty")])


def test_output_writes_whole_parts_and_refuses_another_job(tmp_path):
    out = Output(str(tmp_path / "out"))
    assert out.start({"inputs": ["a"]}) == set()
    out.write_part(3, [{"id": "a"}, {"id": "b", "error": "bad"}])
    (tmp_path / "out" / ".tmp-dead-part-000004.jsonl").write_text('{"id": "half')  # a killed writer's leftover
    assert Output(str(tmp_path / "out")).start({"inputs": ["a"]}) == {3}
    assert not any(p.name.startswith(".tmp-") for p in (tmp_path / "out").iterdir())
    assert out.records() == [{"id": "a"}, {"id": "b", "error": "bad"}]
    with pytest.raises(WhowroteError, match="another job"):
        Output(str(tmp_path / "out")).start({"inputs": ["b"]})
    pq_out = Output(str(tmp_path / "pq"), "parquet")
    pq_out.start({})
    pq_out.write_part(0, [{"id": "e", "error": "bad"}, {"id": "f", "label": "alice", "probs": {"alice": 1.0}}])
    assert pq_out.records()[1]["probs"] == {"alice": 1.0} and pq_out.records()[0]["label"] is None


def test_cli_ray_engine_needs_an_output_folder_and_a_model(trained, tmp_path):
    _jsonl(tmp_path / "a.jsonl", 3)
    assert_one_line_error(run_cli("judge", "--engine", "ray", "--model", str(trained), str(tmp_path / "a.jsonl")),
                          "--output")
    assert_one_line_error(run_cli("judge", "--model", str(trained), "--output", str(tmp_path / "o"), "some text"),
                          "--engine ray")
    assert_one_line_error(run_cli("judge", "--engine", "ray", "--model", str(tmp_path / "no-model"), "--output",
                                  str(tmp_path / "o"), str(tmp_path / "a.jsonl")), "model folder not found")
    assert not (tmp_path / "o").exists()


@pytest.fixture(scope="module")
def batch_inputs(tmp_path_factory):
    root = tmp_path_factory.mktemp("batch")
    _jsonl(root / "a.jsonl", 130, bad_every=40, seed=1)
    _jsonl(root / "b.jsonl", 90, seed=2)
    rows = [{"id": f"q{i}", "text": invented_text(STYLE_A if i % 2 else STYLE_B, 30 + i, 500 + i)} for i in range(60)]
    pq.write_table(pa.Table.from_pylist(rows), root / "c.parquet", row_group_size=25)
    (root / "texts").mkdir()
    for i in range(12):
        (root / "texts" / f"t{i:02d}.txt").write_text(invented_text(STYLE_A if i % 2 else STYLE_B, 80, 900 + i))
    (root / "texts" / "z-binary.txt").write_bytes(b"\x00\x01binary")
    return root


def _local(judge, root):
    from whowrote.judge.inputs import jsonl_source, records_from_args

    records = [*jsonl_source(str(root / "a.jsonl")), *jsonl_source(str(root / "b.jsonl"))]
    records += [r for b in plan([str(root / "c.parquet")]) for r in read(b)]  # the local judge has no Parquet reader
    records += list(records_from_args([str(root / "texts")]))
    return [s.to_dict() for s in judge.score_records(records)]


def test_ray_engine_gives_the_local_verdicts_and_resumes_a_killed_job(trained, batch_inputs, tmp_path):
    pytest.importorskip("ray", reason="the ray extra is not installed: pip install 'whowrote[ray]'")
    from whowrote import Judge
    from whowrote.batch.ray_judge import judge_with_ray

    root = batch_inputs
    inputs = [str(root / "a.jsonl"), str(root / "b.jsonl"), str(root / "c.parquet"), str(root / "texts")]
    out = tmp_path / "out"
    summary = judge_with_ray(str(trained), inputs, str(out), actors=2, block_records=25, precision="fp32",
                             batch_size=7, progress=False)
    expected = _local(Judge.load(trained, precision="fp32"), root)
    got = Output(str(out)).records()
    assert summary["records_this_run"] == len(expected) == len(got) > 290
    assert summary["errors_this_run"] == sum("error" in e for e in expected) > 0
    assert [g["id"] for g in got] == [e["id"] for e in expected]
    assert [g.get("label") for g in got] == [e.get("label") for e in expected]
    assert [g.get("error") for g in got] == [e.get("error") for e in expected]
    assert max(abs(g["probs"][k] - e["probs"][k]) for g, e in zip(got, expected) if "probs" in e
               for k in e["probs"]) <= 1e-4
    assert json.loads((out / "_done.json").read_text())["blocks"] == summary["blocks"]

    # a killed job: two parts never written, one half-written under its temporary name
    parts = sorted(out.glob("part-*.jsonl"))
    for p in (parts[1], parts[-1]):
        p.unlink()
    (out / f".tmp-killed-{parts[1].name}").write_text(parts[0].read_text()[:50])
    (out / "_done.json").unlink()
    again = judge_with_ray(str(trained), inputs, str(out), actors=1, block_records=25, precision="fp32",
                           progress=False)
    assert again["blocks_this_run"] == 2
    assert Output(str(out)).records() == got  # nothing lost, nothing twice
    assert not list(out.glob(".tmp-*"))
    with pytest.raises(WhowroteError, match="another job"):
        judge_with_ray(str(trained), inputs[:1], str(out), block_records=25, precision="fp32", progress=False)
