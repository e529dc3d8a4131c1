"""Interactive use (issue 26, item 1): the kernel JupyterLab starts runs a chapter's first cells, with its parameters
checked there, and `make lab` opens the paired notebooks with that kernel."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import jupytext
import pytest

ROOT = Path(__file__).resolve().parents[2]
CHAPTER = "methods_verdicts"      # the cheapest chapter: its first code cell only imports and defines designs


@pytest.fixture(scope="module")
def kernel(tmp_path_factory):
    """The venv's installed ``python3`` kernelspec, started by jupyter_client as JupyterLab starts it (cwd: the
    notebooks folder, as `make lab` opens it)."""
    from jupyter_client.kernelspec import KernelSpecManager
    from jupyter_client.manager import start_new_kernel

    spec = KernelSpecManager().get_kernel_spec("python3")
    assert Path(spec.argv[0]).parent == Path(sys.executable).parent, spec.argv   # the venv's python, not another
    env = {**os.environ, "HF_HUB_OFFLINE": "1", "TRANSFORMERS_OFFLINE": "1", "MPLBACKEND": "Agg",
           "VAXIS_RESULTS": str(tmp_path_factory.mktemp("results"))}
    km, kc = start_new_kernel(kernel_name="python3", cwd=str(ROOT / "notebooks"), env=env, startup_timeout=120)
    yield kc
    kc.stop_channels()
    km.shutdown_kernel(now=True)


def _run(kc, code: str) -> tuple[str, str]:
    """Execute ``code`` as a notebook cell (kept in the kernel's history); returns (status, text output)."""
    out: list[str] = []

    def hook(msg):
        c = msg["content"]
        if msg["msg_type"] == "stream":
            out.append(c["text"])
        elif msg["msg_type"] == "error":
            out.append("\n".join(c["traceback"]))
        elif msg["msg_type"] in ("execute_result", "display_data"):
            out.append(c["data"].get("text/plain", ""))

    reply = kc.execute_interactive(code, timeout=180, output_hook=hook, store_history=True)
    return reply["content"]["status"], re.sub(r"\x1b\[[0-9;]*m", "", "".join(out))


def _first_cells(chapter: str) -> tuple[str, str]:
    nb = jupytext.read(ROOT / "notebooks" / f"{chapter}.py")
    code = [c for c in nb.cells if c.cell_type == "code"]
    assert "parameters" in code[0].metadata.get("tags", [])
    return code[0].source, code[1].source


def test_lab_kernel_runs_a_chapters_parameters_and_imports(kernel):
    parameters, first = _first_cells(CHAPTER)
    assert _run(kernel, parameters)[0] == "ok"
    # what papermill injects for `-p quick false`: the string, which the chapter's check turns into False
    assert _run(kernel, "# Parameters\nquick = \"false\"\n")[0] == "ok"
    status, text = _run(kernel, first)
    assert status == "ok", text
    assert _run(kernel, "print(type(quick).__name__, quick)")[1].strip() == "bool False"


def test_lab_kernel_refuses_an_unknown_parameter(kernel):
    parameters, first = _first_cells(CHAPTER)
    _run(kernel, parameters)
    _run(kernel, "# Parameters\nn_rnus = 10\n")
    status, text = _run(kernel, first)
    assert status == "error" and "unknown parameter(s) ['n_rnus']" in text and "n_runs (default 200)" in text


def test_lab_kernel_has_widgets_for_progress_bars(kernel):
    code = ("import warnings\nwarnings.simplefilter('error')\nfrom tqdm.notebook import tqdm\n"
            "print(sum(tqdm(range(3))))")
    status, text = _run(kernel, code)
    assert status == "ok" and "IProgress" not in text, text


def test_lab_kernel_renders_a_rule_as_an_admonition(kernel):
    bundles: list[dict] = []
    kernel.execute_interactive("from vaxis.publish.reader import show_rule\nshow_rule('REPLICATES if x; FAILS if y.')",
                               timeout=60, output_hook=lambda m: bundles.append(m["content"].get("data", {}))
                               if m["msg_type"] == "display_data" else None)
    assert len(bundles) == 1 and '<div class="admonition note vaxis-rule">' in bundles[0]["text/html"]
    assert bundles[0]["text/plain"].startswith("The rule, fixed before the run:")


def test_make_lab_opens_the_notebooks_with_the_venv_kernel_and_offline_env():
    dry = subprocess.run(["make", "-n", "-o", ".venv/.vaxis-installed", "lab",
                          "VAXIS_FACED_DIR=/data/faced"], cwd=ROOT, capture_output=True, text=True)
    cmd = dry.stdout
    assert dry.returncode == 0, dry.stderr
    assert ".venv/bin/jupyter lab" in cmd and f'--notebook-dir="{ROOT}/notebooks"' in cmd
    assert "default_kernel_name=python3" in cmd and 'VAXIS_FACED_DIR="/data/faced"' in cmd
    assert "VAXIS_SENTIMENT_DIR=" in cmd and "VAXIS_RESULTS=" in cmd
    makefile = (ROOT / "Makefile").read_text()
    assert re.search(r"^export HF_HUB_OFFLINE := 1$", makefile, re.M)
    reqs = (ROOT / "requirements.txt").read_text()
    assert re.search(r"^jupyterlab==\d", reqs, re.M) and re.search(r"^ipywidgets==\d", reqs, re.M)
