"""Zero-shot V-axis scoring of sentiment benchmarks (chapter 2) and shared-text positions (chapter 3).

The V-axis of a model is fitted on the nine sentences only (:mod:`vaxis.axis`, its layer and pooling rule);
benchmark texts are projected onto it. Nothing is fitted or tuned on a benchmark: AUROC is threshold-free and
accuracy uses the neutral sentence's own position as the threshold.

Hidden states are extracted once per model and text set with all layers (``llm.extract(..., layers=None)``,
cached), so layer curves, random-direction controls and the chapter-3 probe set cost no extra forward pass.
"""

from __future__ import annotations

import os
import time

import numpy as np
import pandas as pd

from vaxis import benchmarks as B

__all__ = [
    "nine_sentences", "n_texts_for", "load_runs", "text_sets", "extract_sets", "fit_axis", "project",
    "score_benchmarks", "layer_curves", "lexicon_table", "claim2_verdict", "claim3_verdict",
]


def nine_sentences() -> tuple[list[str], np.ndarray, list[str]]:
    """The nine stimulus sentences: ``(texts, signs (9,), categories)`` from :mod:`vaxis.sentences`."""
    from vaxis.sentences import SENTENCES

    df = SENTENCES if isinstance(SENTENCES, pd.DataFrame) else pd.DataFrame(list(SENTENCES))
    if "sentence" not in df.columns and df.shape[1] == 3:  # plain (category, sentence, sign) tuples
        df.columns = ["category", "sentence", "sign"]
    return df["sentence"].tolist(), df["sign"].to_numpy().astype(int), df["category"].tolist()


def n_texts_for(causal: bool, quick: bool, n_texts: dict | None = None) -> int | None:
    """Texts per benchmark: :data:`QUICK_N_TEXTS` in quick mode, else ``n_texts`` (``{"encoder": ..., "causal":
    ...}``, ``None`` = every row) by model family, falling back to :data:`DEFAULT_N_TEXTS`."""
    if quick:
        return B.QUICK_N_TEXTS
    family = "causal" if causal else "encoder"
    return {**B.DEFAULT_N_TEXTS, **(n_texts or {})}[family]


def text_sets(
    names: list[str], n_texts: int | None, seed: int = 0, data_dir: str | os.PathLike | None = None
) -> dict[str, pd.DataFrame]:
    """``{benchmark: evaluation_set(...)}``; all sets for a seed are nested prefixes of one order."""
    return {n: B.evaluation_set(n, n_texts=n_texts, seed=seed, data_dir=data_dir) for n in names}


def extract_sets(
    model, sets: dict[str, pd.DataFrame], pooling: str, batch_size: int = 32,
    cache_dir: str | os.PathLike | None = None,
) -> dict[str, np.ndarray]:
    """All-layer hidden states of every text set: ``{name: ndarray (n_layers, n_texts, hidden)}`` (cached)."""
    from vaxis.llm import extract

    return {k: extract(model, df["text"].tolist(), layers=None, pooling=pooling, batch_size=batch_size,
                       cache_dir=cache_dir) for k, df in sets.items()}


def fit_axis(anchor_hidden: np.ndarray, signs: np.ndarray, layer: int, method: str = "mean-diff"):
    """A :class:`vaxis.axis.VAxis` fitted on the nine sentences at ``layer``.

    Parameters
    ----------
    anchor_hidden : ndarray, shape (n_layers, 9, hidden)
    signs : ndarray, shape (9,)
    """
    from vaxis.axis import VAxis

    return VAxis(method=method, layer=layer).fit(anchor_hidden, signs)


def project(axis, hidden: np.ndarray) -> np.ndarray:
    """Positions of texts on a fitted axis; ``hidden`` (n_layers, n_texts, hidden) -> (n_texts,)."""
    return np.asarray(axis.transform(hidden), dtype=float).reshape(-1)


def score_benchmarks(
    hidden: dict[str, np.ndarray], sets: dict[str, pd.DataFrame], anchor_hidden: np.ndarray, signs: np.ndarray,
    layer: int, n_boot: int = 1000, seed: int = 0, n_random: int = 100,
) -> tuple[pd.DataFrame, dict[str, np.ndarray]]:
    """Score each benchmark on the V-axis fitted at ``layer``.

    Parameters
    ----------
    hidden : dict of ndarray, each shape (n_layers, n_texts, hidden)
    sets : dict of DataFrame (``label`` in {-1, 0, 1}; ``fine_label`` for graded benchmarks)
    anchor_hidden : ndarray, shape (n_layers, 9, hidden)
    signs : ndarray, shape (9,)

    Returns
    -------
    table : DataFrame
        One row per benchmark: ``n`` (binary rows), ``auroc``/``accuracy``/``spearman`` with ``_lo``/``_hi`` CIs,
        ``n_graded``, ``threshold``, and the random-direction AUROC median and 2.5 / 97.5 % quantiles.
    random_aurocs : dict of ndarray, each shape (n_random,)
    """
    axis = fit_axis(anchor_hidden, signs, layer)
    anchor_pos = project(axis, anchor_hidden)
    thr = float(anchor_pos[np.flatnonzero(np.asarray(signs) == 0)[0]])
    rows, rand = [], {}
    for name, df in sets.items():
        pos = project(axis, hidden[name])
        y = df["label"].to_numpy()
        b = y >= 0
        row = {"benchmark": name, "layer": layer, "threshold": thr}
        for metric in ("auroc", "accuracy"):
            r = B.metric_with_ci(metric, pos[b], y[b], threshold=thr, n_boot=n_boot, seed=seed)
            row.update({metric: r["value"], f"{metric}_lo": r["ci_low"], f"{metric}_hi": r["ci_high"], "n": r["n"]})
        if B.BENCHMARKS.get(name) is not None and B.BENCHMARKS[name].graded:
            r = B.metric_with_ci("spearman", pos, df["fine_label"].to_numpy(), n_boot=n_boot, seed=seed)
            row.update(spearman=r["value"], spearman_lo=r["ci_low"], spearman_hi=r["ci_high"], n_graded=r["n"])
        L = hidden[name].shape[0]
        li = layer % L
        rand[name] = B.random_direction_aurocs(hidden[name][li][b], y[b], anchor_hidden[li], signs, n_random, seed)
        row.update(random_dir_median=float(np.median(rand[name])), random_dir_lo=float(np.quantile(rand[name], 0.025)),
                   random_dir_hi=float(np.quantile(rand[name], 0.975)))
        rows.append(row)
    return pd.DataFrame(rows), rand


def layer_curves(
    hidden: dict[str, np.ndarray], sets: dict[str, pd.DataFrame], anchor_hidden: np.ndarray, signs: np.ndarray
) -> pd.DataFrame:
    """AUROC per layer and benchmark (diagnosis only: the reported layer is fixed by the nine-sentence rule).

    Returns
    -------
    DataFrame with columns ``benchmark``, ``layer``, ``auroc``; one row per (benchmark, layer).
    """
    n_layers = anchor_hidden.shape[0]
    rows = []
    for layer in range(n_layers):
        try:
            axis = fit_axis(anchor_hidden, signs, layer)
        except ValueError:  # degenerate layer (e.g. layer 0 with last-token pooling: every sentence ends in ".")
            axis = None
        for name, df in sets.items():
            y = df["label"].to_numpy()
            b = y >= 0
            auc = np.nan if axis is None else B.auroc(project(axis, hidden[name])[b], y[b])
            rows.append({"benchmark": name, "layer": layer, "auroc": auc})
    return pd.DataFrame(rows)


def lexicon_table(sets: dict[str, pd.DataFrame], n_boot: int = 1000, seed: int = 0) -> pd.DataFrame:
    """VADER and AFINN on the same text sets (threshold 0: ``score > 0`` = positive), with CIs."""
    rows = []
    for name, df in sets.items():
        y = df["label"].to_numpy()
        b = y >= 0
        for lex in ("vader", "afinn"):
            s = B.lexicon_scores(df["text"].tolist(), lex)
            row = {"model": lex, "benchmark": name}
            for metric in ("auroc", "accuracy"):
                r = B.metric_with_ci(metric, s[b], y[b], threshold=0.0, n_boot=n_boot, seed=seed)
                row.update({metric: r["value"], f"{metric}_lo": r["ci_low"], f"{metric}_hi": r["ci_high"], "n": r["n"]})
            if B.BENCHMARKS.get(name) is not None and B.BENCHMARKS[name].graded:
                r = B.metric_with_ci("spearman", s, df["fine_label"].to_numpy(), n_boot=n_boot, seed=seed)
                row.update(spearman=r["value"], spearman_lo=r["ci_low"], spearman_hi=r["ci_high"], n_graded=r["n"])
            rows.append(row)
    return pd.DataFrame(rows)


CLAIM2_RULE = ("a model beats the controls on a benchmark when its AUROC CI low exceeds both the random-weight "
               "model's AUROC CI high and the 97.5% quantile of 100 random directions; 'replicates' = every "
               "pretrained model beats the controls on a majority of benchmarks; 'partly' = at least one model "
               "does; else 'does not replicate'")


def claim2_verdict(table: pd.DataFrame, real: list[str], control: str | None) -> tuple[str, pd.DataFrame]:
    """Apply :data:`CLAIM2_RULE` to a table with columns model, benchmark, auroc_lo, random_dir_hi.

    Returns the verdict and a per-model summary (``n_beaten``, ``n_benchmarks``, ``majority``).
    """
    ctrl = (table[table.model == control].set_index("benchmark")["auroc_hi"] if control is not None
            else pd.Series(dtype=float))
    rows = []
    for m in real:
        t = table[table.model == m].set_index("benchmark")
        floor = np.maximum(t["random_dir_hi"], ctrl.reindex(t.index).fillna(-np.inf))
        beaten = int((t["auroc_lo"] > floor).sum())
        rows.append({"model": m, "n_beaten": beaten, "n_benchmarks": len(t), "majority": beaten > len(t) / 2})
    s = pd.DataFrame(rows)
    if s.empty:
        return "not run", s
    verdict = "replicates" if s.majority.all() else ("partly" if s.majority.any() else "does not replicate")
    return verdict, s


CLAIM3_RULE = ("'replicates' = at least 3 pretrained models load and every pair of them agrees on the probe set "
               "with a Spearman CI low above the random-weight floor's largest |CI bound|; 'partly' = the mean "
               "pairwise CI low is above that floor; 'inconclusive' = fewer than 3 pretrained models; else "
               "'does not replicate'")


def claim3_verdict(summary: dict) -> str:
    """Apply :data:`CLAIM3_RULE` to :func:`vaxis.agreement.pair_summary` output."""
    if summary["n_real"] < 3:
        return "inconclusive"
    floor = summary["floor_ci_high"] if np.isfinite(summary["floor_ci_high"]) else 0.0
    if summary["n_pairs_above_floor"] == summary["n_pairs"] and summary["min_ci_low"] > floor:
        return "replicates"
    return "partly" if summary["mean_ci_low"] > floor else "does not replicate"


def is_causal(model, name: str) -> bool:
    """Whether a loaded model is a causal LM (decides the default subsample size)."""
    for attr in ("is_causal", "causal"):
        if hasattr(model, attr):
            return bool(getattr(model, attr))
    kind = getattr(model, "kind", None)
    if isinstance(kind, str):
        return kind != "encoder"
    return not any(k in name.lower() for k in ("minilm", "bert", "mpnet", "e5", "bge"))


def choose_layer_pooling(model, name: str, anchor_fn) -> tuple[int, str]:
    """Layer and pooling chosen by :mod:`vaxis.axis`'s rule from the nine sentences (never from a benchmark).

    ``anchor_fn(pooling)`` returns the nine sentences' hidden states, shape (n_layers, 9, hidden).
    """
    from vaxis import axis as A

    return A.choose_layer_pooling(model, name, anchor_fn)


def model_states(
    name: str, names: list[str], quick: bool, seed: int = 0, device: str = "auto", random_weights: bool = False,
    data_dir: str | os.PathLike | None = None, cache_dir: str | os.PathLike | None = None, batch_size: int = 32,
    n_texts: dict | None = None,
) -> dict:
    """Load a model and return everything both chapters need, from cache when present.

    ``n_texts``: texts per benchmark by family (see :func:`n_texts_for`).

    Returns
    -------
    dict with ``model`` (name), ``causal``, ``layer``, ``pooling``, ``sets`` (dict of DataFrame),
    ``anchor`` (ndarray (n_layers, 9, hidden)), ``signs`` (9,), ``hidden`` (dict of (n_layers, n_texts, hidden)).
    """
    from vaxis.llm import extract, load_model

    model = load_model(name, device=device, random_weights=random_weights)
    texts, signs, _ = nine_sentences()
    causal = is_causal(model, name)

    def anchor_fn(pooling: str) -> np.ndarray:
        return extract(model, texts, layers=None, pooling=pooling, batch_size=batch_size, cache_dir=cache_dir)

    layer, pooling = choose_layer_pooling(model, name, anchor_fn)
    sets = text_sets(names, n_texts_for(causal, quick, n_texts), seed=seed, data_dir=data_dir)
    hidden = extract_sets(model, sets, pooling, batch_size=batch_size, cache_dir=cache_dir)
    return {"model": name + (" (random weights)" if random_weights else ""), "causal": causal, "layer": layer,
            "pooling": pooling, "sets": sets, "anchor": anchor_fn(pooling), "signs": signs, "hidden": hidden}


def load_runs(
    models: list[str], control_models: list[str], names: list[str], quick: bool, seed: int = 0,
    device: str = "auto", data_dir: str | os.PathLike | None = None, cache_dir: str | os.PathLike | None = None,
    batch_size: int = 32, n_texts: dict | None = None,
) -> tuple[dict[str, dict], dict[str, str], dict[str, float]]:
    """:func:`model_states` for every model, then a random-weight copy of every control model (chapters 2-3).

    A model that cannot be loaded (offline without a cached copy, out of memory, unknown id) is recorded with
    its error and the others go on: the chapters report which failed and why.

    Returns
    -------
    runs : dict
        Key -> :func:`model_states` output; random-weight copies are keyed ``"<name> (random weights)"``.
    failures : dict
        Key -> ``"ExceptionType: message"``.
    seconds : dict
        Key -> wall seconds (loading, layer choice, extraction).
    """
    runs, failures, seconds = {}, {}, {}
    for name, rw in [(m, False) for m in models] + [(m, True) for m in control_models]:
        key = name + (" (random weights)" if rw else "")
        t0 = time.perf_counter()
        try:
            runs[key] = model_states(name, names, quick, seed=seed, device=device, random_weights=rw,
                                     data_dir=data_dir, cache_dir=cache_dir, batch_size=batch_size, n_texts=n_texts)
        except Exception as e:  # noqa: BLE001 - reported by the chapter, which goes on with the others
            failures[key] = f"{type(e).__name__}: {e}"
        seconds[key] = time.perf_counter() - t0
    return runs, failures, seconds
