"""`python -m genesys` end to end at a tiny size: the seeds are verified, the symbolic designer adds designs that
passed the checker, verifiers train them on the proxy rung and a tiny LM rung, and the run ends with a leaderboard
whose designs have parents, records and fitness. Rerunning the finished run adds nothing."""
from __future__ import annotations

import json

import pytest

from genesys.evolution.store import Store
from tests.evolution.evolution_helpers import make_corpus, run_genesys, tiny_overrides

pytestmark = pytest.mark.integration


@pytest.fixture(scope="module")
def finished_run(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("evolution")
    overrides = tiny_overrides(tmp / "run", make_corpus(tmp / "corpus"), designs=2)
    proc = run_genesys(overrides)
    out, _ = proc.communicate(timeout=900)
    assert proc.returncode == 0, out[-6000:]
    return tmp / "run", overrides, out


def test_the_run_produces_a_tree_with_records_and_fitness(finished_run):
    run_dir, _, out = finished_run
    board = json.loads((run_dir / "leaderboard.json").read_text())
    names = {e["name"] for e in board}
    seeds = {e["name"] for e in board if e["is_seed"]}
    assert seeds == {"gpt2", "retnet"} and len(board) >= 4, out[-4000:]
    for entry in board:
        assert entry["rungs"] == ["proxy", "cpu_xs"], entry            # every design verified at both rungs
        assert entry["fitness"] is not None and entry["confidence"] == 2 + 1 + 2
        assert set(entry["params"]) == {"proxy", "cpu_xs"}
        assert all(set(r) == {"completed"} for r in entry["stop_reasons"].values()), entry
    for entry in board:
        if not entry["is_seed"]:
            assert entry["mode"] in ("mutation", "crossover", "scratch")
            assert entry["parents"] and set(entry["parents"]) <= names      # the tree: parents are stored designs
    assert [e["rank"] for e in board] == list(range(1, len(board) + 1))
    assert [e["fitness"] for e in board] == sorted((e["fitness"] for e in board), reverse=True)
    assert "leaderboard" in out


def test_the_store_holds_designs_attempts_and_noise(finished_run):
    run_dir, _, _ = finished_run
    store = Store.open(run_dir)
    try:
        new = [d for d in store.designs() if not d.is_seed]
        assert len(new) >= 2 and all(d.checker_report and d.checker_report["valid"] for d in new)
        assert len({d.struct_hash for d in store.designs()}) == len(store.designs())
        attempts = store.events(kind="attempt")
        assert len(attempts) >= len(new) and {a.payload["operator"] for a in attempts} >= {d.operator for d in new}
        done = store.verifications(status="done")
        assert all(v.record and v.record["stop_reason"] == "completed" for v in done)
        assert {(v.design, v.rung) for v in done if v.seed == 1} == {("gpt2", "proxy"), ("gpt2", "cpu_xs")}
        noise = store.get_state("noise")
        assert set(noise) == {"proxy", "cpu_xs"} and noise["cpu_xs"]["gpt2"]["spread"] is not None
        assert (run_dir / "designs" / new[0].name / "metadata.yaml").exists()
    finally:
        store.close()
    summary = json.loads((run_dir / "summary.json").read_text())
    assert summary["operators"] and all(op["attempts"] >= op["valid"] for op in summary["operators"].values())


def test_the_evolution_is_a_wandb_run_with_its_leaderboard(finished_run):
    run_dir, _, _ = finished_run
    board = json.loads((run_dir / "leaderboard.json").read_text())
    tables = sorted((run_dir / "wandb").rglob("leaderboard_*.table.json"))
    assert tables, "the evolution's offline W&B run holds the leaderboard table"
    table = json.loads(tables[-1].read_text())
    assert [row[1] for row in table["data"]] == [e["name"] for e in board]
    history = next((run_dir / "wandb").glob("offline-run-*evolution-*"))
    assert history.name.split("-")[-2] == run_dir.name or run_dir.name in history.name


def test_rerunning_a_finished_run_adds_nothing(finished_run):
    run_dir, overrides, _ = finished_run
    store = Store.open(run_dir)
    before = ([d.name for d in store.designs()], [(v.id, v.status) for v in store.verifications()])
    store.close()
    proc = run_genesys(overrides)
    out, _ = proc.communicate(timeout=300)
    assert proc.returncode == 0, out[-4000:]
    assert "resuming" in out
    store = Store.open(run_dir)
    after = ([d.name for d in store.designs()], [(v.id, v.status) for v in store.verifications()])
    store.close()
    assert after == before


def test_the_report_renders_in_a_browser_and_every_link_resolves(finished_run, tmp_path):
    """python -m genesys.report on a real run: index with the leaderboard and plots, a page per design, relative
    links only (the report's own tests cover escaping, sorting and metrics on a synthetic run)."""
    import re
    import shutil
    import subprocess
    import sys
    run_dir, _, _ = finished_run
    out = tmp_path / "report"
    proc = subprocess.run([sys.executable, "-m", "genesys.report", str(run_dir), "--out", str(out), "--every", "1"],
                          capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, proc.stderr[-3000:]
    board = json.loads((run_dir / "leaderboard.json").read_text())
    pngs = sorted(out.rglob("*.png"))
    assert pngs and all(p.read_bytes()[:4] == b"\x89PNG" for p in pngs)
    assert len(list(out.rglob("*.svg"))) == len(pngs)
    pages = [out / "index.html"] + sorted(p for p in out.rglob("*.html") if p.name != "index.html")
    assert len(pages) >= 1 + len(board)
    for page in pages:
        for link in re.findall(r"(?:href|src)=[\"']([^\"'#]+)", page.read_text()):
            assert not link.startswith(("http:", "https:", "/")), link
            assert (page.parent / link).resolve().exists(), (page, link)
    browser = shutil.which("chromium") or shutil.which("chromium-browser")
    if browser is None:
        pytest.skip("no chromium on this machine (apt-get install chromium)")
    dom = subprocess.run([browser, "--headless", "--no-sandbox", "--disable-gpu", "--dump-dom",
                          (out / "index.html").as_uri()], capture_output=True, text=True, timeout=120).stdout
    table = dom[dom.index('id="leaderboard"'):]
    table = table[:table.index("</table>")]
    assert table.count("<tr") == len(board) + 1, table[:3000]
    assert all(e["name"] in table for e in board)
