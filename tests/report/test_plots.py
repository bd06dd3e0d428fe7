"""The four figures from a small stored evolution: written as valid, non-empty PNG and SVG files."""
import xml.etree.ElementTree as ET

from genesys.report.plots import run_plots, tree_layout

PNG_MAGIC = b"\x89PNG\r\n\x1a\n"


def test_every_figure_is_a_valid_png_and_svg(run_data, tmp_path):
    made = run_plots(run_data, tmp_path, top=3, every=2)
    assert set(made) == {"fitness", "tree", "ladder", "heatmap"}
    for png, svg in made.values():
        assert png.read_bytes().startswith(PNG_MAGIC) and png.stat().st_size > 5000
        root = ET.parse(svg).getroot()
        assert root.tag.endswith("svg") and svg.stat().st_size > 5000


def test_a_child_sits_below_its_deepest_parent():
    nodes = [{"name": "s1", "parents": []}, {"name": "s2", "parents": []}, {"name": "a", "parents": ["s1"]},
             {"name": "b", "parents": ["a", "s2"]}, {"name": "orphan", "parents": ["not-stored"]}]
    pos = tree_layout(nodes)
    assert [pos[n][1] for n in ("s1", "s2", "a", "b", "orphan")] == [0, 0, 1, 2, 0]
    xs = [pos[n][0] for n in ("s1", "s2", "orphan")]
    assert len(set(xs)) == 3 and all(0 < x < 1 for x in xs)


def test_a_run_with_nothing_measured_draws_only_what_exists(tmp_path):
    from genesys.evolution.store import Store
    from genesys.report.data import load_run
    from genesys.gau import compose, load_design
    from tests.report.synthetic import REPO

    tree = load_design(str(REPO / "seeds" / "gpt2"))
    with Store.open(tmp_path / "run") as store:
        store.add_design("gpt2", tree.to_dict(), compose(tree), "h", [], "seed", is_seed=True)
    made = run_plots(load_run(str(tmp_path / "run")), tmp_path / "plots")
    assert set(made) == {"tree"}
