"""One read of an evolution for the report: the store's rows, the run's ladder settings and the numbers derived from
them with the evolution's own code (fitness, confidence and leaderboard through genesys.evolution.snapshot, per-task
scores through genesys.evolution.scoring). This is the report's only I/O besides writing files."""
from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Dict, List, Optional

from genesys.evolution.population import ladder_points
from genesys.evolution.scoring import population_fitness, population_rows
from genesys.evolution.snapshot import confidences, leaderboard, records_of, take_snapshot
from genesys.evolution.store import Store
from genesys.evolution.store.engine import resolve_url

PROXY_RUNG = "proxy"


@dataclass(frozen=True)
class RunView:
    """The three settings the snapshot functions read (rungs, confidence points, selection's fitness method and
    margin), from the run's composed config when it is there, else inferred from the store."""
    rungs: List[str]
    points: Dict[str, float]
    selection: dict = field(default_factory=dict)


@dataclass
class RunData:
    title: str
    run_dir: Optional[Path]          # the run folder (None when only a store URL was given)
    store_url: str
    view: RunView
    designs: list                    # DesignRow, insertion order
    verifications: list              # VerificationRow
    events: list                     # EventRow
    sessions: list                   # SessionRow
    fitness: Dict[str, float]
    confidence: Dict[str, float]
    leaderboard: List[dict]
    noise: dict

    @property
    def seeds(self) -> List[str]:
        return [d.name for d in self.designs if d.is_seed]

    @property
    def order(self) -> List[str]:
        """The new designs in the order they were made."""
        return [d.name for d in self.designs if not d.is_seed]

    def records(self, before=None) -> List[dict]:
        """Records of finished verifications (all seeds), optionally only those finished before a time."""
        done = [v for v in self.verifications if before is None or (v.finished_at and v.finished_at < before)]
        return records_of(done)

    def online_fitness(self, t: int) -> Dict[str, float]:
        """The fitness known when the (t+1)-th new design was made: records finished before it (all at the end)."""
        new = [d for d in self.designs if not d.is_seed]
        before = new[t].created_at if t < len(new) else None
        return population_fitness(self.records(before), method=self.view.selection.get("fitness", "eq1"),
                                  margin=self.view.selection.get("margin", 0.02))

    def scores(self) -> list:
        """Seed-averaged per-task scores (genesys.evaluate.fitness.Score rows) of every design at every rung."""
        return population_rows(self.records())


def _hydra_config(run_dir: Path) -> Optional[dict]:
    path = run_dir / ".hydra" / "config.yaml"
    if not path.exists():
        return None
    from omegaconf import OmegaConf
    return OmegaConf.to_container(OmegaConf.load(path), resolve=False)


def infer_rungs(verifications) -> List[str]:
    """Without the run's config: the proxy rung first, then rungs by how many designs they verified, most first (a
    ladder narrows as it climbs), ties by name."""
    counts: Dict[str, int] = {}
    for v in verifications:
        counts[v.rung] = counts.get(v.rung, 0) + (v.seed == 0)
    return sorted(counts, key=lambda r: (r != PROXY_RUNG, -counts[r], r))


def run_view(run_dir: Optional[Path], verifications, fitness_method: Optional[str] = None) -> RunView:
    cfg = _hydra_config(run_dir) if run_dir is not None else None
    if cfg and cfg.get("ladder"):
        ladder = cfg["ladder"]
        rungs = ([PROXY_RUNG] if ladder.get("proxy_rung") else []) + list(ladder.get("scales") or [])
        points = {r: float(v) for r, v in (ladder.get("points") or {}).items() if r in rungs}
        selection = dict(cfg.get("selection") or {})
    else:
        rungs, points, selection = infer_rungs(verifications), {}, {}
    extra = [r for r in infer_rungs(verifications) if r not in rungs]   # rungs the config does not name
    rungs = rungs + extra
    points = {**ladder_points(rungs), **points}
    if fitness_method:
        selection["fitness"] = fitness_method
    return RunView(rungs, points, selection)


def locate(target: str) -> tuple:
    """(run folder or None, store URL) for a run folder, an SQLite file or a database URL."""
    path = Path(target)
    if "://" not in target and not path.exists():
        raise FileNotFoundError(f"{target}: no such run folder or store file")
    if "://" not in target and path.is_dir():
        return path.resolve(), resolve_url(path)
    if "://" not in target and path.is_file():
        return path.resolve().parent if (path.parent / ".hydra").is_dir() else None, resolve_url(path)
    url = resolve_url(target)
    if url.startswith("sqlite:///"):
        db = Path(url[len("sqlite:///"):])
        if not db.is_file():
            raise FileNotFoundError(f"{target}: no such store file")
        if (db.parent / ".hydra").is_dir():
            return db.parent.resolve(), url
    return None, url


def load_run(target: str, fitness_method: Optional[str] = None) -> RunData:
    """Read everything the report shows from a run folder, an SQLite file or a store URL."""
    run_dir, url = locate(str(target))
    if url.startswith("sqlite:///") and not Path(url[len("sqlite:///"):]).is_file():
        raise FileNotFoundError(f"{target} holds no evolution.db: not an evolution run folder")
    with Store.open(url) as store:
        verifications = store.verifications()
        view = run_view(run_dir, verifications, fitness_method)
        snap = take_snapshot(store, view)
        events, sessions = store.events(), store.sessions()
        noise = store.get_state("noise") or {}
        url = store.url
    if not noise and run_dir is not None and (run_dir / "summary.json").exists():
        noise = json.loads((run_dir / "summary.json").read_text()).get("noise") or {}
    title = run_dir.name if run_dir is not None else url
    return RunData(title=title, run_dir=run_dir, store_url=url, view=view, designs=snap.designs,
                   verifications=snap.verifications, events=events, sessions=sessions, fitness=snap.fitness,
                   confidence=confidences(snap, view), leaderboard=leaderboard(snap, view), noise=noise)
