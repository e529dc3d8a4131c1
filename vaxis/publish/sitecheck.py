"""Check the built site the way a reader sees it: render every page in headless Chromium.

``python -m vaxis.publish.sitecheck _build/html --screenshots _build/screenshots``

For each page, Chromium renders it (MathJax included) and dumps the final DOM; a screenshot is saved.
A page fails if it shows a traceback or error output, or raw TeX that MathJax did not typeset; a chapter
page (``book/chapters/NN_*.html``) also fails if it holds no figure. The book's layout probe
(``book/_static/vaxis-layout.js``) records on ``<body>`` what is wider than the page column in the 1280 px window:
a page fails if a book table (the scoreboard) or a rule block overflows; the scoreboard page and every chapter page
fail if the probe did not run, and a chapter page if it shows no rule block. A page that loads a script from the
network fails too (the book is read offline). Exit code 1 lists every failure.
"""

from __future__ import annotations

import argparse
import html
import re
import shutil
import subprocess
import sys
import tempfile
from html.parser import HTMLParser
from pathlib import Path

CHROMIUM_FLAGS = [
    "--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
    "--disable-component-update", "--no-first-run", "--disable-sync", "--disable-quic",
    "--hide-scrollbars", "--window-size=1280,900", "--virtual-time-budget=5000",
]
RAW_TEX = re.compile(r"\$\$|\\\(|\\\[|\\begin\{|\\frac|\\operatorname|\\mathbf|\\sum_")
ERROR_MARKERS = ("Traceback (most recent call last)", "output traceback", "output error")
_BODY = re.compile(r"<body\b[^>]*>", re.S)
_REMOTE_SCRIPT = re.compile(r"<script\b[^>]*\ssrc=\"(https?:)?//[^\"]+\"", re.S)


class _VisibleText(HTMLParser):
    """Collect text a reader sees: skips script/style/code/pre and typeset maths (mjx-container)."""

    SKIP = {"script", "style", "code", "pre", "mjx-container", "noscript", "svg", "math"}

    def __init__(self) -> None:
        super().__init__()
        self.depth = 0
        self.parts: list[str] = []
        self.n_img = 0

    def handle_starttag(self, tag, attrs):
        if tag in self.SKIP:
            self.depth += 1
        src = dict(attrs).get("src") or ""
        if tag == "img" and "_images/" in src:  # figures rendered from cell outputs / the book
            self.n_img += 1

    def handle_endtag(self, tag):
        if tag in self.SKIP and self.depth:
            self.depth -= 1

    def handle_data(self, data):
        if not self.depth:
            self.parts.append(data)


def chromium_binary() -> str:
    for name in ("chromium", "chromium-browser", "google-chrome"):
        path = shutil.which(name)
        if path:
            return path
    raise SystemExit("headless Chromium not found: install Debian's `chromium` package")


def render(page: Path, screenshot: Path | None, timeout: int = 60) -> str:
    """Return the DOM of ``page`` after scripts ran; optionally save a screenshot."""
    exe = chromium_binary()
    url = page.resolve().as_uri()
    with tempfile.TemporaryDirectory() as profile:
        flags = CHROMIUM_FLAGS + [f"--user-data-dir={profile}"]
        dom = subprocess.run([exe, *flags, "--dump-dom", url], capture_output=True, text=True, timeout=timeout)
        if screenshot is not None:
            screenshot.parent.mkdir(parents=True, exist_ok=True)
            subprocess.run([exe, *flags, f"--screenshot={screenshot}", url], capture_output=True, timeout=timeout)
    return dom.stdout


def layout(dom: str) -> dict[str, str] | None:
    """The layout probe's ``data-vaxis-*`` attributes of ``<body>`` (``overflow``, ``rules``, ``layout``); None when
    the probe did not run."""
    body = _BODY.search(dom)
    attrs = dict(re.findall(r'data-vaxis-(\w+)="([^"]*)"', body.group(0))) if body else {}
    return {k: html.unescape(v) for k, v in attrs.items()} if "layout" in attrs else None


def check_dom(dom: str, is_chapter: bool, needs_layout: bool = False) -> list[str]:
    """Problems a reader would see in a rendered page's DOM (``needs_layout``: the layout probe must have run)."""
    problems = []
    if not dom.strip():
        return ["Chromium returned an empty page"]
    remote = _REMOTE_SCRIPT.findall(dom)
    if remote:
        problems.append(f"loads {len(remote)} script(s) from the network (the book must work offline)")
    probe = layout(dom)
    if probe is None:
        if needs_layout or is_chapter:
            problems.append("the layout probe (vaxis-layout.js) did not run: overflow not measured")
    else:
        if probe.get("overflow"):
            problems.append(f"wider than the page column: {probe['overflow']}")
        if is_chapter and probe.get("rules", "0") == "0":
            problems.append("chapter page shows no rule block (vaxis.publish.reader.show_rule)")
    main = dom
    m = re.search(r'<main[^>]*>(.*)</main>', dom, re.S)
    if m:
        main = m.group(1)
    parser = _VisibleText()
    parser.feed(main)
    text = " ".join(parser.parts)
    for marker in ERROR_MARKERS:
        if marker in main:
            problems.append(f"shows error output ({marker!r})")
    tex = RAW_TEX.search(text)
    if tex:
        problems.append(f"shows raw TeX near {text[max(0, tex.start() - 40): tex.end() + 40]!r}")
    if is_chapter and parser.n_img == 0:
        problems.append("chapter page has no figure")
    return problems


def check_site(html_dir: Path, screenshots: Path | None) -> dict[str, list[str]]:
    """Render every book page; returns {page: problems} (empty lists for good pages)."""
    pages = sorted(p for p in (html_dir / "book").rglob("*.html"))
    if not pages:
        raise SystemExit(f"no pages under {html_dir / 'book'}: build the book first (make book)")
    report = {}
    for page in pages:
        rel = page.relative_to(html_dir)
        is_chapter = rel.parts[:2] == ("book", "chapters") and re.match(r"\d\d_", page.name) is not None
        shot = screenshots / (str(rel).replace("/", "_") + ".png") if screenshots else None
        report[str(rel)] = check_dom(render(page, shot), is_chapter, needs_layout=page.name == "claims.html")
    return report


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("html_dir", type=Path)
    ap.add_argument("--screenshots", type=Path, default=None)
    args = ap.parse_args(argv)
    report = check_site(args.html_dir, args.screenshots)
    bad = {k: v for k, v in report.items() if v}
    for page, problems in report.items():
        print(f"{'FAIL' if problems else 'ok  '} {page}" + (": " + "; ".join(problems) if problems else ""))
    n_chapters = sum(1 for k in report if re.search(r"chapters/\d\d_", k))
    print(f"{len(report) - len(bad)} passed, {len(bad)} failed ({n_chapters} chapter pages)")
    return 1 if bad or n_chapters == 0 else 0


if __name__ == "__main__":
    sys.exit(main())
