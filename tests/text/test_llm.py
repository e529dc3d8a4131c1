import numpy as np
import pytest

from vaxis.runs import cache
from vaxis.text import llm, models

TEXTS = ["a short one.", "a somewhat longer sentence with more words in it.", "mid length text here",
         "x", "the final sentence of this small test set is long enough to need padding."]


@pytest.mark.parametrize("kind", ["encoder", "causal"])
@pytest.mark.parametrize("pooling", ["last", "mean", "mean-no-first"])
def test_batched_equals_unbatched(kind, pooling, tmp_path):
    m = llm.tiny_model(kind)
    one = np.concatenate([llm.extract(m, [t], pooling=pooling, use_cache=False, progress=False)
                          for t in TEXTS], axis=1)
    batched = llm.extract(m, TEXTS, pooling=pooling, batch_size=3, use_cache=False, progress=False)
    assert batched.shape == (m.n_layers + 1, len(TEXTS), m.hidden_size)
    np.testing.assert_allclose(batched, one, atol=1e-5)


def test_pooling_by_hand():
    import torch

    h = torch.arange(2 * 1 * 3 * 2, dtype=torch.float32).reshape(2, 1, 3, 2)  # (L, B, T, H)
    mask = torch.tensor([[1, 1, 0]])
    np.testing.assert_allclose(llm._pool(h, mask, "last")[0, 0].numpy(), h[0, 0, 1].numpy())
    np.testing.assert_allclose(llm._pool(h, mask, "mean")[0, 0].numpy(), h[0, 0, :2].mean(0).numpy())
    np.testing.assert_allclose(llm._pool(h, mask, "mean-no-first")[0, 0].numpy(), h[0, 0, 1].numpy())


def test_cache_hit_miss_and_corruption(tmp_path):
    m = llm.tiny_model("encoder")
    before = llm.FORWARD_CALLS
    first = llm.extract(m, TEXTS, cache_dir=tmp_path, batch_size=2, progress=False)
    calls = llm.FORWARD_CALLS - before
    assert calls == 3
    again = llm.extract(m, TEXTS, cache_dir=tmp_path, batch_size=2, progress=False)
    assert llm.FORWARD_CALLS - before == calls  # hit: zero forward passes
    np.testing.assert_array_equal(first, again)
    llm.extract(m, TEXTS[:2], cache_dir=tmp_path, progress=False)  # other texts: a miss
    assert llm.FORWARD_CALLS - before == calls + 1
    for npz in (tmp_path / "hidden").glob("*.npz"):  # corrupt every entry: recomputed, same values
        data = bytearray(npz.read_bytes())
        data[-20] ^= 0xFF
        npz.write_bytes(bytes(data))
    healed = llm.extract(m, TEXTS, cache_dir=tmp_path, batch_size=2, progress=False)
    assert llm.FORWARD_CALLS - before == calls + 1 + 3
    np.testing.assert_allclose(healed, first, atol=1e-6)


def test_random_weights_deterministic():
    a = llm.extract(llm.tiny_model("causal", seed=3), TEXTS, use_cache=False, progress=False)
    b = llm.extract(llm.tiny_model("causal", seed=3), TEXTS, use_cache=False, progress=False)
    c = llm.extract(llm.tiny_model("causal", seed=4), TEXTS, use_cache=False, progress=False)
    np.testing.assert_array_equal(a, b)
    assert not np.allclose(a, c)


def test_errors_are_clear():
    with pytest.raises(ValueError, match="not-a-model/xyz.*HF_HUB_OFFLINE"):
        llm.load_model("not-a-model/xyz")
    with pytest.raises(ValueError, match="pooling"):
        llm.extract(llm.tiny_model(), TEXTS, pooling="max")
    with pytest.raises(ValueError, match="at least one"):
        llm.extract(llm.tiny_model(), [])


def test_gpu_requested_without_one():
    import torch

    if torch.cuda.is_available():
        pytest.skip("a GPU is present")
    with pytest.raises(RuntimeError, match="CUDA"):
        llm.resolve_device("cuda")


def test_minilm_offline_loads_real_weights():
    m = llm.load_model("minilm", device="cpu")
    assert m.kind == "encoder" and m.n_layers == 6 and m.hidden_size == 384
    h = llm.extract(m, ["I love this.", "I hate this."], progress=False, use_cache=False)
    assert h.shape == (7, 2, 384) and np.isfinite(h).all()
    assert cache.hash_key({"fp": m.fingerprint}) != cache.hash_key({"fp": m.fingerprint + "x"})


@pytest.mark.slow
@pytest.mark.parametrize("name", ["smollm2-135m", "gemma3-270m"])
def test_gguf_models_convert_and_load(name):
    m = llm.load_model(name, device="cpu")
    assert m.kind == "causal"
    h = llm.extract(m, ["I love this.", "I hate this."], progress=False, use_cache=False)
    assert np.isfinite(h).all() and not np.allclose(h[-1, 0], h[-1, 1])


def test_lineup_14_is_a_sized_multi_family_config():
    assert len(llm.LINEUP_14) == 14 and all(0 < b < 100 for b in llm.LINEUP_14.values())
    families = {hub_id.split("/")[0] for hub_id in llm.LINEUP_14}
    assert {"meta-llama", "Qwen", "mistralai", "google", "microsoft", "allenai"} <= families
    m = llm.tiny_model()
    assert m.model is m.module


def test_split_gguf_reassembly_is_verified_and_atomic(tmp_path):
    import hashlib
    import types

    parts = [tmp_path / f"p{i}" for i in range(3)]
    for i, p in enumerate(parts):
        p.write_bytes((b"GGUF" if i == 0 else b"") + bytes([i]) * (1000 + i))
    whole = b"".join(p.read_bytes() for p in parts)
    fake = types.SimpleNamespace(verify_chunks=lambda: None, chunk_paths=lambda: parts)
    target = tmp_path / "out" / "model.gguf"
    target.parent.mkdir()
    with pytest.raises(ValueError, match="sha256"):
        models._assemble_parts(fake, target, "0" * 64)
    assert not target.exists() and not list(target.parent.iterdir())  # nothing half-written left behind
    models._assemble_parts(fake, target, hashlib.sha256(whole).hexdigest())
    assert target.read_bytes() == whole


def test_extract_stops_at_the_deepest_layer_and_never_stacks_all_layers():
    m = llm.tiny_model("causal", n_layers=4)
    calls = []
    for i, block in enumerate(llm._blocks(m.module, 4)):
        block.register_forward_hook(lambda mod, a, o, i=i: calls.append(i))
    seen = {}
    orig = m.module.forward

    def spy(*args, **kwargs):
        seen["output_hidden_states"] = kwargs.get("output_hidden_states")
        return orig(*args, **kwargs)

    m.module.forward = spy
    full = llm.extract(m, TEXTS, use_cache=False, progress=False, batch_size=8)
    assert calls == [0, 1, 2, 3] and not seen["output_hidden_states"]  # pooled by hooks, no stacked tuple
    calls.clear()
    two = llm.extract(m, TEXTS, layers=[2, 0], use_cache=False, progress=False, batch_size=8)
    assert calls == [0, 1]  # layer 2 is block 1's output: blocks 2 and 3 never run
    np.testing.assert_allclose(two, full[[2, 0]], atol=1e-6)
    calls.clear()
    last = llm.extract(m, TEXTS, layers=[-1], use_cache=False, progress=False, batch_size=8)
    assert calls == [0, 1, 2, 3]
    np.testing.assert_allclose(last[0], full[4], atol=1e-6)


def test_layer_subsets_share_no_cache_entry_but_agree(tmp_path):
    m = llm.tiny_model("encoder", n_layers=3)
    full = llm.extract(m, TEXTS, cache_dir=tmp_path, progress=False)
    before = llm.FORWARD_CALLS
    sub = llm.extract(m, TEXTS, layers=[-2], cache_dir=tmp_path, progress=False)
    again = llm.extract(m, TEXTS, layers=[2], cache_dir=tmp_path, progress=False)  # -2 == 2: one cache key
    assert llm.FORWARD_CALLS - before == 1
    np.testing.assert_allclose(sub[0], full[2], atol=1e-6)
    np.testing.assert_array_equal(sub, again)
    with pytest.raises(ValueError, match="non-empty"):
        llm.extract(m, TEXTS, layers=[])


def test_auto_batch_size_cpu_default_and_gpu_memory_rule():
    m = llm.tiny_model("causal", hidden_size=32)
    assert llm.auto_batch_size(m, 128) == llm.CPU_BATCH_SIZE
    # on CUDA: half the free memory over 2 x tokens x (4 hidden + 2 intermediate + heads x tokens) x 4 bytes
    per_text = 2 * 128 * (4 * 32 + 2 * 64 + 2 * 128) * 4
    assert llm.auto_batch_size(m, 128, free_bytes=40 * per_text) == 20
    assert llm.auto_batch_size(m, 128, free_bytes=10**15) == llm.MAX_BATCH_SIZE
    assert llm.auto_batch_size(m, 128, free_bytes=1) == 1


def test_lazy_model_loads_weights_only_on_a_cache_miss(tmp_path):
    lazy = llm.load_model("minilm", device="cpu", lazy=True)
    assert lazy.module is None and lazy.n_layers == 6 and lazy.default_pooling == "mean"
    eager = llm.load_model("minilm", device="cpu")
    assert lazy.fingerprint == eager.fingerprint
    h = llm.extract(eager, TEXTS[:2], cache_dir=tmp_path, progress=False)
    np.testing.assert_array_equal(llm.extract(lazy, TEXTS[:2], cache_dir=tmp_path, progress=False), h)
    assert lazy.module is None  # a hit: nothing loaded
    llm.extract(lazy, TEXTS[2:], cache_dir=tmp_path, progress=False)
    assert lazy.module is not None and lazy.tokenizer.padding_side == "right"


def test_prepare_tokenizer_without_pad_eos_or_unk():
    class Tok:
        pad_token = eos_token = unk_token = None
        padding_side = "left"

        def convert_ids_to_tokens(self, i):
            return f"tok{i}"

    t = llm.prepare_tokenizer(Tok())
    assert t.pad_token == "tok0" and t.padding_side == "right"


def test_default_dtype_follows_the_registry():
    """bfloat16 on CUDA; on the CPU float32 unless the registry entry names a cpu_dtype (the 0.5B Qwen model)."""
    assert models.default_dtype("minilm", "cpu") == "float32"
    assert models.default_dtype("qwen2.5-coder-0.5b", "cpu") == "bfloat16"
    assert models.default_dtype("minilm", "cuda:0") == "bfloat16"
    assert models.default_dtype("someone/a-hub-model", "cpu") == "float32"
