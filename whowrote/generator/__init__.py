"""The generator study: a small GPT-2 trained here, judged while it learns (`whowrote generator-study`)."""
