"""The judge called from a generator's training loop, via a transformers TrainerCallback."""

import pytest
import torch

from tests.conftest import STYLE_A, invented_text
from whowrote import Judge
from whowrote.judge.hooks import JudgeCallback, JudgeMonitor


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
    from transformers import BertForSequenceClassification, Trainer, TrainerCallback, TrainingArguments

    model = BertForSequenceClassification.from_pretrained(tiny_model, num_labels=2)
    data = [{"input_ids": torch.tensor([2, 11, 12, 3]), "attention_mask": torch.ones(4, dtype=torch.long),
             "labels": torch.tensor(i % 2)} for i in range(16)]
    seen_models = []

    def generate(m, step):
        seen_models.append(m)
        return [invented_text(STYLE_A, 40, step)]

    class Logger(TrainerCallback):  # stands for TensorBoard, W&B, ...: sees what on_log is given
        seen: list = []

        def on_log(self, args, state, control, logs=None, **kwargs):
            self.seen.append(dict(logs))

    args = TrainingArguments(output_dir=str(tmp_path), max_steps=4, per_device_train_batch_size=4, report_to=[],
                             use_cpu=True, logging_steps=100, save_strategy="no", disable_tqdm=True)
    logger = Logger()
    trainer = Trainer(model=model, args=args, train_dataset=data, callbacks=[logger])
    cb = JudgeCallback.attach(trainer, judge, generate, every=2, label="alice")
    trainer.train()
    assert [r["step"] for r in cb.history] == [2, 4]
    assert seen_models[0] is not None  # the generator gets the model being trained
    logged = [r for r in trainer.state.log_history if "judge/mean_p_alice" in r]
    assert [r["step"] for r in logged] == [2, 4]
    assert all(r["judge/mean_p_alice"] > 0.5 for r in logged)  # style-A samples look like 'alice'
    seen = [r for r in logger.seen if "judge/mean_p_alice" in r]
    assert [r["judge/mean_p_alice"] for r in seen] == [r["judge/mean_p_alice"] for r in logged]


def test_trainer_callback_without_its_trainer_fails_before_training(judge, tiny_model, tmp_path):
    from transformers import BertForSequenceClassification, Trainer, TrainingArguments

    model = BertForSequenceClassification.from_pretrained(tiny_model, num_labels=2)
    args = TrainingArguments(output_dir=str(tmp_path), max_steps=1, report_to=[], use_cpu=True, save_strategy="no")
    data = [{"input_ids": torch.tensor([2, 11, 3]), "attention_mask": torch.ones(3, dtype=torch.long), "labels": torch.tensor(0)}]
    trainer = Trainer(model=model, args=args, train_dataset=data, callbacks=[JudgeCallback(judge, lambda m, s: ["x"])])
    with pytest.raises(ValueError, match="attach"):
        trainer.train()
