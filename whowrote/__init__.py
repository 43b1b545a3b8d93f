"""whowrote: fine-tune pretrained BERT encoders to tell who wrote a passage, and judge text.

    from whowrote import smooth, resolve, train
    run = train(resolve("cpu", data_dir="../shared/corpora"))
"""

from .config import Config, resolve
from .smooth import smooth

__version__ = "0.1.0"


def train(*args, **kwargs):
    """See whowrote.pipeline.train (imported lazily: torch is slow to import)."""
    from .pipeline import train as _train

    return _train(*args, **kwargs)


def __getattr__(name):
    if name in ("Judge", "Score"):
        from . import judge

        return getattr(judge, name)
    raise AttributeError(name)


__all__ = ["Config", "resolve", "smooth", "train", "Judge", "Score", "__version__"]
