"""The evaluation step of a verification, driven by the `eval` config group (conf/eval/*.yaml):

- local: offline lm-eval tasks built from the held-out split (+ the proxy suite when `proxy.enabled`)
- paper: the original Genesys task list through lm-eval (needs the HF hub)
- proxy: the synthetic proxy suite alone, no LM pre-training (the cheapest rung; genesys.verify.proxy_rung)
- none:  nothing
Results are tables in the format `fitness.rows_from_table` reads, so fitness can be recomputed later.
"""
from __future__ import annotations

import logging
import time
from pathlib import Path
from typing import Optional

from omegaconf import DictConfig, OmegaConf

log = logging.getLogger(__name__)


def proxy_device(name: Optional[str]) -> str:
    """"auto": the GPU when there is one (one process), else the CPU (one worker process per core)."""
    if name in (None, "auto"):
        import torch
        return "cuda" if torch.cuda.is_available() else "cpu"
    return str(name)


def proxy_table(eval_cfg: DictConfig, tree) -> dict:
    """The proxy suite's table for a design (one row per task), with the settings of `eval_cfg.proxy`."""
    from genesys.evaluate.proxy import TrainSettings, run_proxy_suite
    p = eval_cfg.proxy
    settings = TrainSettings(**OmegaConf.to_container(p.train, resolve=True))
    overrides = OmegaConf.to_container(p.overrides, resolve=True) if p.get("overrides") else {}
    return run_proxy_suite(tree, settings, tasks=list(p.tasks), difficulty=p.difficulty, overrides=overrides,
                           device=proxy_device(p.get("device", "cpu")), workers=p.get("workers", 1),
                           steps=OmegaConf.to_container(p.steps) if p.get("steps") else None,
                           step_scale=p.get("step_scale", 1.0),
                           batch_sizes=OmegaConf.to_container(p.batch_sizes) if p.get("batch_sizes") else None,
                           repeats=int(p.get("repeats", 1)))


def format_table(title: str, table: dict) -> str:
    lines = [title]
    for task, row in sorted(table.items()):
        metric = row.get("metric")
        value = row.get(metric) if metric else None
        extra = f"  (random {row['random_baseline']:.3f})" if row.get("random_baseline") is not None else ""
        shown = f"{metric} {value:.4f}" if value is not None else ", ".join(
            f"{k} {v:.4f}" for k, v in row.items() if isinstance(v, float))
        lines.append(f"  {task:<28} {shown}{extra}")
    return "\n".join(lines)


def evaluate_trained(eval_cfg: DictConfig, lm, tokenizer, data, run_dir, tree, context: int) -> Optional[dict]:
    """Evaluate a trained LM as the config says; prints and returns {"local"|"paper"|"proxy": table}."""
    if eval_cfg.kind == "none":
        return None
    from genesys.evaluate.adapter import GenesysEvalLM
    from genesys.evaluate import harness
    result, start = {}, time.perf_counter()
    adapter = GenesysEvalLM(model=lm, tokenizer=tokenizer, max_length=context, batch_size=eval_cfg.batch_size,
                            device=str(next(lm.parameters()).device))
    if eval_cfg.kind == "local":
        from genesys.evaluate.local_tasks import LocalTaskSettings, build_local_tasks
        split = eval_cfg.local.split if eval_cfg.local.split in data.meta else "validation"
        settings = LocalTaskSettings(**{k: v for k, v in eval_cfg.local.items() if k != "split"})
        task_dir = Path(run_dir) / "eval_tasks"
        build_local_tasks(data.documents(split), task_dir, tokenizer, settings)
        result["local"] = harness.run_local(adapter, task_dir, limit=eval_cfg.limit)
    elif eval_cfg.kind == "paper":
        table = harness.run_paper(adapter, list(eval_cfg.tasks), limit=eval_cfg.limit)
        baselines = OmegaConf.to_container(eval_cfg.random_baselines, resolve=True)
        for task, row in table.items():
            if task in baselines:
                row.update(metric="acc", random_baseline=baselines[task], higher_is_better=True)
        result["paper"] = table
    lm.train()
    if eval_cfg.get("proxy") and eval_cfg.proxy.enabled:
        result["proxy"] = proxy_table(eval_cfg, tree)
    result["seconds"] = round(time.perf_counter() - start, 2)
    for name in ("local", "paper", "proxy"):
        if name in result:
            text = format_table(f"evaluation [{name}] {tree.name}", result[name])
            print(text, flush=True)  # once, on stdout (the record keeps the tables)
    return result
