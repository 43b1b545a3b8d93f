"""The generator study: a small GPT-2 trained here, judged while it learns (`whowrote generator-study`)."""

# How the study's generator writes: nucleus sampling at this temperature (see docs/decisions.md).
SAMPLING = {"temperature": 0.8, "top_p": 0.9}
