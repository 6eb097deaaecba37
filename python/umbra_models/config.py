"""Model configuration (dataclass, JSON round trip) and named presets."""
from __future__ import annotations

import dataclasses
import json
from dataclasses import dataclass, field
from typing import Optional

FAMILIES = ("gpt2", "opt", "llama")


@dataclass
class ModelConfig:
    """Decoder-only transformer configuration.

    family:
      * ``gpt2``  -- pre-LayerNorm, GeLU (exact, erf) FFN, learned positions.
      * ``opt``   -- pre-LayerNorm, ReLU FFN, learned positions.
      * ``llama`` -- pre-RMSNorm, SiLU-gated FFN (SwiGLU), rotary embeddings,
                     no biases.
    """

    family: str = "gpt2"
    vocab_size: int = 256
    n_layer: int = 2
    n_head: int = 2
    d_model: int = 64
    d_ff: int = 256
    max_seq: int = 128
    tie_embeddings: bool = True
    norm_eps: float = 1e-5
    bias: Optional[bool] = None  # default: True for gpt2/opt, False for llama
    rope_theta: float = 10000.0
    mask_value: float = -1e4  # added (via where) to masked attention scores
    name: str = ""

    def __post_init__(self):
        if self.family not in FAMILIES:
            raise ValueError(f"unknown family {self.family!r}; one of {FAMILIES}")
        if self.d_model % self.n_head:
            raise ValueError("d_model must be divisible by n_head")
        if self.bias is None:
            self.bias = self.family != "llama"
        if self.family == "llama" and (self.d_model // self.n_head) % 2:
            raise ValueError("rotary embeddings need an even head dimension")

    @property
    def head_dim(self) -> int:
        return self.d_model // self.n_head

    def to_dict(self) -> dict:
        return dataclasses.asdict(self)

    def to_json(self, path=None) -> str:
        s = json.dumps(self.to_dict(), indent=2, sort_keys=True) + "\n"
        if path is not None:
            with open(path, "w") as f:
                f.write(s)
        return s

    @classmethod
    def from_dict(cls, d: dict) -> "ModelConfig":
        names = {f.name for f in dataclasses.fields(cls)}
        unknown = set(d) - names
        if unknown:
            raise ValueError(f"unknown config keys: {sorted(unknown)}")
        return cls(**d)

    @classmethod
    def from_json(cls, path) -> "ModelConfig":
        with open(path) as f:
            return cls.from_dict(json.load(f))

    def replace(self, **kw) -> "ModelConfig":
        return dataclasses.replace(self, **kw)


def _p(**kw):
    return kw


# Sizes: "tiny" for unit tests, "small" for the trained fixtures (4 layers,
# d=256), "gpt2-small" is the GPT-2 124M shape (random weights only: for
# export and benchmarks).
PRESETS = {
    "gpt2-tiny": _p(family="gpt2", n_layer=2, n_head=2, d_model=64, d_ff=256, max_seq=64),
    "opt-tiny": _p(family="opt", n_layer=2, n_head=2, d_model=64, d_ff=256, max_seq=64),
    "llama-tiny": _p(family="llama", n_layer=2, n_head=2, d_model=64, d_ff=172, max_seq=64),
    "gpt2-l4-d256": _p(family="gpt2", n_layer=4, n_head=4, d_model=256, d_ff=1024, max_seq=256),
    "opt-l4-d256": _p(family="opt", n_layer=4, n_head=4, d_model=256, d_ff=1024, max_seq=256),
    "llama-l4-d256": _p(family="llama", n_layer=4, n_head=4, d_model=256, d_ff=688, max_seq=256),
    "gpt2-small": _p(family="gpt2", n_layer=12, n_head=12, d_model=768, d_ff=3072,
                     max_seq=1024, vocab_size=50257),
    "opt-small": _p(family="opt", n_layer=12, n_head=12, d_model=768, d_ff=3072,
                    max_seq=1024, vocab_size=50272),
    "llama-small": _p(family="llama", n_layer=12, n_head=12, d_model=768, d_ff=2048,
                      max_seq=1024, vocab_size=32000, tie_embeddings=False),
}


def preset(name: str, **overrides) -> ModelConfig:
    if name not in PRESETS:
        raise KeyError(f"unknown preset {name!r}; one of {sorted(PRESETS)}")
    kw = dict(PRESETS[name])
    kw.setdefault("name", name)
    kw.update({k: v for k, v in overrides.items() if v is not None})
    return ModelConfig(**kw)
