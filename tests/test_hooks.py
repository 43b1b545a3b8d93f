"""The judge called from a generator's training loop, via a transformers TrainerCallback."""

import pytest
import torch

from tests.conftest import STYLE_A, invented_text
from whowrote import Judge
from whowrote.hooks import JudgeCallback, JudgeMonitor


@pytest.fixture(scope="module")
def judge(trained):
    return Judge.load(trained)


def test_monitor_logs_every_n_steps(judge):
    calls = []
    monitor = JudgeMonitor(judge, lambda model, step: calls.append(step) or [invented_text(STYLE_A, 30, step)], every=3)
    rows = [monitor(step) for step in range(1, 8)]
    assert calls == [3, 6] and [r is not None for r in rows] == [False, False, True, False, False, True, False]
    assert monitor.history[0]["judge/mean_p_alice"] > 0.5 and monitor.history[0]["judge/samples"] == 1
    with pytest.raises(ValueError):
        JudgeMonitor(judge, lambda m, s: [], label="bob")


def test_trainer_callback_logs_mean_probability(judge, tiny_model, tmp_path):
    from transformers import BertForSequenceClassification, Trainer, TrainingArguments

    model = BertForSequenceClassification.from_pretrained(tiny_model, num_labels=2)
    data = [{"input_ids": torch.tensor([2, 11, 12, 3]), "attention_mask": torch.ones(4, dtype=torch.long),
             "labels": torch.tensor(i % 2)} for i in range(16)]
    seen_models = []

    def generate(m, step):
        seen_models.append(m)
        return [invented_text(STYLE_A, 40, step)]

    cb = JudgeCallback(judge, generate, every=2, label="alice")
    args = TrainingArguments(output_dir=str(tmp_path), max_steps=4, per_device_train_batch_size=4, report_to=[],
                             use_cpu=True, logging_steps=100, save_strategy="no", disable_tqdm=True)
    trainer = Trainer(model=model, args=args, train_dataset=data, callbacks=[cb])
    trainer.train()
    assert [r["step"] for r in cb.history] == [2, 4]
    assert seen_models[0] is not None  # the generator gets the model being trained
    logged = [r for r in trainer.state.log_history if "judge/mean_p_alice" in r]
    assert [r["step"] for r in logged] == [2, 4]
    assert all(r["judge/mean_p_alice"] > 0.5 for r in logged)  # style-A samples look like 'alice'
