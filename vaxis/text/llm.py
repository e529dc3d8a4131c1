"""Hidden states of language models: pooled per layer by forward hooks (the pass stops at the deepest layer
needed), batched, cached. Models and their loading are in :mod:`vaxis.text.models` (re-exported here).

**Pooling rule (fixed in advance, the same for every run and benchmark):** encoders average every token
(``mean``); causal LMs average every token but the first (``mean-no-first``). A plain mean fails on causal LMs
(position 0 carries activations hundreds of times larger than the rest, so it dominates the average), and the
last token is a poor summary of the nine anchor sentences: each of them ends in ``.``, so their last-token states
mostly encode the full stop (layer 0 is identical for all nine). The rule was fixed from those two facts and one
diagnostic run (issue #16: with ``last`` pooling smollm2 was at chance on IMDB and TweetEval); no run re-chooses it.

Layer 0 is the embedding output (``hidden_states[0]``); a model with ``n_layers`` blocks has ``n_layers + 1``
hidden-state layers.
"""

from __future__ import annotations

import hashlib
import os
from typing import Any

import numpy as np

from vaxis.runs.cache import cached_arrays
from vaxis.text.models import (
    ENCODER_TYPES,
    LINEUP_14,
    LINEUP_MODEL_TYPES,
    POOLINGS,
    REGISTRY,
    LoadedModel,
    ModelLoadError,
    load_model,
    prepare_tokenizer,
    resolve_device,
    tiny_model,
)

__all__ = ["REGISTRY", "LINEUP_14", "POOLINGS", "LoadedModel", "load_model", "extract", "tiny_model",
           "resolve_device", "auto_batch_size", "prepare_tokenizer", "LINEUP_MODEL_TYPES", "FORWARD_CALLS",
           "ModelLoadError"]

#: Number of batched forward passes run so far (cache hits add none); tests read it.
FORWARD_CALLS = 0


def _pool(h, mask, pooling: str):
    """h (L, B, T, H) or (B, T, H), mask (B, T) -> (L, B, H) or (B, H)."""
    if pooling == "last":
        last = mask.sum(1) - 1  # right padding: the last real token
        return h[..., range(h.shape[-3]), last, :]
    m = mask.clone()
    if pooling == "mean-no-first":
        m[:, 0] = 0
        m[m.sum(1) == 0, 0] = 1  # one-token texts keep their only token
    m = m.to(h.dtype)[..., :, :, None]
    return (h * m).sum(-2) / m.sum(-2)


class _StopForward(Exception):
    """Raised by a hook once the deepest hidden-state layer a call needs has been pooled."""


def _blocks(module: Any, n_layers: int):
    """The model's list of transformer blocks (the first ``ModuleList`` of length ``n_layers``), or None."""
    import torch

    for _, m in module.named_modules():
        if isinstance(m, torch.nn.ModuleList) and len(m) == n_layers:
            return m
    return None


def _forward_pooled(model: LoadedModel, enc: dict, want: list[int], pooling: str) -> dict:
    """Pooled float32 states ``{layer: (B, H)}`` for the hidden-state layers ``want`` (non-negative) of one batch.

    Each layer is pooled by a forward hook as soon as its block has run, so no more than one layer's token states
    are held at a time, and the pass stops after the deepest block that ``want`` needs. Hidden-state layer
    ``i`` is the input of block ``i`` (``i = 0``: the embeddings, as transformers defines ``hidden_states[0]``),
    i.e. the output of block ``i - 1``; the last layer is the model's ``last_hidden_state`` (after its final
    norm, as in ``hidden_states[-1]``). A model without a recognisable block list falls back to
    ``output_hidden_states`` and pools the wanted layers one at a time.
    """
    mask = enc["attention_mask"]
    n = model.n_layers
    out: dict[int, Any] = {}
    blocks = _blocks(model.module, n)
    if blocks is None:
        hs = model.module(**enc, output_hidden_states=True).hidden_states
        return {i: _pool(hs[i].float(), mask, pooling) for i in want}
    deepest = max(want)
    hooks = []

    def keep(i: int, h) -> None:
        out[i] = _pool(h.float(), mask, pooling)
        if i == deepest and i < n:
            raise _StopForward

    try:
        if 0 in want:
            hooks.append(blocks[0].register_forward_pre_hook(
                lambda mod, args, kwargs: keep(0, args[0] if args else kwargs["hidden_states"]), with_kwargs=True))
        for i in sorted(set(want) - {0, n}):
            hooks.append(blocks[i - 1].register_forward_hook(
                lambda mod, args, output, i=i: keep(i, output[0] if isinstance(output, tuple) else output)))
        try:
            res = model.module(**enc)
        except _StopForward:
            res = None
        if n in want:
            out[n] = _pool(res.last_hidden_state.float(), mask, pooling)
    finally:
        for h in hooks:
            h.remove()
    return out


#: The modules whose source determines cached hidden states (loading, pooling, hooks): an edit elsewhere in the
#: package keeps the (expensive) hidden-state entries valid; an edit here starts new ones.
HIDDEN_CODE = ("text/llm", "text/models", "runs/cache")
#: Texts per batch on the CPU. Texts are sorted by length, so small batches pad little: on 300 SST-2 + IMDB texts
#: (2 threads) 16 took 17-21 s where 32 took 19-26 s, for smollm2-135m and gemma3-270m alike (8 and 4: no faster).
CPU_BATCH_SIZE = 16
#: The largest batch on a GPU.
MAX_BATCH_SIZE = 256


def auto_batch_size(model: LoadedModel, max_tokens: int, free_bytes: int | None = None) -> int:
    """Texts per batch: :data:`CPU_BATCH_SIZE` on the CPU; on CUDA, what fits in half the free GPU memory.

    The estimate per text is ``max_tokens`` x (the largest activation of a block: ``4 x hidden`` for q/k/v/o plus
    the MLP's ``intermediate`` width, plus one attention score row per head) x the dtype's bytes, x 2 for the
    pooled float32 copy and temporaries. ``free_bytes`` overrides ``torch.cuda.mem_get_info`` (tests).
    """
    if not str(model.device).startswith("cuda") and free_bytes is None:
        return CPU_BATCH_SIZE
    if free_bytes is None:
        import torch

        free_bytes = torch.cuda.mem_get_info(torch.device(model.device))[0]
    cfg = getattr(getattr(model.module, "config", None), "text_config", None) or getattr(model.module, "config", None)
    inter = int(getattr(cfg, "intermediate_size", 4 * model.hidden_size) or 4 * model.hidden_size)
    heads = int(getattr(cfg, "num_attention_heads", 8) or 8)
    per_token = 4 * model.hidden_size + 2 * inter + heads * max_tokens
    nbytes = 2 if any(t in str(model.meta.get("dtype", "")) for t in ("16",)) else 4
    per_text = 2 * max_tokens * per_token * nbytes
    return int(np.clip(0.5 * free_bytes // max(per_text, 1), 1, MAX_BATCH_SIZE))


def _forward_batches(model: LoadedModel, texts: list[str], layers: list[int] | None, pooling: str,
                     batch_size: int | None, max_length: int, progress: bool) -> np.ndarray:
    import torch
    from tqdm import tqdm

    global FORWARD_CALLS
    model.materialize()
    tok = model.tokenizer
    n_hidden = model.n_layers + 1
    want = list(range(n_hidden)) if layers is None else [int(i) % n_hidden for i in layers]
    lengths = [len(ids) for ids in tok(texts, truncation=True, max_length=max_length)["input_ids"]]
    order = np.argsort(lengths, kind="stable")[::-1]  # longest first: memory peaks early, little padding
    bs = int(batch_size) if batch_size else auto_batch_size(model, min(max(lengths), max_length))
    out = np.empty((len(want), len(texts), model.hidden_size), dtype=np.float32)
    batches = range(0, len(texts), bs)
    for start in tqdm(batches, desc=f"hidden states {model.name}", disable=not progress or len(batches) < 4,
                      leave=False):
        idx = order[start : start + bs]
        enc = tok([texts[i] for i in idx], padding=True, truncation=True, max_length=max_length, return_tensors="pt")
        enc = {k: v.to(model.device) for k, v in enc.items() if k in ("input_ids", "attention_mask", "token_type_ids")}
        with torch.inference_mode():
            pooled = _forward_pooled(model, enc, sorted(set(want)), pooling)
        FORWARD_CALLS += 1
        for j, i in enumerate(want):
            out[j, idx] = pooled[i].cpu().numpy()
    return out


def extract(model: LoadedModel, texts: list[str], layers: list[int] | None = None, pooling: str | None = None,
            batch_size: int | None = None, max_length: int = 256, cache_dir: str | os.PathLike | None = None,
            use_cache: bool = True, progress: bool = True) -> np.ndarray:
    """Pooled hidden states of every text at every (or the given) layer.

    Texts are sorted by token length and batched; padding is masked out of the pooling; each layer is pooled as
    its block runs and the forward pass stops at the deepest layer asked for (see :func:`_forward_pooled`).
    Results are cached under a key of the model's fingerprint, layers, pooling, ``max_length``, the texts and the
    source of :data:`HIDDEN_CODE`.

    Parameters
    ----------
    texts : list of str, length n_texts
    layers : list of int, optional
        Hidden-state layers (0 = embeddings, negatives from the end); None = all ``n_layers + 1``.
    pooling : {"last", "mean", "mean-no-first"}, optional
        Default: the model's (``mean`` for encoders, ``mean-no-first`` for causal LMs).
    batch_size : int, optional
        Texts per forward pass; None: :func:`auto_batch_size` (16 on the CPU, from free memory on CUDA).
    max_length : int
        Tokens kept per text (the tokenizer truncates longer ones).

    Returns
    -------
    ndarray, shape (n_layers + 1 or len(layers), n_texts, hidden_size), float32
    """
    pooling = pooling or model.default_pooling
    if pooling not in POOLINGS:
        raise ValueError(f"pooling must be one of {POOLINGS}, got {pooling!r}")
    if isinstance(texts, (str, bytes)):
        raise TypeError(f"texts must be a list of strings, got a single {type(texts).__name__} {texts[:40]!r}")
    texts = [str(t) for t in texts]
    if not texts:
        raise ValueError("extract() needs at least one text")
    if batch_size is not None and int(batch_size) < 1:
        raise ValueError(f"batch_size must be >= 1, got {batch_size!r}")
    n_hidden = model.n_layers + 1
    if layers is not None and len(layers) == 0:
        raise ValueError("layers must be None (all) or a non-empty list of layer indices")
    bad = [lay for lay in (layers or []) if not -n_hidden <= int(lay) < n_hidden]
    if bad:
        raise ValueError(f"layers {bad} out of range for {model.name!r}: it has {n_hidden} hidden-state layers "
                         f"(0..{n_hidden - 1}, or negatives from the end)")
    th = hashlib.sha256("\x1f".join(texts).encode()).hexdigest()
    key_layers = None if layers is None else [int(i) % n_hidden for i in layers]
    parts = {"model": model.fingerprint, "name": model.name, "layers": key_layers, "pooling": pooling,
             "max_length": max_length, "texts": th, "n": len(texts), "dtype": model.meta.get("dtype")}
    arrays = cached_arrays(
        "hidden", parts,
        lambda: {"h": _forward_batches(model, texts, layers, pooling, batch_size, max_length, progress)},
        cache_dir=cache_dir, use_cache=use_cache, code=HIDDEN_CODE,
    )
    return arrays["h"]

__all__ += ["ENCODER_TYPES"]
