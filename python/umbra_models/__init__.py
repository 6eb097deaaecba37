"""Umbra model side: small decoder-only transformers (GPT-2, OPT, LLaMA
styles), a byte-level BPE tokenizer, a corpus built from the Python standard
library, training, evaluation, activation statistics, ONNX export and the
test zoo of export styles (``zoo``); exported models are checked against
torch through the runtime's reference executor (``reference``).

Use Debian's /usr/bin/python3 (python3-torch 1.13, python3-onnx 1.12).
"""
from .config import ModelConfig, PRESETS, preset  # noqa: F401

__all__ = ["ModelConfig", "PRESETS", "preset"]
