"""The run folder's layout has one owner: whowrote/layout.py names every file, and the
readers and writers ask it."""

import json
import re
from pathlib import Path

import pytest

from whowrote.errors import WhowroteError
from whowrote.layout import RunFiles, read_json, read_model_meta

RUN_FILES = ("report.json", "validity.json", "metrics.jsonl", "whowrote.json", "config.json")


def test_run_files_name_each_file_and_read_missing_ones_as_empty(tmp_path):
    files = RunFiles(tmp_path / "r")
    assert files.report == tmp_path / "r" / "report.json" and files.plot("a.png") == tmp_path / "r" / "plots" / "a.png"
    assert not files.is_run() and read_json(files.report) == {} and read_model_meta(files.model) == {}
    files.root.mkdir()
    files.config.write_text(json.dumps({"config": {}}))
    assert files.is_run()
    checkpoint, tmp, old = files.checkpoints()
    assert (checkpoint.name, tmp.name, old.name) == ("checkpoint", "checkpoint.tmp", "checkpoint.old")


def test_a_run_folder_without_a_model_is_one_clear_error(tmp_path):
    from whowrote.judge.loading import model_folder

    RunFiles(tmp_path).metrics.write_text("")
    with pytest.raises(WhowroteError, match="no trained model yet"):
        model_folder(tmp_path)


def test_no_other_module_spells_a_run_folder_file_name():
    package = Path(__file__).resolve().parents[1] / "whowrote"
    spelled = re.compile("|".join(f'"{re.escape(n)}"' for n in RUN_FILES))
    offenders = {str(p.relative_to(package)) for p in package.rglob("*.py") if p.name != "layout.py"
                 for line in p.read_text().splitlines()
                 if spelled.search(line.split("#")[0]) and not line.lstrip().startswith(('"', "'"))}
    # these name their own folders' report.json (`judge --report DIR`, `generator-study --out DIR`)
    assert offenders == {"judge/report.py", "generator/study.py"}


def _imports() -> dict[str, set[str]]:
    """Module -> the whowrote modules it imports, at the top or inside functions."""
    import ast

    package = Path(__file__).resolve().parents[1] / "whowrote"
    paths = {".".join(p.relative_to(package.parent).with_suffix("").parts).removesuffix(".__init__"): p
             for p in package.rglob("*.py")}
    graph = {}
    for name, path in paths.items():
        base = name.split(".") if path.name == "__init__.py" else name.split(".")[:-1]
        graph[name] = set()
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.ImportFrom):
                target = ".".join(base[: len(base) - node.level + 1] + [node.module or ""]).strip(".") if node.level else node.module
                graph[name] |= {f"{target}.{a.name}" if f"{target}.{a.name}" in paths else target for a in node.names}
    return {k: {t for t in v if t in paths and t != k} for k, v in graph.items()}


def test_no_module_imports_its_own_importer():
    graph = _imports()
    assert "whowrote.training.train" in graph["whowrote.pipeline"]  # the graph is read, not empty

    def reaches(start, goal, seen):
        return any(t == goal or (t not in seen and not seen.add(t) and reaches(t, goal, seen)) for t in graph[start])
    circles = sorted(m for m in graph if reaches(m, m, set()))
    assert circles == []


# the data flow, lowest first: a module may import its own layer and the ones before it
LAYERS = ["errors", "files", "layout", "hardware", "smooth", "text", "config", "data", "model", "training",
          "judge", "batch", "serve", "evaluation", "pipeline", "generator", "compare", "commands", "cli"]


def _stage(module: str) -> str:
    """The package or module right under whowrote/ ("" for whowrote itself)."""
    return module.split(".")[1] if "." in module else ""


def _layer(module: str) -> int:
    """The public API (whowrote/__init__) and `python -m whowrote` sit on top of everything."""
    return len(LAYERS) if _stage(module) in ("", "__main__") else LAYERS.index(_stage(module))


def test_imports_point_down_the_data_flow():
    graph = _imports()
    assert {_layer(m) for m in graph} >= set(range(len(LAYERS))), "a module outside LAYERS"
    upward = sorted(f"{m} -> {t}" for m, targets in graph.items() for t in targets if _layer(t) > _layer(m))
    assert upward == []


def test_judging_a_text_loads_no_training_or_evaluation_code():
    graph = _imports()
    product = [m for m in graph if _stage(m) in ("judge", "batch", "serve", "model")]
    leaning = sorted(f"{m} -> {t}" for m in product for t in graph[m]
                     if _stage(t) in ("training", "evaluation", "pipeline", "commands"))
    assert product and leaning == []
