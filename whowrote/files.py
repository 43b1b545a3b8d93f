"""Writing files safely, in one place: atomic writes (text, JSON, figures), the cache root,
and matplotlib's off-screen backend.

Every file whowrote rewrites (reports, model card, metrics on resume, README tables, cached
downloads) goes through `atomic_write`: a temporary file beside the target, flushed to
disk, then renamed over it, so a crash leaves the old file or the new one, never half.

    python -c "from whowrote.files import atomic_write; atomic_write('/tmp/x.txt', 'hello')"
"""

from __future__ import annotations

import io
import json
import os
import tempfile
from pathlib import Path


def atomic_write(path: str | Path, content: str | bytes) -> None:
    path = Path(path)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as fh:
            fh.write(content.encode("utf-8") if isinstance(content, str) else content)
            fh.flush()
            os.fsync(fh.fileno())
        os.chmod(tmp, 0o644)  # mkstemp makes 0600; these files are meant to be shared
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def write_json(path: str | Path, data: dict) -> None:
    atomic_write(path, json.dumps(data, indent=2) + "\n")


def pyplot():
    """matplotlib.pyplot on the off-screen Agg backend (no display on servers and in CI)."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    return plt


def save_figure(fig, path: str | Path) -> None:
    """A matplotlib figure, written atomically (format from the suffix)."""
    buf = io.BytesIO()
    fig.savefig(buf, format=Path(path).suffix.lstrip("."))
    atomic_write(path, buf.getvalue())


def readme_section(readme: str | Path, name: str) -> str:
    """The README's text, if it has `<!-- name:start -->` and `<!-- name:end -->` markers
    (check before hours of work, not after); a clear error otherwise."""
    from .errors import WhowroteError

    try:
        text = Path(readme).read_text()
    except OSError as exc:
        raise WhowroteError(f"--readme {readme}: {exc.strerror}") from None
    if f"<!-- {name}:start -->" not in text or f"<!-- {name}:end -->" not in text:
        raise WhowroteError(f"{readme} has no <!-- {name}:start --> ... <!-- {name}:end --> markers")
    return text


def update_readme_section(readme: str | Path, name: str, body: str) -> None:
    """Replace what lies between the README's `name` markers by `body`, atomically."""
    text = readme_section(readme, name)
    start, end = f"<!-- {name}:start -->", f"<!-- {name}:end -->"
    head, rest = text.split(start, 1)
    atomic_write(readme, f"{head}{start}\n{body.strip()}\n{end}{rest.split(end, 1)[1]}")


def cache_root() -> Path:
    """$WHOWROTE_CACHE, default ~/.cache/whowrote: downloaded books, token ids."""
    return Path(os.environ.get("WHOWROTE_CACHE", Path.home() / ".cache" / "whowrote"))
