"""What the judge is built from: the model folder behind a run or model path, its classifier,
tokenizer, calibration and partner (`model_parts`), and the int8 copy for `precision="int8"`.

    python -c "from whowrote.judge.loading import model_folder; print(model_folder('docs/run'))"
"""

from __future__ import annotations

from pathlib import Path

import torch

from ..errors import WhowroteError
from ..layout import RunFiles, is_model_dir, model_meta_path, read_model_meta
from ..model.coherence import CoherenceReader
from ..model.openset import OpenSet
from ..model.partner import CharPartner
from ..text.normalise import Spec


def model_folder(path: str | Path) -> Path:
    """The classifier folder behind `path`: RUN/model for a run folder, else `path` itself."""
    path = Path(path)
    if not path.exists():
        raise WhowroteError(f"model folder not found: {path}")
    run = RunFiles(path)
    if is_model_dir(run.model):
        return run.model
    if run.metrics.is_file():
        raise WhowroteError(f"run folder {path} has no trained model yet (model/ is missing): "
                            f"finish it with: whowrote train --resume {path}")
    return path


def model_parts(path: str | Path) -> dict:
    """`Judge`'s arguments from a run or model folder: the classifier and what calibration fitted
    (the char partner and the coherence reader where it fitted them)."""
    from ..model.bert import load_classifier

    folder = model_folder(path)
    model, tokenizer = load_classifier(folder)
    meta = read_model_meta(folder)
    spec = Spec.from_dict(meta.get("normalise"))
    if spec.spelling:  # the index takes seconds to build: now, not in a server's first request
        from ..text.spelling import speller

        speller()
    try:  # a hand-edited file: one line naming it, not a traceback at the first text judged
        settings = {"seq_len": int(meta.get("seq_len") or min(getattr(tokenizer, "model_max_length", 512), 512)),
                    "temperature": float(meta.get("temperature", 1.0)), "open_set": OpenSet.from_dict(meta.get("open_set"))}
    except (TypeError, ValueError) as exc:
        raise WhowroteError(f"{model_meta_path(folder)} is damaged ({exc}); refit it with: whowrote evaluate RUN") from None
    return {"model": model, "tokenizer": tokenizer, "labels": [model.config.id2label[i] for i in range(model.config.num_labels)],
            **settings, "label_offsets": meta.get("label_offsets"), "normalise": spec,
            "length_temperatures": meta.get("length_temperatures"), "partner": CharPartner.load(folder, meta.get("partner")),
            "coherence": CoherenceReader.load(folder, meta.get("coherence"))}


def int8_copy(model, device: torch.device):
    """A copy of `model` with int8 dynamic quantisation of its linear layers (weights int8,
    activations quantised per batch) for scoring; the fp32 model stays for --explain, whose
    gradients the quantised layers do not have."""
    import copy
    import warnings

    if device.type != "cpu":
        raise WhowroteError("precision int8 runs on the CPU only (torch dynamic quantisation)")
    with warnings.catch_warnings():  # torch.ao.quantization is deprecated in favour of torchao
        warnings.simplefilter("ignore")
        from torch.ao.quantization import quantize_dynamic

        return quantize_dynamic(copy.deepcopy(model), {torch.nn.Linear}, dtype=torch.qint8)
