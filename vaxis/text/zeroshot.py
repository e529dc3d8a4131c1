"""Zero-shot V-axis scoring of sentiment benchmarks (chapter 2) and shared-text positions (chapter 3).

Per model (pretrained or its random-weight twin) everything comes from the nine sentences and the unlabelled
reference texts, before any benchmark is read: the pooling rule of :mod:`vaxis.text.llm`, the hidden-state
standardisation of :mod:`vaxis.text.reference_texts`, the layer of :func:`vaxis.text.axis.layer_rule` and the axis
itself.
Benchmark texts are only projected: AUROC is threshold-free; accuracy is reported at the neutral sentence's own
position and at a label-free threshold (the median of the benchmark's own unlabelled positions: transductive).

Extraction plan per benchmark (all cached; chapters 2 and 3 ask for the same keys, so chapter 3 runs no forward
pass after chapter 2): the first :data:`N_CURVE` texts at every layer (the diagnostic layer curves), the rest only
at the chosen layer, with the forward pass stopped there (:func:`vaxis.text.llm.extract`). Every text is cut to
:data:`vaxis.text.sentiment.MAX_TOKENS` tokens.
"""

from __future__ import annotations

import os
import time

import numpy as np
import pandas as pd

from vaxis.stats import auroc_mde
from vaxis.text import llm
from vaxis.text import sentiment as B
from vaxis.text.axis import VAxis, anchor_states
from vaxis.text.reference_texts import standardize
from vaxis.text.run_inputs import check_run_inputs
from vaxis.text.sentences import SENTENCES, SIGNS, TEXTS
from vaxis.text.sentiment_metrics import (
    accuracy_row,
    auroc_boot,
    better_lexicon,
    boot_indices,
    label_free_threshold,
    lexicon_scores_table,
    paired_diff,
)

__all__ = [
    "N_CURVE", "nine_sentences", "n_texts_for", "text_sets", "extract_sets", "model_states", "load_runs",
    "fit_axis", "project", "boot_indices", "auroc_boot", "score_benchmarks", "transfer_summary", "layer_curves",
    "lexicon_table", "twin_key", "is_causal", "check_run_inputs", "label_free_threshold", "better_lexicon",
    "paired_diff", "accuracy_row", "lexicon_scores_table"]

#: Texts per benchmark extracted at every layer for chapter 2's layer curves (a diagnosis, never a choice).
N_CURVE = 100


def nine_sentences() -> tuple[list[str], np.ndarray, list[str]]:
    """The nine stimulus sentences: ``(texts, signs (9,), categories)`` from :mod:`vaxis.text.sentences`."""
    return list(TEXTS), np.asarray(SIGNS), SENTENCES["category"].tolist()


def n_texts_for(causal: bool, quick: bool, n_texts: dict | int | None = None) -> int | None:
    """Texts per benchmark: :data:`~vaxis.text.sentiment.QUICK_N_TEXTS` in quick mode, else ``n_texts`` (an int for
    every model, or ``{"encoder": ..., "causal": ...}``; ``None`` = every row), else
    :data:`~vaxis.text.sentiment.DEFAULT_N_TEXTS`."""
    family = "causal" if causal else "encoder"
    if quick:
        return B.QUICK_N_TEXTS
    if isinstance(n_texts, dict):
        return {**B.DEFAULT_N_TEXTS, **n_texts}[family]
    return B.DEFAULT_N_TEXTS[family] if n_texts is None else int(n_texts)


def text_sets(names: list, n_texts: int | None, seed: int = 0, data_dir: str | os.PathLike | None = None,
              text_col: str | None = None, label_col: str | None = None,
              drop_empty: bool = False) -> dict[str, pd.DataFrame]:
    """``{key: evaluation_set(...)}`` keyed by :func:`vaxis.text.sentiment.benchmark_key` (a user file's stem); the
    sets of one seed are nested prefixes of one order. ``text_col`` / ``label_col`` / ``drop_empty`` apply to
    user files."""
    out = {}
    for name in names:
        key = B.benchmark_key(name)
        if key in out:
            raise ValueError(f"two benchmarks would both be called {key!r}: rename one of the files")
        out[key] = B.evaluation_set(name, n_texts=n_texts, seed=seed, data_dir=data_dir, text_col=text_col,
                                    label_col=label_col, drop_empty=drop_empty)
    return out


def extract_sets(model, sets: dict[str, pd.DataFrame], layer: int, pooling: str, batch_size: int | None = None,
                 max_tokens: int = B.MAX_TOKENS, n_curve: int = N_CURVE,
                 cache_dir: str | os.PathLike | None = None) -> tuple[dict[str, np.ndarray], dict[str, np.ndarray]]:
    """Hidden states of every text set (cached): at ``layer`` for every text, at every layer for the first
    ``n_curve`` texts.

    Returns
    -------
    at_layer : dict of ndarray, each shape (n_texts, hidden)
    curve : dict of ndarray, each shape (n_layers + 1, min(n_curve, n_texts), hidden); None when ``n_curve`` is 0
    """
    at_layer, curve = {}, {}
    for k, df in sets.items():
        texts = df["text"].tolist()
        head = llm.extract(model, texts[:n_curve], layers=None, pooling=pooling, batch_size=batch_size,
                           max_length=max_tokens, cache_dir=cache_dir) if n_curve > 0 else None
        parts = [] if head is None else [head[layer]]
        if len(texts) > n_curve:
            parts.append(llm.extract(model, texts[n_curve:], layers=[layer], pooling=pooling, batch_size=batch_size,
                                     max_length=max_tokens, cache_dir=cache_dir)[0])
        at_layer[k], curve[k] = np.concatenate(parts), head
    return at_layer, curve


def fit_axis(anchor_hidden: np.ndarray, signs: np.ndarray, layer: int, method: str = "mean-diff",
             reference: np.ndarray | None = None) -> VAxis:
    """A :class:`vaxis.text.axis.VAxis` fitted on the nine sentences at ``layer``.

    Parameters
    ----------
    anchor_hidden : ndarray, shape (n_layers, 9, hidden)
    signs : ndarray, shape (9,)
    reference : ndarray, shape (n_layers, n_ref, hidden), optional
        The reference texts' states: standardise every dimension with them (the chapters always pass them).
    """
    return VAxis(method=method, layer=layer, reference=reference).fit(anchor_hidden, signs)


def project(axis: VAxis, hidden: np.ndarray) -> np.ndarray:
    """Positions of texts on a fitted axis; ``hidden`` (n_texts, hidden) or (n_layers, n_texts, hidden) -> (n,)."""
    return np.asarray(axis.transform(hidden), dtype=float).reshape(-1)


def is_causal(model, name: str) -> bool:
    """Whether a loaded model is a causal LM."""
    kind = getattr(model, "kind", None)
    if isinstance(kind, str):
        return kind != "encoder"
    return not any(k in name.lower() for k in ("minilm", "bert", "mpnet", "e5", "bge"))


def twin_key(name: str) -> str:
    """The run key of a model's random-weight twin."""
    return f"{name} (random weights)"


def model_states(
    name: str, names: list, quick: bool, seed: int = 0, device: str = "auto", random_weights: bool = False,
    data_dir: str | os.PathLike | None = None, cache_dir: str | os.PathLike | None = None,
    batch_size: int | None = None, n_texts: dict | int | None = None, max_tokens: int = B.MAX_TOKENS,
    n_curve: int = N_CURVE, text_col: str | None = None, label_col: str | None = None, drop_empty: bool = False,
) -> dict:
    """Everything chapters 2 and 3 need of one model, from the cache when present (weights load only on a miss).

    Returns
    -------
    dict with ``model`` (run key), ``name``, ``causal``, ``layer``, ``pooling``, ``n_layers`` (hidden-state layers),
    ``sets`` (dict of DataFrame), ``anchor`` (n_layers, 9, hidden), ``reference`` (n_layers, n_ref, hidden),
    ``signs`` (9,), ``hidden`` (dict of (n_texts, hidden) at ``layer``), ``curve_hidden`` (dict of
    (n_layers, n_curve, hidden); None for a random-weight twin, which skips the layer curves) and ``axis`` (the
    fitted, standardised :class:`~vaxis.text.axis.VAxis`).
    """
    model = llm.load_model(name, device=device, random_weights=random_weights, lazy=True)
    n_curve = 0 if random_weights else n_curve  # layer curves are a diagnosis of the pretrained models only
    st = anchor_states(model, cache_dir=cache_dir, batch_size=batch_size)
    layer = int(st["layer"])
    causal = is_causal(model, name)
    sets = text_sets(names, n_texts_for(causal, quick, n_texts), seed=seed, data_dir=data_dir, text_col=text_col,
                     label_col=label_col, drop_empty=drop_empty)
    hidden, curve = extract_sets(model, sets, layer, st["pooling"], batch_size=batch_size, max_tokens=max_tokens,
                                 n_curve=n_curve, cache_dir=cache_dir)
    return {"model": twin_key(name) if random_weights else name, "name": name, "causal": causal, "layer": layer,
            "pooling": st["pooling"], "n_layers": int(st["nine"].shape[0]), "sets": sets, "anchor": st["nine"],
            "reference": st["reference"], "signs": np.asarray(SIGNS), "hidden": hidden, "curve_hidden": curve,
            "axis": fit_axis(st["nine"], SIGNS, layer, reference=st["reference"]),
            "weights_loaded": model.module is not None}


def load_runs(
    models: list[str], control_models: list[str] | None, names: list, quick: bool, seed: int = 0,
    device: str = "auto", data_dir: str | os.PathLike | None = None, cache_dir: str | os.PathLike | None = None,
    batch_size: int | None = None, n_texts: dict | int | None = None, control_n_texts: int | None = None, **kw,
) -> tuple[dict[str, dict], dict[str, str], dict[str, float]]:
    """:func:`model_states` for every model, then the random-weight twin of every control model (default: of
    every model), chapters 2-3. ``kw`` goes to :func:`model_states` (``max_tokens``, ``text_col``, ...).
    ``control_n_texts``: the twins read only that many texts per benchmark (the first ones of the same seeded
    order, a prefix of the pretrained models' sets; None: as many as the models).

    Only a genuine model-loading failure (:class:`vaxis.text.models.ModelLoadError`: offline without a cached copy,
    unknown id, missing wheel, unreadable weights; or running out of memory) is recorded with its error while the
    others go on. Bad parameters (:func:`check_run_inputs`, checked before any model loads), a malformed or missing
    benchmark file and any other error stop the run: they are not a model's failure.

    Returns
    -------
    runs : dict
        Key -> :func:`model_states` output; twins are keyed :func:`twin_key`.
    failures : dict
        Key -> ``"ExceptionType: message"``.
    seconds : dict
        Key -> wall seconds (loading, layer choice, extraction).
    """
    check_run_inputs(models, control_models, names, quick, n_texts, batch_size, control_n_texts)
    controls = list(models) if control_models is None else list(control_models)
    runs, failures, seconds = {}, {}, {}
    for name, rw in [(m, False) for m in models] + [(m, True) for m in controls]:
        key = twin_key(name) if rw else name
        t0 = time.perf_counter()
        try:
            n = control_n_texts if rw and control_n_texts is not None else n_texts
            runs[key] = model_states(name, names, quick, seed=seed, device=device, random_weights=rw,
                                     data_dir=data_dir, cache_dir=cache_dir, batch_size=batch_size, n_texts=n, **kw)
        except (llm.ModelLoadError, MemoryError) as e:  # reported by the chapter, which goes on with the others
            failures[key] = f"{type(e).__name__}: {e}"
        except RuntimeError as e:
            if "out of memory" not in str(e).lower():  # torch.cuda.OutOfMemoryError and CPU allocation failures
                raise
            failures[key] = f"{type(e).__name__}: {e}"
        seconds[key] = time.perf_counter() - t0
    return runs, failures, seconds


# ----------------------------------------------------------------------------------------------- scoring
def score_benchmarks(run: dict, n_boot: int = 1000, seed: int = 0, n_random: int = 100,
                     ) -> tuple[pd.DataFrame, dict[str, np.ndarray], dict[str, np.ndarray]]:
    """Score each benchmark of one :func:`model_states` run on its V-axis.

    Returns
    -------
    table : DataFrame
        One row per benchmark: ``n`` (binary rows), ``n_pos``, ``auroc`` / ``accuracy`` / ``spearman`` with
        ``_lo`` / ``_hi`` 95 % CIs (AUROC: percentile bootstrap of :func:`boot_indices` draws), ``auroc_mde``
        (the smallest AUROC above 0.5 detectable at that n, :func:`vaxis.stats.auroc_mde`), ``n_graded``,
        ``threshold`` (the neutral sentence's position: ``accuracy``), ``threshold_label_free`` (the median of all
        the benchmark's positions, :func:`label_free_threshold`: ``accuracy_label_free`` with ``_lo`` / ``_hi``),
        ``layer``, and the random-direction AUROC median and 2.5 / 97.5 % quantiles.
    random_aurocs : dict of ndarray, each shape (n_random,)
    auroc_boots : dict of ndarray, each shape (n_boot,): the AUROC of each shared resample of the binary texts
    """
    axis, layer, signs = run["axis"], run["layer"], run["signs"]
    thr = float(project(axis, run["anchor"])[np.flatnonzero(signs == 0)[0]])
    z_anchor = standardize(run["anchor"][layer], run["reference"][layer])
    rows, rand, boots = [], {}, {}
    for name, df in run["sets"].items():
        h = run["hidden"][name]
        pos = project(axis, h)
        y = df["label"].to_numpy()
        b = y >= 0
        idx = boot_indices(int(b.sum()), n_boot, seed, name)
        boots[name] = auroc_boot(pos[b], y[b], idx)
        n_pos = int((y[b] == 1).sum())
        row = {"benchmark": name, "layer": layer, "threshold": thr, "n": int(b.sum()), "n_pos": n_pos,
               "auroc": B.auroc(pos[b], y[b]), "auroc_lo": float(np.nanquantile(boots[name], 0.025)),
               "auroc_hi": float(np.nanquantile(boots[name], 0.975)),
               "auroc_mde": auroc_mde(n_pos, int(b.sum()) - n_pos)}
        row.update(accuracy_row(pos, y, b, thr, n_boot, seed))
        if df.attrs.get("graded") and "fine_label" in df.columns:
            r = B.metric_with_ci("spearman", pos, df["fine_label"].to_numpy(), n_boot=n_boot, seed=seed)
            row.update(spearman=r["value"], spearman_lo=r["ci_low"], spearman_hi=r["ci_high"], n_graded=r["n"])
        z = standardize(h[b], run["reference"][layer])
        rand[name] = B.random_direction_aurocs(z, y[b], z_anchor, signs, n_random, seed)
        row.update(random_dir_median=float(np.median(rand[name])), random_dir_lo=float(np.quantile(rand[name], 0.025)),
                   random_dir_hi=float(np.quantile(rand[name], 0.975)))
        rows.append(row)
    return pd.DataFrame(rows), rand, boots


def transfer_summary(table: pd.DataFrame, boots: dict[str, dict[str, np.ndarray]], real: list[str],
                     twins: dict[str, str | None], alpha: float = 0.05,
                     randoms: dict[str, dict[str, np.ndarray]] | None = None,
                     lexicons: dict[str, dict[str, np.ndarray]] | None = None) -> pd.DataFrame:
    """Per pretrained model: mean AUROC over its benchmarks, the paired difference to its random-weight twin and to
    the better lexicon, with percentile bootstrap CIs at level ``1 - alpha / len(real)`` (the statistics of
    :func:`vaxis.publish.text_verdicts.claim2`), and mean accuracy at both thresholds.

    Parameters
    ----------
    table : DataFrame with ``model``, ``benchmark``, ``auroc``, ``accuracy``, ``accuracy_label_free``,
        ``random_dir_hi`` (from :func:`score_benchmarks`; lexicon rows from :func:`lexicon_table`)
    boots : ``{run key: {benchmark: (n_boot,) AUROC draws}}`` (shared resamples per benchmark)
    twins : ``{model: twin run key or None}``
    randoms : ``{run key: {benchmark: (n_random,) AUROCs}}`` of the random directions (the same directions on
        every benchmark): ``random_dir_p`` is the +1-corrected share whose mean AUROC reaches the model's.
    lexicons : ``{lexicon: {benchmark: (n_boot,) AUROC draws}}`` on the same texts and resamples
        (:func:`lexicon_table` with ``return_draws``): ``lexicon`` is :func:`better_lexicon` of their AUROCs in
        ``table`` on the model's benchmarks (chosen without looking at any V-axis), ``lexicon_auroc`` its mean
        AUROC, ``vs_lexicon`` = ``{diff, ci_low, ci_high}`` the paired difference model minus lexicon (mean over
        benchmarks) and ``vs_lexicon_per_benchmark`` the same per benchmark.
    """
    level = 1 - alpha / max(len(real), 1)
    q = ((1 - level) / 2, 1 - (1 - level) / 2)
    rows = []
    for m in real:
        t = table[table.model == m].set_index("benchmark")
        names = list(t.index)
        draws = np.nanmean(np.stack([boots[m][b] for b in names]), axis=0)
        row = {"model": m, "n_benchmarks": len(names), "n_min": int(t["n"].min()), "level": level,
               "mean_auroc": float(t["auroc"].mean()), "mean_auroc_lo": float(np.nanquantile(draws, q[0])),
               "mean_auroc_hi": float(np.nanquantile(draws, q[1])),
               "accuracy": float(t["accuracy"].mean()),
               "accuracy_label_free": float(t["accuracy_label_free"].mean()) if "accuracy_label_free" in t else np.nan,
               "random_dir_hi": float(t["random_dir_hi"].mean()), "random_dir_p": np.nan, "twin": twins.get(m),
               "twin_mean_auroc": np.nan, "diff": np.nan, "diff_lo": None, "diff_hi": None,
               "lexicon": None, "lexicon_auroc": np.nan, "vs_lexicon": None, "vs_lexicon_per_benchmark": None}
        if randoms is not None and m in randoms:
            rd = np.mean(np.stack([randoms[m][b] for b in names]), axis=0)
            row["random_dir_p"] = float((1 + np.sum(rd >= row["mean_auroc"])) / (1 + rd.size))
        tw = twins.get(m)
        if tw is not None and tw in boots and all(b in boots[tw] for b in names):
            tt = table[table.model == tw].set_index("benchmark").loc[names]
            d = draws - np.nanmean(np.stack([boots[tw][b] for b in names]), axis=0)
            row.update(twin_mean_auroc=float(tt["auroc"].mean()), diff=float(t["auroc"].mean() - tt["auroc"].mean()),
                       diff_lo=float(np.nanquantile(d, q[0])), diff_hi=float(np.nanquantile(d, q[1])))
        lex = {k: v for k, v in (lexicons or {}).items() if all(b in v for b in names)}
        if lex:
            pts = {k: table[table.model == k].set_index("benchmark").loc[names, "auroc"].to_dict() for k in lex}
            best = better_lexicon(pts)
            vs = paired_diff({b: boots[m][b] for b in names}, lex[best], t["auroc"].to_dict(), pts[best], level)
            row.update(lexicon=best, lexicon_auroc=float(np.mean(list(pts[best].values()))),
                       vs_lexicon={k: vs[k] for k in ("diff", "ci_low", "ci_high")},
                       vs_lexicon_per_benchmark=vs["per_benchmark"])
        rows.append(row)
    return pd.DataFrame(rows)


def layer_curves(run: dict) -> pd.DataFrame:
    """AUROC per layer and benchmark on the first :data:`N_CURVE` texts (diagnosis only: the reported layer is
    fixed by the nine-sentence rule), each layer's axis fitted on the standardised nine sentences.

    Returns
    -------
    DataFrame with columns ``benchmark``, ``layer``, ``auroc``, ``n``; one row per (benchmark, layer).
    """
    rows = []
    if any(v is None for v in run["curve_hidden"].values()):
        return pd.DataFrame(columns=["benchmark", "layer", "auroc", "n"])
    for layer in range(run["n_layers"]):
        try:
            ax = fit_axis(run["anchor"], run["signs"], layer, reference=run["reference"])
        except ValueError:  # degenerate layer (e.g. layer 0 with last-token pooling: every sentence ends in ".")
            ax = None
        for name, df in run["sets"].items():
            h = run["curve_hidden"][name][layer]
            y = df["label"].to_numpy()[: len(h)]
            b = y >= 0
            auc = np.nan if ax is None else B.auroc(project(ax, h)[b], y[b])
            rows.append({"benchmark": name, "layer": layer, "auroc": auc, "n": int(b.sum())})
    return pd.DataFrame(rows)


def lexicon_table(sets: dict[str, pd.DataFrame], n_boot: int = 1000, seed: int = 0, return_draws: bool = False
                  ) -> pd.DataFrame | tuple[pd.DataFrame, dict[str, dict[str, np.ndarray]]]:
    """VADER and AFINN on the same text sets (threshold 0: ``score > 0`` = positive; also at the label-free median),
    with CIs (:func:`vaxis.text.sentiment_metrics.lexicon_scores_table`); ``return_draws``: also their paired AUROC
    draws ``{lexicon: {benchmark: (n_boot,)}}`` for :func:`transfer_summary`."""
    rows, draws = lexicon_scores_table(sets, n_boot=n_boot, seed=seed)
    return (pd.DataFrame(rows), draws) if return_draws else pd.DataFrame(rows)
