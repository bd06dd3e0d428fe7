"""`python -m genesys.compare designs=[...]`: check each design in the sandbox, verify the valid ones in their own
processes (genesys.verify.job), and tabulate the results side by side (conf/compare.yaml). Design code never
runs in this process: the checker runs it in a sandboxed child and each verification is a child process."""
from __future__ import annotations

import json
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import List, Optional

import hydra
from hydra.core.hydra_config import HydraConfig
from omegaconf import DictConfig, OmegaConf
from rich.console import Console
from rich.table import Table

from genesys.config import slug
from genesys.paths import CONF_DIR
from genesys.verify.job import PROXY_RUNG, VerificationJob, run_verification


@dataclass
class DesignResult:
    design: str
    check: Optional[dict] = None           # the checker's JSON report
    record: Optional[dict] = None          # the verification record
    error: Optional[str] = None
    notes: List[str] = field(default_factory=list)


def check_design(design: str) -> dict:
    from genesys.checker.api import check

    return check(design).to_dict()


def forwarded_overrides(task_overrides: List[str]) -> List[str]:
    """The command-line overrides of this app that the verify config shares (the scale and eval groups)."""
    return [o for o in task_overrides if o.lstrip("+~").split("=")[0].split(".")[0] in ("scale", "eval")]


def verify_design(design: str, scale: str, eval_name: str, run_dir: Path, overrides: List[str], seed: int = 0,
                  timeout_s: Optional[float] = None) -> dict:
    """Pre-train and evaluate in a child process (streams its progress); returns the verification record."""
    rung = PROXY_RUNG if eval_name == "proxy" else scale
    job = VerificationJob(design=design, rung=rung, run_dir=run_dir, seed=seed, eval=eval_name,
                          overrides=tuple(overrides))
    result = run_verification(job, timeout_s=timeout_s, echo=True)
    if result.record is None:
        raise RuntimeError(f"verification {result.status}: {result.error}; see {result.log}")
    return result.record.to_dict()


def run(cfg, scale: str, eval_name: str, out_dir: Path, console: Console,
        forwarded: List[str] = ()) -> List[DesignResult]:
    results = []
    for design in cfg.designs:
        result = DesignResult(design)
        results.append(result)
        if cfg.run_checker:
            console.rule(f"[b]check[/b] {design}")
            result.check = check_design(design)
            verdict = "valid" if result.check["valid"] else "INVALID"
            console.print(f"{verdict}: {len(result.check['errors'])} errors, {len(result.check['warnings'])} warnings "
                          f"in {result.check['timings'].get('total', 0):.1f}s")
            for finding in result.check["errors"] + result.check["warnings"]:
                console.print(f"  [{finding['category']}] {finding['check']}: {finding['message']}", markup=False)
            if not result.check["valid"]:
                result.error = "failed the checker"
                continue
        console.rule(f"[b]verify[/b] {design} at {scale}")
        try:
            result.record = verify_design(design, scale, eval_name, out_dir / slug(design),
                                          [*forwarded, *cfg.verify_overrides], cfg.seed, cfg.timeout_s)
        except RuntimeError as exc:
            result.error = str(exc)
    return results


def _eval_summary(record: dict) -> str:
    """The evaluation tables of a record ({"local"|"paper"|"proxy": {task: {metric, <metric>: value}}}) in one cell."""
    ev = record.get("eval") or {}
    parts = []
    for section in ("local", "paper", "proxy"):
        for task, row in sorted((ev.get(section) or {}).items()):
            metric = row.get("metric")
            if metric and isinstance(row.get(metric), (int, float)):
                parts.append(f"{task} {row[metric]:.3f}")
    return "\n".join(parts) or "—"


def summary_table(results: List[DesignResult], scale: str) -> Table:
    table = Table(title=f"Compare (scale {scale})")
    for col in ("design", "check", "params", "val loss", "unigram", "bits/byte", "stop", "evaluation"):
        table.add_column(col)
    for r in results:
        check = "—" if r.check is None else ("valid" if r.check["valid"] else "invalid")
        if r.check and r.check["warnings"]:
            check += f" ({len(r.check['warnings'])} warn)"
        rec = r.record
        if rec is None:
            table.add_row(r.design, check, "", "", "", "", r.error or "", "")
            continue
        fmt = lambda x: "—" if x is None else f"{x:.3f}"  # noqa: E731
        params = rec["params"].get("total") or rec["params"].get("non_embedding")
        size = "—" if params is None else f"{params / 1e6:.2f}M" + ("" if rec["params"].get("total") else " (non-emb.)")
        table.add_row(r.design, check, size, fmt(rec["val_loss"]),
                      fmt(rec["unigram_val_loss"]), fmt(rec["val_bits_per_byte"]), rec["stop_reason"],
                      _eval_summary(rec))
    return table


@hydra.main(config_path=str(CONF_DIR), config_name="compare", version_base=None)
def main(cfg: DictConfig) -> None:
    console = Console(width=None if Console().is_terminal else 160)
    hydra_cfg = HydraConfig.get()
    out_dir = Path(hydra_cfg.runtime.output_dir)
    console.print(f"[b]Genesys compare[/b] -> {out_dir}")
    console.print(OmegaConf.to_yaml(cfg), markup=False, highlight=False)
    choices = hydra_cfg.runtime.choices  # the scale / eval config names, passed on to each verification
    results = run(cfg, choices["scale"], choices["eval"], out_dir, console,
                  forwarded_overrides(list(hydra_cfg.overrides.task)))
    (out_dir / "results.json").write_text(json.dumps([asdict(r) for r in results], indent=2, default=str))
    console.print(summary_table(results, choices["scale"]))
    console.print(f"results: {out_dir / 'results.json'}")


if __name__ == "__main__":
    main()
