"""The web page in a real browser: `whowrote serve` on localhost, headless Chromium (Debian's
`chromium`, driven by Playwright), a pasted text, the verdict and the highlighted words.
Saves a screenshot: $WHOWROTE_SCREENSHOT (default: the test's temporary folder); with
$WHOWROTE_SCREENSHOT_MODEL it serves that run instead of the tiny test model, which is how
the README's screenshot is made."""

import os
import shutil
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest

from tests.conftest import STYLE_A, STYLE_B, invented_text

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
pytestmark = pytest.mark.skipif(not CHROMIUM, reason="no chromium on this machine: apt-get install chromium "
                                                     "(scripts/test.sh does where it can)")


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture
def server(open_set_run):
    model = os.environ.get("WHOWROTE_SCREENSHOT_MODEL") or str(open_set_run)
    port = free_port()
    proc = subprocess.Popen([sys.executable, "-m", "whowrote", "serve", "--model", model, "--port", str(port)],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    url = f"http://127.0.0.1:{port}"
    for _ in range(240):
        try:
            urllib.request.urlopen(url + "/health", timeout=1)
            break
        except OSError:
            if proc.poll() is not None:
                pytest.fail(f"the server stopped: {proc.stderr.read()}")
            time.sleep(0.5)
    yield url
    proc.terminate()
    proc.wait(timeout=30)


def test_page_judges_a_pasted_text_and_highlights_its_words(server, tmp_path):
    from playwright.sync_api import sync_playwright

    shot = Path(os.environ.get("WHOWROTE_SCREENSHOT") or tmp_path / "page.png")
    text = os.environ.get("WHOWROTE_SCREENSHOT_TEXT") or invented_text(STYLE_A, 60, 7)
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=[
            "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-background-networking",
            "--disable-component-update", "--disable-sync"])
        page = browser.new_page(viewport={"width": 1100, "height": 1000})
        requests = []
        page.on("request", lambda r: requests.append(r.url))
        page.goto(server + "/")
        page.wait_for_function("document.getElementById('model-info').textContent.includes('Who wrote it')")
        # the highlighted words are BERT's reading: the page says the char partner weighs in too
        assert "character n-gram model (weight" in page.text_content("#legend")
        page.get_by_label("Text to judge").fill(text)
        page.keyboard.press("Control+Enter")  # the keyboard path
        page.wait_for_selector("#result:not([hidden])", timeout=60_000)
        verdict = page.text_content("#verdict")
        words = page.locator("#words .w")
        assert words.count() > 10
        scores = [float(s) for s in words.evaluate_all("els => els.map(e => e.dataset.score)")]
        assert any(s > 0 for s in scores) and page.locator("#probs tr").count() >= 2
        if not os.environ.get("WHOWROTE_SCREENSHOT_MODEL"):
            assert verdict == "alice"
        shot.parent.mkdir(parents=True, exist_ok=True)
        page.screenshot(path=str(shot), full_page=True)
        # a long text gets the rolling attribution
        if not os.environ.get("WHOWROTE_SCREENSHOT_MODEL"):
            page.get_by_label("Text to judge").fill(invented_text(STYLE_A, 300, 8) + " " + invented_text(STYLE_B, 300, 9))
            page.get_by_role("button", name="Judge").click()
            page.wait_for_selector("#rolling:not([hidden]) svg path", timeout=60_000)
            assert page.locator("#segments li").count() >= 1
            # a text with no English in it: "neither", and the page says why
            page.get_by_label("Text to judge").fill("| 1 | 0 | --- | 3. | 4. |\n" * 20)
            page.get_by_role("button", name="Judge").click()
            page.wait_for_function("document.getElementById('status').textContent.includes('no English style')")
            assert page.text_content("#verdict") == "neither"
        browser.close()
    assert shot.stat().st_size > 10_000
    assert all(u.startswith(server) for u in requests), "the page fetched something from outside"
