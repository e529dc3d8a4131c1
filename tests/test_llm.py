import numpy as np
import pytest

from vaxis import cache, llm

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
        p.write_bytes(bytes([i]) * (1000 + i))
    whole = b"".join(p.read_bytes() for p in parts)
    fake = types.SimpleNamespace(verify_chunks=lambda: None, chunk_paths=lambda: parts)
    target = tmp_path / "out" / "model.gguf"
    target.parent.mkdir()
    with pytest.raises(ValueError, match="sha256"):
        llm._assemble_parts(fake, target, "0" * 64)
    assert not target.exists() and not list(target.parent.iterdir())  # nothing half-written left behind
    llm._assemble_parts(fake, target, hashlib.sha256(whole).hexdigest())
    assert target.read_bytes() == whole
