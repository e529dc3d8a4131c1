"""Issue 9, interruption: a process SIGKILLed mid-write never leaves a partial entry that a reader accepts, and
the book's papermill staging never replaces a complete chapter page with a half-executed one.

The sweep's kill-and-resume test (a SIGKILLed sweep rerun to the same results) is the sweep owner's:
``tests/runs/test_sweep.py::test_sigkill_midway_resumes_to_same_results``.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import nbformat
import pytest
from _workers import consistent, payload

from vaxis.runs.cache import cached_arrays, hash_key, load_arrays, save_arrays

HERE = Path(__file__).resolve().parent
ROOT = HERE.parents[1]


def _spawn(code: str) -> subprocess.Popen:
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(HERE), str(ROOT)])}
    # own process group, so that a kill reaches the writer and anything it started (a Jupyter kernel)
    return subprocess.Popen([sys.executable, "-c", textwrap.dedent(code)], env=env, stdout=subprocess.DEVNULL,
                            stderr=subprocess.DEVNULL, start_new_session=True)


def _kill(proc: subprocess.Popen) -> None:
    os.killpg(proc.pid, signal.SIGKILL)
    proc.wait()


def _wait_for(pred, timeout=60.0):
    t0 = time.time()
    while not pred():
        if time.time() - t0 > timeout:
            raise TimeoutError("condition not reached")
        time.sleep(0.02)


CACHE_LOOP = """
    from pathlib import Path
    from _workers import payload
    from vaxis.runs.cache import hash_key, save_arrays
    key = hash_key({"victim": 1})
    i = 0
    while True:
        i += 1
        save_arrays("kill", key, payload(i), cache_dir=%r)
        Path(%r).write_text(str(i))
"""


def test_sigkill_during_cache_writes_readers_see_old_entry_or_miss(tmp_path):
    """Kill a writer looping on one key at 6 different moments; every read in between and after is complete."""
    key = hash_key({"victim": 1})
    kills, reads = 0, 0
    for delay in (0.0, 0.03, 0.07, 0.11, 0.17, 0.23):
        progress = tmp_path / "progress"
        progress.unlink(missing_ok=True)
        proc = _spawn(CACHE_LOOP % (str(tmp_path), str(progress)))
        try:
            _wait_for(progress.exists)
            t_end = time.time() + delay
            while time.time() < t_end:  # concurrent reads while the writer runs
                got = load_arrays("kill", key, tmp_path)
                reads += 1
                assert got is None or consistent(got), "a reader accepted a torn entry"
        finally:
            _kill(proc)
        kills += 1
        got = load_arrays("kill", key, tmp_path)
        reads += 1
        assert got is None or consistent(got)
        # a rerun (cached_arrays) always ends with one complete, verified entry
        out = cached_arrays("kill", {"victim": 1}, lambda: payload(0), cache_dir=tmp_path)
        assert consistent(out)
        assert consistent(load_arrays("kill", key, tmp_path))
    assert kills == 6 and reads >= 6
    # a SIGKILL can leave an orphan temp file (hidden, *.tmp): it is never read as an entry
    leftovers = [p.name for p in (tmp_path / "kill").iterdir() if p.name.endswith(".tmp")]
    assert all(p.startswith(".") for p in leftovers)


PAUSED_WRITER = """
    import io, os, time
    from pathlib import Path
    from _workers import payload
    from vaxis.runs.cache import hash_key, save_arrays

    flag, phase, suffix, folder = Path(%r), %r, %r, %r
    real_open = io.open

    class Paused:
        # a file whose new bytes stop half-way ("mid-bytes") or once all written, at close ("before-rename")
        def __init__(self, f, where):
            self._f, self._where, self._total = f, where, 0
        def _pause(self, written, total):
            self._f.flush()
            os.fsync(self._f.fileno())
            with real_open(flag, "w") as out:
                out.write(f"{self._where}\\n{written}\\n{total}")
            time.sleep(600)                                   # the SIGKILL lands here
        def write(self, data):
            if phase == "mid-bytes":
                self._f.write(data[: len(data) // 2])
                self._pause(len(data) // 2, len(data))
            self._total += len(data)
            return self._f.write(data)
        def close(self):
            if phase == "before-rename":
                self._pause(self._total, self._total)
            return self._f.close()
        def __enter__(self):
            return self
        def __exit__(self, *exc):
            self.close()
        def __getattr__(self, name):
            return getattr(self._f, name)

    def paused_open(file, mode="r", *args, **kwargs):
        f = real_open(file, mode, *args, **kwargs)
        where = os.readlink(f"/proc/self/fd/{f.fileno()}") if "w" in mode else ""
        if where.startswith(folder) and suffix in Path(where).name:
            return Paused(f, where)
        return f

    io.open = paused_open                                     # open(), Path.write_bytes, os.fdopen, tempfile
    import builtins
    builtins.open = paused_open
    save_arrays("paused", hash_key({"victim": 2}), payload(2), cache_dir=%r)
    raise SystemExit("the write was never paused")
"""


@pytest.mark.skipif(not Path("/proc/self/fd").is_dir(), reason="needs /proc to name an open file")
@pytest.mark.parametrize("phase", ["mid-bytes", "before-rename"])
def test_sigkill_mid_write_keeps_the_old_entry(tmp_path, phase):
    """A writer replacing an entry is SIGKILLed while its ``.npz`` bytes are on disk but not renamed into place
    (half of them, or all of them before the rename): proven from the writer's own report and the file's size,
    the old entry is still read back, whole. A non-atomic write (straight into the entry) would leave a miss."""
    key = hash_key({"victim": 2})
    save_arrays("paused", key, payload(1), cache_dir=tmp_path)
    folder = tmp_path / "paused"
    old_bytes = (folder / f"{key}.npz").read_bytes()
    flag = tmp_path / "paused-at"
    proc = _spawn(PAUSED_WRITER % (str(flag), phase, ".npz", str(folder.resolve()), str(tmp_path)))
    try:
        _wait_for(lambda: flag.exists() and flag.read_text().count("\n") == 2, timeout=60)
        where, written, total = flag.read_text().split("\n")
        written, total = int(written), int(total)
        assert proc.poll() is None, "the writer exited before the kill"
        # the kill lands mid-write: the new entry's bytes are on disk, exactly as far as the writer got
        assert Path(where).stat().st_size == written and 0 < written <= total
        assert (written < total) == (phase == "mid-bytes")
        assert total > 100_000                                       # the whole new .npz (payload(2), 400 kB)
    finally:
        _kill(proc)
    assert proc.returncode == -signal.SIGKILL
    assert Path(where).stat().st_size == written                     # the partial file survived the kill
    got = load_arrays("paused", key, tmp_path)
    assert got is not None, "the old entry was lost: the write was not atomic"
    assert consistent(got) and got["a"][0] == 1                      # the old entry, whole
    assert (folder / f"{key}.npz").read_bytes() == old_bytes
    # the orphan temp file is hidden and never read; a rerun replaces the entry cleanly
    assert Path(where).name.startswith(".") and Path(where).name.endswith(".tmp")
    save_arrays("paused", key, payload(3), cache_dir=tmp_path)
    assert load_arrays("paused", key, tmp_path)["a"][0] == 3


RESULTS_LOOP = """
    from pathlib import Path
    from vaxis.publish.results import write_results
    i = 0
    while True:
        i += 1
        write_results("05_killed", {"i": i, "values": [i] * 2000, "scoreboard": []}, %r)
        Path(%r).write_text(str(i))
"""


def test_sigkill_during_results_writes_never_leaves_partial_json(tmp_path):
    from vaxis.publish.results import read_results

    kills = 0
    for delay in (0.0, 0.05, 0.13, 0.2):
        progress = tmp_path / "progress"
        progress.unlink(missing_ok=True)
        proc = _spawn(RESULTS_LOOP % (str(tmp_path / "res"), str(progress)))
        try:
            _wait_for(progress.exists)
            t_end = time.time() + delay
            while time.time() < t_end:
                doc = read_results("05_killed", tmp_path / "res")
                assert doc["values"] == [doc["i"]] * 2000
        finally:
            _kill(proc)
        kills += 1
        doc = read_results("05_killed", tmp_path / "res")  # the last complete write, never a partial one
        assert doc["values"] == [doc["i"]] * 2000 and doc["i"] >= 1
    assert kills == 4


# ------------------------------------------------------------------------------------------------- book staging
def _notebook(path: Path, body: str) -> None:
    nb = nbformat.v4.new_notebook()
    params = nbformat.v4.new_code_cell("quick = False\nout = None")
    params.metadata["tags"] = ["parameters"]
    nb.cells = [nbformat.v4.new_markdown_cell("# staged chapter"), params, nbformat.v4.new_code_cell(body)]
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
    nbformat.write(nb, path)


@pytest.fixture
def staging(tmp_path, monkeypatch):
    from vaxis.publish import book

    stage = tmp_path / "chapters"
    monkeypatch.setattr(book, "STAGING", stage)
    return stage


def test_book_execute_failure_keeps_previous_complete_page(tmp_path, staging):
    from vaxis.publish import book

    src = tmp_path / "nb" / "07_chapter.py"
    src.parent.mkdir()
    _notebook(src.with_suffix(".ipynb"), "print('complete run', 6 * 7)")
    book.execute(src, {"quick": True})
    page = staging / "07_chapter.ipynb"
    good = page.read_bytes()
    assert b"complete run 42" in good
    # the chapter now fails half-way: first cell runs, second raises
    _notebook(src.with_suffix(".ipynb"), "print('half-way')\nraise RuntimeError('chapter failed mid-way')")
    with pytest.raises(Exception, match="chapter failed mid-way"):
        book.execute(src, {"quick": True})
    assert page.read_bytes() == good, "a failed run replaced the complete page"
    # the failed run's notebook stays only as a hidden .running file, excluded from the book by _config.yml
    assert [p.name for p in staging.iterdir() if p.name != page.name] in ([], [".07_chapter.running.ipynb"])
    assert "book/chapters/.*" in (ROOT / "_config.yml").read_text()


def test_book_execute_killed_mid_run_keeps_previous_page_and_rerun_completes(tmp_path, staging):
    from vaxis.publish import book

    src = tmp_path / "nb" / "08_chapter.py"
    src.parent.mkdir()
    flag = tmp_path / "started"
    _notebook(src.with_suffix(".ipynb"), "print('v1 complete')")
    book.execute(src, {})
    page = staging / "08_chapter.ipynb"
    good = page.read_bytes()
    _notebook(src.with_suffix(".ipynb"),
              f"import time, pathlib\npathlib.Path({str(flag)!r}).write_text('x')\ntime.sleep(60)\nprint('v2')")
    proc = _spawn(f"""
        from pathlib import Path
        from vaxis.publish import book
        book.STAGING = Path({str(staging)!r})
        book.execute(Path({str(src)!r}), {{}})
    """)
    try:
        _wait_for(flag.exists, timeout=120)  # the chapter is executing its long cell
        assert page.read_bytes() == good
    finally:
        _kill(proc)
    assert page.read_bytes() == good, "a killed build replaced the complete page"
    _notebook(src.with_suffix(".ipynb"), "print('v3 complete')")
    book.execute(src, {})  # rerun after the kill
    assert b"v3 complete" in page.read_bytes()
    assert nbformat.read(page, as_version=4).cells[2].outputs[0]["text"].strip() == "v3 complete"
