"""The HTML report (echem.report.build, echem.report.pages) on a real workflow run, checked in a real browser.

A module fixture runs the workflow on four demo samples (two PtMG catalysts, the Pt/C
reference, one LLZO film temperature series) into a temporary folder and builds the
report. The static checks read the pages; the browser test drives headless Chromium
through chromedriver (Debian's ``chromium`` and ``chromium-driver``; ``.ci/run`` installs
them under CI, locally the test skips without them): every page loads without console
errors, the first page shows every sample, every image is decoded and every link resolves.
"""

from __future__ import annotations

import json
import os
import shutil
import socket
import subprocess
import sys
import time
import urllib.request
import warnings
from html.parser import HTMLParser
from pathlib import Path
from urllib.parse import unquote, urlparse

import pandas as pd
import pytest

from conftest import ROOT

pytestmark = [pytest.mark.workflow, pytest.mark.slow]

SNAKEMAKE = Path(sys.executable).with_name("snakemake")
SAMPLES = ("PtMG_as-cast", "PtMG_UV50J", "PtC_ref", "LLZO_750C")


@pytest.fixture(scope="module")
def run(tmp_path_factory):
    work = tmp_path_factory.mktemp("report")
    raw = work / "raw"
    for s in SAMPLES:
        shutil.copytree(ROOT / "raw" / s, raw / s)
    results = work / "results"
    cmd = [str(SNAKEMAKE), "--cores", "2", "--config", f"raw_dir={raw}", f"results_dir={results}"]
    proc = subprocess.run(cmd, capture_output=True, text=True, cwd=ROOT, timeout=900)
    assert proc.returncode == 0, proc.stderr[-4000:]
    from echem.report import build

    index = build(results)
    return {"results": results, "index": index, "report": index.parent, "log": proc.stdout + proc.stderr}


class _Links(HTMLParser):
    def __init__(self):
        super().__init__()
        self.links: list[str] = []
        self.text: list[str] = []

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        for key in ("href", "src"):
            if a.get(key):
                self.links.append(a[key])

    def handle_data(self, data):
        self.text.append(data)


def _parse(path: Path) -> _Links:
    p = _Links()
    p.feed(path.read_text(encoding="utf-8"))
    return p


def _local_target(page: Path, link: str) -> Path | None:
    u = urlparse(link)
    if u.scheme or link.startswith("#"):
        return None
    return (page.parent / unquote(u.path)).resolve()


def test_every_page_and_link_of_the_folder_resolves(run):
    report = run["report"]
    pages = sorted(report.rglob("*.html"))
    assert {p.stem for p in (report / "samples").glob("*.html")} == set(SAMPLES)
    assert {p.stem for p in (report / "series").glob("*.html")} == {"PtMG", "LLZO"}
    n_links = 0
    for page in pages:
        for link in _parse(page).links:
            target = _local_target(page, link)
            if target is not None:
                n_links += 1
                assert target.is_file(), f"{page.relative_to(report)}: broken link {link}"
                assert report.resolve() in target.parents, f"{link} leaves the report folder"
    assert n_links > 50
    # the folder stands alone: figures and tables are in it
    assert list((report / "figures" / "series" / "PtMG").glob("*_nyquist.png"))
    assert (report / "tables" / "overpotentials.csv").is_file()


def test_first_page_has_every_samples_key_numbers_rounded_with_flags(run):
    from echem.report.numbers import fmt_pm

    text = run["index"].read_text(encoding="utf-8")
    over = pd.read_parquet(run["results"] / "tables" / "overpotentials.parquet")
    for s in ("PtMG_as-cast", "PtMG_UV50J", "PtC_ref"):
        assert f'href="samples/{s}.html"' in text
        row = over[(over["sample"] == s) & (over["target_mA_cm2"] == 10)].iloc[0]
        assert fmt_pm(row["eta_mV"], row["eta_err_mV"], style="html") in text  # η10 ± its error
    arr = pd.read_parquet(run["results"] / "tables" / "arrhenius.parquet")
    for r in arr.itertuples():
        assert fmt_pm(r.Ea_eV, r.Ea_err_eV, style="html") in text
    assert 'class="flag"' in text and "extrapolated" in text  # sigma at 25 °C of the film
    # series order: untreated first, the reference last
    assert text.index("samples/PtMG_as-cast.html") < text.index("samples/PtMG_UV50J.html") \
        < text.index("samples/PtC_ref.html")
    assert 'href="series/PtMG.html"' in text and 'href="outputs.html"' in text


def test_sample_page_has_figures_warnings_and_fit_records(run):
    page = run["report"] / "samples" / "LLZO_750C.html"
    text = page.read_text(encoding="utf-8")
    assert 'id="flags"' in text and "extrapolated" in text
    assert text.count("<details><summary>[eis]") == 17 and "[arrhenius]" in text
    assert "Arrhenius" in text and "E<sub>a</sub> = " in text
    cat = (run["report"] / "samples" / "PtMG_UV50J.html").read_text(encoding="utf-8")
    for stage in ("lsv", "tafel", "ecsa", "eis"):
        assert f"figures/samples/PtMG_UV50J/{stage}/" in cat
    assert "S·s<sup>n</sup>" in cat and "Ohm^-1 sec^a" not in cat.split("raw JSON")[0]
    # the Files section: every row of the sample's manifest, cells as written, sha256 cut to 16
    import csv

    with open(run["results"] / "samples" / "PtMG_UV50J" / "manifest.csv", encoding="utf-8", newline="") as fh:
        manifest = list(csv.DictReader(fh))
    files = cat.split("<h2>Files</h2>")[1].split("<h2>")[0]
    assert len(manifest) >= 3 and files.count("<tr>") == len(manifest) + 1
    for row in manifest:
        assert f"<td>{row['file']}</td><td>{row['technique']}</td>" in files
        assert f"<code class='small'>{row['sha256'][:16]}…</code>" in files


def test_series_figures_are_drawn_without_python_warnings(run, tmp_path):
    """The comparative figures draw from the results without a warning (impedance.py's
    'Simulating circuit based on initial parameters' came from CustomCircuit.predict)."""
    from echem.plots.compare import KINDS, draw_series

    class Run:
        def warning(self, message, **kw):
            raise AssertionError(message)

        def info(self, message, **kw):
            pass

    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        for series, members in (("PtMG", ["PtMG_UV50J", "PtC_ref", "PtMG_as-cast"]), ("LLZO", ["LLZO_750C"])):
            draw_series(run["results"], series, members, tmp_path / series, ["png"],
                        {"lsv": {"targets_mA_cm2": [10, 100]}}, Run())
    assert not [str(w.message) for w in caught]
    assert "Simulating circuit" not in run["log"]
    drawn = {p.stem.split("_", 1)[1] for p in (tmp_path / "PtMG").glob("*.png")}
    assert {"polarisation", "tafel", "eta_tafel_summary", "cdl", "nyquist", "bode"} <= drawn <= set(KINDS)
    assert {p.stem for p in (tmp_path / "LLZO").glob("*.png")} == {"LLZO_nyquist", "LLZO_bode", "LLZO_arrhenius"}


def test_a_figure_group_draws_its_kinds_into_its_folder(run, tmp_path):
    """series_figures per group (the workflow's jobs): only the group's kinds, into
    figures/<series>/<group>/; the group's figures of the layout before the groups (beside the
    folders) are removed, others left; a group or folder that is not one is an error."""
    import shutil

    from echem.errors import EchemError
    from echem.plots.compare import FIGURE_GROUPS
    from echem.workflow.collect import series_figures

    results = tmp_path / "results"
    shutil.copytree(run["results"] / "samples", results / "samples")
    series_dir = results / "figures" / "PtMG"
    series_dir.mkdir(parents=True)
    for stale in ("PtMG_tafel.png", "PtMG_nyquist.png", "notes.txt"):
        (series_dir / stale).write_text("old")
    members = ["PtMG_UV50J", "PtC_ref", "PtMG_as-cast"]
    settings = {"lsv": {"targets_mA_cm2": [10, 100]}}
    series_figures(results, "PtMG", members, series_dir / "lsv", ["png"], settings, tmp_path / "lsv.log", group="lsv")
    drawn = {p.stem.split("_", 1)[1] for p in (series_dir / "lsv").glob("*.png")}
    assert {"polarisation", "tafel", "eta_tafel_summary", "cdl"} <= drawn <= set(FIGURE_GROUPS["lsv"][0])
    assert sorted(p.name for p in series_dir.iterdir() if p.is_file()) == ["PtMG_nyquist.png", "notes.txt"]
    series_figures(results, "PtMG", members, series_dir / "eis", ["png"], {}, tmp_path / "eis.log", group="eis")
    assert {p.stem for p in (series_dir / "eis").glob("*.png")} == {"PtMG_nyquist", "PtMG_bode"}
    assert sorted(p.name for p in series_dir.iterdir() if p.is_file()) == ["notes.txt"]
    with pytest.raises(EchemError, match="figure group 'tafel'"):
        series_figures(results, "PtMG", members, series_dir / "tafel", ["png"], {}, tmp_path / "x.log", group="tafel")
    with pytest.raises(EchemError, match="is not"):
        series_figures(results, "PtMG", members, series_dir, ["png"], {}, tmp_path / "x.log", group="eis")


def test_a_cut_series_says_so_on_every_figure(run, tmp_path):
    from echem.plots import compare

    texts = []

    class Run:
        def warning(self, message, **kw):
            texts.append(message)

        def info(self, message, **kw):
            pass

    old = compare.MAX_SAMPLES_PER_FIGURE
    compare.MAX_SAMPLES_PER_FIGURE = 2
    try:
        compare.draw_series(run["results"], "PtMG", ["PtMG_UV50J", "PtC_ref", "PtMG_as-cast"], tmp_path, ["svg"],
                            {"lsv": {"targets_mA_cm2": [10]}}, Run())
    finally:
        compare.MAX_SAMPLES_PER_FIGURE = old
    assert texts and "show 2" in texts[0]
    svg = (tmp_path / "PtMG_polarisation.svg").read_text(encoding="utf-8")
    assert "PtC_ref" not in svg  # the reference is last in the series' order: the one cut


# ----------------------------------------------------------------------------- browser


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class WebDriver:
    """The few W3C WebDriver calls the test needs, over chromedriver's HTTP interface."""

    def __init__(self, chromedriver: str, chromium: str):
        self.port = _free_port()
        self.proc = subprocess.Popen([chromedriver, f"--port={self.port}"], stdout=subprocess.DEVNULL,
                                     stderr=subprocess.DEVNULL)
        self.base = f"http://127.0.0.1:{self.port}"
        for _ in range(100):
            try:
                self._call("GET", "/status")
                break
            except OSError:
                time.sleep(0.1)
        caps = {"capabilities": {"alwaysMatch": {
            "browserName": "chrome",
            "goog:chromeOptions": {"binary": chromium,
                                   "args": ["--headless=new", "--no-sandbox", "--disable-gpu",
                                            "--disable-dev-shm-usage", "--allow-file-access-from-files",
                                            "--window-size=1400,1000"]},
            "goog:loggingPrefs": {"browser": "ALL"}}}}
        self.session = self._call("POST", "/session", caps)["sessionId"]

    def _call(self, method: str, path: str, body: dict | None = None):
        data = None if body is None else json.dumps(body).encode()
        req = urllib.request.Request(self.base + path, data=data, method=method,
                                     headers={"Content-Type": "application/json"})
        with urllib.request.urlopen(req, timeout=60) as resp:
            out = json.loads(resp.read() or b"{}")
        return out.get("value", out)

    def get(self, url: str) -> None:
        self._call("POST", f"/session/{self.session}/url", {"url": url})

    def script(self, code: str):
        return self._call("POST", f"/session/{self.session}/execute/sync", {"script": code, "args": []})

    def console(self) -> list[dict]:
        return self._call("POST", f"/session/{self.session}/se/log", {"type": "browser"})

    def close(self) -> None:
        try:
            self._call("DELETE", f"/session/{self.session}")
        finally:
            self.proc.terminate()
            self.proc.wait(timeout=20)


def _browser_tools() -> tuple[str, str]:
    chromium = shutil.which("chromium") or shutil.which("chromium-browser")
    chromedriver = shutil.which("chromedriver")
    if chromium and chromedriver:
        return chromium, chromedriver
    if os.environ.get("CI", "").lower() in ("1", "true", "yes"):
        pytest.fail("chromium and chromedriver are missing under CI (.ci/run installs them)")
    pytest.skip("headless Chromium not installed (apt-get install chromium chromium-driver)")


_PAGE_STATE = """
const imgs = Array.from(document.images);
return {title: document.title, text: document.body.innerText,
        images: imgs.map(i => [i.getAttribute('src'), i.complete && i.naturalWidth > 0]),
        links: Array.from(document.querySelectorAll('a[href]')).map(a => a.getAttribute('href'))};
"""


def test_report_in_a_real_browser(run):
    chromium, chromedriver = _browser_tools()
    driver = WebDriver(chromedriver, chromium)
    try:
        report = run["report"]
        pages = [run["index"], report / "warnings.html", report / "outputs.html",
                 *sorted((report / "samples").glob("*.html")), *sorted((report / "series").glob("*.html"))]
        for page in pages:
            driver.get(page.resolve().as_uri())
            # lazy images load when scrolled to: ask for all of them, wait until each is decoded
            driver.script("document.querySelectorAll('img').forEach(i => { i.loading = 'eager'; });")
            for _ in range(100):
                state = driver.script(_PAGE_STATE)
                if all(ok for _, ok in state["images"]):
                    break
                time.sleep(0.1)
            name = page.relative_to(report)
            errors = [e for e in driver.console() if e.get("level") in ("SEVERE", "ERROR")]
            assert not errors, f"{name}: console errors {errors}"
            broken = [src for src, ok in state["images"] if not ok]
            assert not broken, f"{name}: images not loaded {broken}"
            for link in state["links"]:
                target = _local_target(page, link)
                assert target is None or target.is_file(), f"{name}: link {link} does not resolve"
            if page == run["index"]:
                for s in SAMPLES:
                    assert s in state["text"], f"the first page does not show {s}"
                assert "η10 / mV" in state["text"].replace("\n", "") or "η" in state["text"]
    finally:
        driver.close()


def test_sample_yaml_order_decides_the_series_order(run, tmp_path):
    """sample.yaml ``order``: those samples first, by number, on the report's pages and in the
    figures; the others after them by role (as-cast first, references last)."""
    import json

    from echem.plots.compare import shown_members
    from echem.report import build

    results = tmp_path / "results"
    shutil.copytree(run["results"], results, symlinks=True)
    for sample, order in (("PtC_ref", 1), ("PtMG_UV50J", 2)):
        path = results / "samples" / sample / "ingest.json"
        record = json.loads(path.read_text(encoding="utf-8"))
        record["metadata"]["order"] = order
        path.write_text(json.dumps(record), encoding="utf-8")
    text = build(results).read_text(encoding="utf-8")
    assert text.index("samples/PtC_ref.html") < text.index("samples/PtMG_UV50J.html") \
        < text.index("samples/PtMG_as-cast.html")
    members = ["PtMG_as-cast", "PtMG_UV50J", "PtC_ref"]
    assert shown_members(members) == ["PtMG_as-cast", "PtMG_UV50J", "PtC_ref"]
    assert shown_members(members, {"PtC_ref": 1, "PtMG_UV50J": 2}) == ["PtC_ref", "PtMG_UV50J", "PtMG_as-cast"]
