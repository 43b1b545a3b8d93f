"""Batch judging beyond one process: inputs cut into blocks, judged on Ray Data, written as
parts a rerun resumes (`whowrote judge --engine ray`)."""
