"""The report folder: self-contained, escaped, confined to its folder; rendered in headless Chromium, where the
leaderboard sorts and every link and image resolves to a file of the report."""
import json
import os
import re
import shutil
import subprocess
from html.parser import HTMLParser
from pathlib import Path
from urllib.parse import unquote, urlsplit

import pytest

from genesys.report.__main__ import main
from genesys.report.html import slug
from tests.report.synthetic import HOSTILE, NEW

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
needs_chromium = pytest.mark.skipif(CHROMIUM is None, reason="headless Chromium not installed "
                                    "(Debian: apt-get install -y chromium)")


@pytest.fixture(scope="module")
def report(run_dir, tmp_path_factory):
    out = tmp_path_factory.mktemp("report") / "out"
    assert main([str(run_dir), "--out", str(out), "--top", "3", "--every", "2"]) == 0
    return out


class Links(HTMLParser):
    def __init__(self):
        super().__init__()
        self.links, self.rows = [], []

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        for key in ("href", "src"):
            if a.get(key):
                self.links.append(a[key])


def dump_dom(url: str) -> str:
    result = subprocess.run([CHROMIUM, "--headless", "--no-sandbox", "--disable-gpu", "--dump-dom", url],
                            capture_output=True, text=True, timeout=60)
    assert result.returncode == 0, result.stderr[-2000:]
    return result.stdout


def resolve(page: Path, link: str, root: Path):
    """The file a relative link of ``page`` opens (None for an in-page anchor); fails for absolute URLs."""
    parts = urlsplit(link)
    assert not parts.scheme and not parts.netloc, f"{page.name}: non-relative link {link!r}"
    if not parts.path:
        return None
    target = (page.parent / unquote(parts.path)).resolve()
    assert target.is_relative_to(root.resolve()), f"{page.name}: {link!r} leaves the report"
    return target


def test_the_folder_holds_index_plots_and_one_page_per_design(report):
    pages = sorted(p.name for p in (report / "designs").iterdir())
    assert len(pages) == len(NEW) + 2 and slug(HOSTILE) in pages
    assert all(p.suffix in (".png", ".svg") for p in (report / "plots").iterdir())
    metrics = json.loads((report / "metrics.json").read_text())
    assert metrics["parameters"]["top"] == 3 and metrics["error_rate"]["errored"] == 2
    assert metrics["designers"]["symbolic"]["requests"] == len(NEW) + 1


def test_llm_text_is_escaped_everywhere(report):
    for page in [report / "index.html", *(report / "designs").iterdir()]:
        text = page.read_text()
        assert "<script>alert" not in text and "<b>proposal" not in text and "<i>slow" not in text
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in (report / "designs" / slug(HOSTILE)).read_text()


def test_a_page_name_never_leaves_the_folder():
    for name in (HOSTILE, "/etc/passwd", "..", ".hidden", "a/b\\c", "x" * 500, ""):
        s = slug(name)
        assert "/" not in s and "\\" not in s and not s.startswith(".") and len(s) < 90
    assert slug("a/b") != slug("a_b")


def test_a_missing_run_is_an_error_not_an_empty_report(tmp_path, capsys):
    assert main([str(tmp_path / "nothing-here")]) == 2
    assert not (tmp_path / "nothing-here").exists()
    assert "no such run folder" in capsys.readouterr().err


def test_the_default_folder_is_inside_the_run(run_dir, tmp_path):
    run = tmp_path / "run"
    shutil.copytree(run_dir, run, ignore=shutil.ignore_patterns("report"))
    assert main([str(run), "--every", "3"]) == 0
    assert (run / "report" / "index.html").exists()


def test_every_link_resolves_in_the_files(report):
    pages = [report / "index.html", *(report / "designs").iterdir()]
    for page in pages:
        parser = Links()
        parser.feed(page.read_text())
        assert parser.links, page
        for link in parser.links:
            target = resolve(page, link, report)
            assert target is None or target.is_file(), f"{page.name}: broken link {link!r}"


@needs_chromium
def test_the_report_renders_in_chromium_sorts_and_links_resolve(report):
    root = report.resolve()
    dom = dump_dom((root / "index.html").as_uri() + "#sort=fitness-asc")
    names = re.findall(r'<td class="name" data-value="[^"]*"><a href="designs/([^"]+)"', dom)
    assert len(names) == len(NEW) + 2, "the leaderboard did not render one row per design"
    assert names[0] == slug(HOSTILE) and names[-1] == slug("graft-d"), "sort=fitness-asc did not sort"
    assert 'aria-sort="ascending"' in dom
    # the index and two design pages in the browser (a second each); test_every_link_resolves_in_the_files reads
    # every page's links from the files
    for page in (root / "index.html", root / "designs" / slug("graft-d"), root / "designs" / slug("gpt2")):
        dom = dump_dom(page.as_uri())
        assert "</table>" in dom
        parser = Links()
        parser.feed(dom)
        for link in parser.links:
            target = resolve(page, link, root)
            assert target is None or target.is_file(), f"{page.name}: broken link {link!r}"
    hostile = dump_dom((root / "designs" / slug(HOSTILE)).as_uri())
    assert "<script>alert" not in hostile and "&lt;b&gt;proposal&lt;/b&gt;" in hostile
    assert os.path.getsize(root / "index.html") > 1000


def test_a_store_url_needs_an_out_folder_and_reads_the_ladder_next_to_the_file(run_dir, tmp_path):
    url = f"sqlite:///{run_dir / 'evolution.db'}"
    assert main(["sqlite:///" + str(tmp_path / "absent.db")]) == 2     # refused, not created
    assert not (tmp_path / "absent.db").exists()
    from genesys.report.data import load_run
    run = load_run(url)
    assert run.run_dir == run_dir.resolve() and run.view.rungs == ["proxy", "cpu_xs", "cpu_s"]
    assert main([url, "--out", str(tmp_path / "r")]) == 0 and (tmp_path / "r" / "index.html").exists()
