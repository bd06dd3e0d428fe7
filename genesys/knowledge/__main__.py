"""`python -m genesys.knowledge query="..." [k=5] [sources=library,units] [knowledge=online] [json=true]`"""
from __future__ import annotations

import json
import logging
import sys
import time

import hydra
from omegaconf import DictConfig, OmegaConf

import genesys.config  # noqa: F401  (registers ${genesys_*:} before the config is composed)
from genesys import paths


def _print_results(results, query: str, seconds: float, build: dict) -> None:
    from rich.console import Console
    from rich.markup import escape

    console = Console(highlight=False, soft_wrap=True)
    console.print(f"[bold]{escape(query)}[/bold]")
    for i, r in enumerate(results, 1):
        year = f" ({r.year})" if r.year else ""
        console.print(f"{i:>2}. [cyan]\\[{r.source}][/cyan] [bold]{escape(r.id)}[/bold]  {escape(r.title)}{year}"
                      f"  [dim]score {r.score:.3f}[/dim]")
        if r.url:
            console.print(f"    [dim]{escape(r.url)}[/dim]")
    note = " (index built)" if any(b.get("built") for b in build.values()) else ""
    console.print(f"[dim]{len(results)} results in {seconds * 1000:.0f} ms{note}[/dim]")


@hydra.main(config_path=str(paths.CONF_DIR), config_name="search", version_base=None)
def main(cfg: DictConfig) -> None:
    from genesys.knowledge.engine import KnowledgeEngine

    logging.basicConfig(level=logging.INFO if cfg.get("verbose") else logging.WARNING, stream=sys.stderr,
                        format="%(levelname)s %(name)s: %(message)s")
    sources = cfg.get("sources")
    if sources is not None and not isinstance(sources, str):
        sources = list(OmegaConf.to_container(sources))
    engine = KnowledgeEngine(cfg.knowledge)
    t0 = time.perf_counter()
    results = engine.search(str(cfg.query), k=int(cfg.k), sources=sources)
    seconds = time.perf_counter() - t0
    if cfg.get("json"):
        print(json.dumps({"query": cfg.query, "seconds": seconds, "results": [r.to_dict() for r in results]},
                         indent=1, default=str))
    else:
        _print_results(results, str(cfg.query), seconds, engine.last_build)


if __name__ == "__main__":
    main()
