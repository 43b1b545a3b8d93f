"""The HTTP API on a tiny open-set run, through FastAPI's TestClient: every endpoint, every
error code, concurrent requests batched into one model call."""

import json
import threading

import pytest
from fastapi.testclient import TestClient

from tests.conftest import STYLE_A, STYLE_B, STYLE_C, STYLE_D, invented_text
from whowrote import Judge
from whowrote.serve.app import create_app, port_free

A_TEXT = invented_text(STYLE_A, 120, 51)
B_TEXT = invented_text(STYLE_B, 120, 52)


@pytest.fixture(scope="module")
def judge(open_set_run):
    return Judge.load(open_set_run)


@pytest.fixture(scope="module")
def client(judge, open_set_run):
    with TestClient(create_app(judge, open_set_run, max_bytes=50_000, timeout_s=30)) as c:
        yield c


def test_health_model_page_and_docs(client):
    assert client.get("/health").json() == {"status": "ok"}
    m = client.get("/model").json()
    assert m["labels"] == ["alice", "edgar"] and m["open_set"]["method"] == "background"
    assert m["window"] == m["seq_len"] - 2
    assert m["report"]["unseen"]["per_label"]["neither"]["passages"] > 0
    page = client.get("/")
    assert page.status_code == 200 and "<textarea" in page.text and "http" not in page.text.split("<body>")[1].replace("http://www.w3.org", "")
    assert client.get("/static/app.js").status_code == 200
    assert "/score" in client.get("/openapi.json").json()["paths"]
    assert client.get("/docs").status_code == 200


def test_score_one_or_many_is_the_judges_json(client, judge):
    one = client.post("/score", json={"text": A_TEXT}).json()["results"]
    assert one == [judge.score([A_TEXT])[0].to_dict()]
    many = client.post("/score", json={"texts": [A_TEXT, B_TEXT, invented_text(STYLE_C + STYLE_D, 120, 3)],
                                       "ids": ["a", "b", "c"]}).json()["results"]
    assert [(r["id"], r["label"]) for r in many] == [("a", "alice"), ("b", "edgar"), ("c", "neither")]
    assert "p_neither" in many[0] and set(many[0]["probs"]) == {"alice", "edgar"}


def test_explain_and_rolling(client):
    out = client.post("/explain", json={"text": A_TEXT, "top": 3}).json()
    assert out["label"] == "alice" and len(out["explanation"]["for"]) <= 3
    words = out["explanation"]["words"]
    assert all(A_TEXT[w["start_char"]:w["end_char"]] == w["word"] for w in words)
    r = client.post("/rolling", json={"text": A_TEXT + " " + B_TEXT, "smooth_k": 3, "edge": "zero"}).json()
    assert r["format"] == "whowrote.rolling/1" and r["smooth"] == {"k": 3, "edge": "zero"} and r["segments"]
    assert r["among"] is None
    two = client.post("/rolling", json={"text": A_TEXT + " " + B_TEXT, "among": ["edgar", "alice"]}).json()
    assert two["among"] == ["alice", "edgar"] and {s["label"] for s in two["segments"]} <= {"alice", "edgar"}


@pytest.mark.parametrize("body,fragment", [
    ({"text": "   "}, "empty text"),
    ({"texts": []}, "empty"),
    ({}, 'either "text" or "texts"'),
    ({"text": "a", "texts": ["b"]}, 'either "text" or "texts"'),
    ({"texts": ["a", "b"], "ids": ["x"]}, "same length"),
    ({"text": 3}, "text"),
])
def test_bad_score_requests_are_422_with_a_reason(client, body, fragment):
    res = client.post("/score", json=body)
    assert res.status_code == 422 and fragment in res.json()["detail"]


def test_malformed_json_non_utf8_too_large_and_bad_settings(client):
    res = client.post("/score", content=b'{"text": ', headers={"content-type": "application/json"})
    assert res.status_code == 422 and "not valid JSON" in res.json()["detail"]
    res = client.post("/score", content=b'{"text": "caf\xe9"}', headers={"content-type": "application/json"})
    assert res.status_code == 422 and "not UTF-8" in res.json()["detail"]
    res = client.post("/score", json={"text": "word " * 20_000})
    assert res.status_code == 413 and "limit is 50000" in res.json()["detail"]
    # a chunked body declares no length: refused once what arrived passes the limit
    chunked = (b'{"text": "' + b"word " * 2_000 if i == 0 else b"word " * 2_000 for i in range(12))
    res = client.post("/score", content=chunked, headers={"content-type": "application/json"})
    assert res.status_code == 413 and "over 50000 bytes" in res.json()["detail"]
    whole = json.dumps({"text": A_TEXT}).encode()
    chunked = (whole[i:i + 100] for i in range(0, len(whole), 100))  # under the limit: read whole, scored
    res = client.post("/score", content=chunked, headers={"content-type": "application/json"})
    assert res.status_code == 200 and res.json()["results"][0]["label"] == "alice"
    assert client.post("/rolling", json={"text": A_TEXT, "smooth_k": 4}).status_code == 422
    assert client.post("/rolling", json={"text": A_TEXT, "edge": "mirror"}).status_code == 422
    res = client.post("/rolling", json={"text": "the kitten"})
    assert res.status_code == 422 and "fewer than one window" in res.json()["detail"]
    res = client.post("/rolling", json={"text": A_TEXT, "among": ["alice", "carroll"]})
    assert res.status_code == 422 and "'carroll' is no label" in res.json()["detail"]
    assert client.post("/explain", json={"text": A_TEXT, "label": "bob"}).status_code == 422
    assert client.get("/health").status_code == 200  # still serving


def test_timeout_is_504_and_the_server_keeps_serving(judge, open_set_run, monkeypatch):
    import time

    original = judge.score
    monkeypatch.setattr(judge, "score", lambda *a, **k: time.sleep(1.5) or original(*a, **k))
    with TestClient(create_app(judge, open_set_run, timeout_s=0.5)) as c:
        res = c.post("/score", json={"text": A_TEXT})
        assert res.status_code == 504 and "not answered within" in res.json()["detail"]
        assert c.get("/health").status_code == 200


def test_concurrent_requests_share_model_calls(judge, open_set_run, monkeypatch):
    calls = []
    original = judge.score

    def counting(texts, ids=None, details=False):
        calls.append(len(texts))
        return original(texts, ids, details)
    monkeypatch.setattr(judge, "score", counting)
    with TestClient(create_app(judge, open_set_run, batch_wait_ms=200)) as c:
        results = [None] * 8

        def ask(i):
            results[i] = c.post("/score", json={"text": A_TEXT if i % 2 else B_TEXT}).json()["results"][0]
        threads = [threading.Thread(target=ask, args=(i,)) for i in range(8)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
    assert [r["label"] for r in results] == ["edgar", "alice"] * 4  # each answer is its own request's
    assert len(calls) < 8 and sum(calls) == 8  # fewer model calls than requests


def test_serve_command_refuses_a_bad_model_folder_and_a_taken_port(tmp_path, open_set_run):
    import socket
    import subprocess
    import sys

    proc = subprocess.run([sys.executable, "-m", "whowrote", "serve", "--model", str(tmp_path)], capture_output=True, text=True)
    assert proc.returncode == 2 and "not a model folder" in proc.stderr and "Traceback" not in proc.stderr
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        s.listen()
        port = s.getsockname()[1]
        assert not port_free("127.0.0.1", port)
        proc = subprocess.run([sys.executable, "-m", "whowrote", "serve", "--model", str(open_set_run), "--port", str(port)],
                              capture_output=True, text=True)
        assert proc.returncode == 2 and f"port {port}" in proc.stderr and "in use" in proc.stderr
