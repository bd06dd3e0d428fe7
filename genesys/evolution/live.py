"""The orchestrator's view of a run: designs, verifications per rung against their budget, the current best.
A live panel on a terminal (rich), a status line every 30 s otherwise (CI logs, files); the leaderboard at the end."""
from __future__ import annotations

import time
from collections import Counter
from typing import List, Optional

from rich.console import Console, Group
from rich.live import Live
from rich.table import Table

from genesys.secrets import public_url
from genesys.evolution.settings import EvolutionSettings
from genesys.evolution.snapshot import Snapshot, leaderboard, take_snapshot

LINE_EVERY_S = 30.0


def rung_table(snap: Snapshot, settings: EvolutionSettings) -> Table:
    from genesys.evolution.budget import released
    from genesys.evolution.workers import budget_of
    budget = budget_of(snap, settings)
    table = Table(title="verifications per rung", title_justify="left")
    for col in ("rung", "budget", "released", "done", "running", "pending", "failed", "extra seeds"):
        table.add_column(col, justify="right" if col != "rung" else "left")
    for rung in settings.rungs:
        counts = Counter(v.status for v in snap.verifications if v.rung == rung and v.seed == 0)
        extra = sum(1 for v in snap.verifications if v.rung == rung and v.seed != 0 and v.status == "done")
        table.add_row(rung, str(settings.budget.get(rung, "-")), str(released(budget, rung)), str(counts["done"]),
                      str(counts["running"]), str(counts["pending"]), str(counts["failed"]), str(extra))
    return table


def leaderboard_table(entries: List[dict], limit: Optional[int] = None, title: str = "leaderboard") -> Table:
    table = Table(title=title, title_justify="left")
    for col in ("#", "design", "mode", "parents", "fitness", "conf.", "rungs", "params", "stop"):
        table.add_column(col)
    for i, e in enumerate(entries[:limit] if limit else entries, 1):
        fit = "—" if e.get("fitness") is None else f"{e['fitness']:.4f}"
        size = "—"
        for rung_params in (e.get("params") or {}).values():   # the first rung that counted the whole LM
            if isinstance(rung_params, dict) and rung_params.get("total"):
                size = f"{rung_params['total'] / 1e6:.3f}M"
                break
        stops = ", ".join(sorted({s for v in (e.get("stop_reasons") or {}).values() for s in v if s})) or "—"
        table.add_row(str(i), e["name"], e.get("mode") or "", ", ".join(e.get("parents") or []) or "—", fit,
                      f"{e.get('confidence', 0):g}", ", ".join(e.get("rungs") or []) or "—", size, stops)
    return table


def summary_line(snap: Snapshot, settings: EvolutionSettings, elapsed: float) -> str:
    counts = Counter((v.rung, v.status) for v in snap.verifications)
    per_rung = " ".join(f"{r}:{counts[(r, 'done')]}" + (f"+{counts[(r, 'running')]}r" if counts[(r, 'running')] else "")
                        for r in settings.rungs)
    best = max(snap.fitness.items(), key=lambda kv: kv[1], default=None)
    best_s = f"{best[0]} {best[1]:.4f}" if best else "—"
    return (f"[{elapsed:6.0f}s] designs {len(snap.designs)} ({len(snap.new_designs)} new) | verified {per_rung} | "
            f"best {best_s}")


class LiveView:
    def __init__(self, store, settings: EvolutionSettings, console: Optional[Console]):
        self.store, self.settings, self.console = store, settings, console
        self.live: Optional[Live] = None
        self.start = time.monotonic()
        self.last_line = 0.0

    def __enter__(self):
        if self.console is not None and self.console.is_terminal:
            self.live = Live(console=self.console, refresh_per_second=1, transient=False)
            self.live.__enter__()
        return self

    def __exit__(self, *exc):
        if self.live is not None:
            self.live.__exit__(*exc)
        return False

    def refresh(self, jobs) -> None:
        if self.console is None:
            return
        now = time.monotonic()
        if self.live is None and now - self.last_line < LINE_EVERY_S:
            return
        snap = take_snapshot(self.store, self.settings)
        line = summary_line(snap, self.settings, now - self.start)
        if self.live is None:
            self.last_line = now
            self.console.print(line)
            return
        alive = sum(1 for _, j in jobs if not j.done())
        entries = leaderboard(snap, self.settings)
        self.live.update(Group(line + f" | workers alive {alive}", rung_table(snap, self.settings),
                               leaderboard_table(entries, limit=8, title="current best")))

    def final(self, errors: List[str], stop_reason: Optional[str]) -> None:
        snap = take_snapshot(self.store, self.settings)
        entries = leaderboard(snap, self.settings)
        self.console.print(summary_line(snap, self.settings, time.monotonic() - self.start))
        self.console.print(rung_table(snap, self.settings))
        self.console.print(leaderboard_table(entries))
        noise = (self.store.get_state("noise") or {})
        for rung, designs in noise.items():
            for design, n in designs.items():
                if n.get("spread") is not None:
                    fs = n.get("fitness_spread")
                    self.console.print(f"noise at {rung}: {design} over seeds {n['seeds']}: {n['metric']} spread "
                                       f"{n['spread']:.4f}" + (f", fitness spread {fs:.4f}" if fs is not None else ""))
        if stop_reason:
            self.console.print(f"[yellow]stopped early ({stop_reason}); rerun the same command to resume[/yellow]")
        for e in errors:
            self.console.print(f"[red]worker error:[/red] {e}")
        self.console.print(f"leaderboard: {self.settings.run_dir / 'leaderboard.json'}  store: {public_url(self.settings.store_url)}")
