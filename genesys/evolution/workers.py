"""The two kinds of worker process the orchestrator starts (submitit jobs, local or on SLURM).

A designer worker loops: snapshot -> choose mode and parents -> designer.design(request) -> store the design and
every attempt. A verifier worker loops: re-queue expired leases -> claim a verification (a re-queued one, a
replicate seed of a rung that averages several, a noise repeat, or selection's choice) -> run it in a child process
while heartbeating the lease -> store the record.
Neither holds a database transaction while it works: every store call is its own short transaction.
"""
from __future__ import annotations

import logging
import os
import random
import signal
import time
from contextlib import closing, contextmanager
from pathlib import Path
from typing import Optional

from genesys.evolution import selection
from genesys.evolution.budget import budget_from_counts
from genesys.evolution.design_context import StoreDesignContext
from genesys.evolution.designers import DesignRequest, Parent
from genesys.evolution.names import child_folder, safe_design_name
from genesys.evolution.runfolder import RunFolderError, check_run_folder
from genesys.evolution.settings import EvolutionSettings, derive_seed
from genesys.evolution.snapshot import Snapshot, take_snapshot
from genesys.evolution.stats import operator_stats
from genesys.gau import GAUTree, save_design
from genesys.secrets import redact_config
from genesys.verify.job import PROXY_RUNG, VerificationJob, die_with_parent, run_verification
from genesys.verify.zygote import Zygote, ZygoteError

log = logging.getLogger(__name__)

STOP_KEY = "stop"                       # state: {"reason": ...} when the orchestrator asks workers to stop
DESIGNERS_DONE_KEY = "designers_done"   # state: true once no designer will add designs
OWNER_KEY = "orchestrator"              # state: {"token", "seen"}: the orchestrator in charge and when it last looked


def owner_alive(store, settings: EvolutionSettings) -> bool:
    """Workers belong to the orchestrator that started them: a local one must still run (submitit's local controller
    outlives it); any one must still be the run's orchestrator (a rerun took over: its token replaced ours) and, where
    `owner_timeout_s` is set (SLURM workers on other nodes), must have been seen recently."""
    if settings.owner_pid is not None:
        try:
            os.kill(settings.owner_pid, 0)
        except ProcessLookupError:
            return False
        except PermissionError:
            pass
    owner = store.get_state(OWNER_KEY) if settings.run_token else None
    if owner:
        if owner.get("token") != settings.run_token:
            return False
        if settings.owner_timeout_s and time.time() - float(owner.get("seen", 0)) > settings.owner_timeout_s:
            return False
    return True


def slurm_job_id() -> Optional[str]:
    """This worker's SLURM job ("123" or "123_4" in an array), or None outside SLURM."""
    array, task = os.environ.get("SLURM_ARRAY_JOB_ID"), os.environ.get("SLURM_ARRAY_TASK_ID")
    return f"{array}_{task}" if array and task else os.environ.get("SLURM_JOB_ID")


@contextmanager
def worker_session(store, kind: str, worker: str, config: dict):
    """A worker's session row: ended "done", "interrupted" (Ctrl-C, a stop signal) or "crashed" (logged), and the
    store closed, whatever happens inside."""
    session, status = store.start_session(kind, worker, config), "done"
    try:
        yield session
    except KeyboardInterrupt:
        status = "interrupted"
        raise
    except Exception:
        status = "crashed"
        log.exception("%s %s crashed", kind, worker)
        raise
    finally:
        store.end_session(session, status)
        store.close()


def _interrupt(signum, frame):
    raise KeyboardInterrupt(f"signal {signum}")


def stop_on_sigterm() -> None:
    """SIGTERM ends this process the way Ctrl-C does: a worker hands its claim back at once, closes its design
    ticket and ends its session "interrupted". SLURM sends SIGTERM on scancel, preemption and at the time limit,
    and submitit only logs it; without this a cancelled worker went on (and even started new work) until the
    SIGKILL that follows, and its claim waited for the lease to expire."""
    signal.signal(signal.SIGTERM, _interrupt)


def handle_worker_signals() -> None:
    """A worker ends as on Ctrl-C on SIGTERM, including the one its parent's death sends (local workers end with
    the orchestrator; its rerun re-queues their work)."""
    die_with_parent(signal.SIGTERM)
    stop_on_sigterm()


def stop_requested(store, settings: Optional[EvolutionSettings] = None) -> Optional[str]:
    if settings is not None and not owner_alive(store, settings):
        return "orchestrator gone"
    stop = store.get_state(STOP_KEY)
    return stop.get("reason") if stop else None


def design_folder(settings: EvolutionSettings, name: str) -> Path:
    """<run>/designs/<name>; ValueError for a name that would lead anywhere else."""
    return child_folder(settings.run_dir / "designs", name)


def materialise(settings: EvolutionSettings, row) -> Path:
    """The design's folder for a verification child: the seed's own folder, or the stored tree written out."""
    if row.meta and row.meta.get("path"):
        return Path(row.meta["path"])
    folder = design_folder(settings, row.name)
    if not (folder / "metadata.yaml").exists():
        save_design(GAUTree.from_dict(row.tree), folder)
    return folder


# ----------------------------------------------------------------------------------------------- designers
def operator_memory(store) -> dict:
    """`w_mem`: what each operator's earlier attempts gave (attempts, valid), for the designer to weigh."""
    stats = operator_stats([e.payload for e in store.events(kind="attempt")], [], {})
    return {op: {"attempts": s["attempts"], "valid": s["valid"]} for op, s in stats.items()}


def build_request(store, snap: Snapshot, settings: EvolutionSettings, rng: random.Random, request_seed: int,
                  context=None):
    rows = {d.name: d for d in snap.designs}
    candidates = [c for c in snap.candidates if not c.failed and (c.is_seed or not settings.base)]
    n_implemented = len([c for c in candidates if not c.is_seed])
    sel = settings.selection
    mode = selection.choose_mode(n_implemented, rng, probs=sel.get("modes"), unlock=sel.get("unlock"))
    choice = selection.choose_parents(candidates, mode, rng, settings.points, good_frac=sel.get("good_frac", 0.25),
                                      confident_frac=sel.get("confident_frac", 0.25),
                                      explore_prob=sel.get("explore", 0.2), restart_prob=sel.get("restart", 0.05),
                                      wo_exp=bool(sel.get("wo_exp", False)))
    parents = [Parent(n, GAUTree.from_dict(rows[n].tree), snap.fitness.get(n)) for n in choice.parents]
    library = [GAUTree.from_dict(d.tree) for d in snap.designs if d.is_seed or not settings.base]
    return DesignRequest(mode=mode, parents=parents, seed=request_seed, library=library,
                         is_known=lambda h: store.name_for_hash(h) is not None, max_attempts=settings.max_attempts,
                         memory=operator_memory(store) if settings.memory else None, context=context)


def _unique_name(store, name: str) -> str:
    candidate, k = name, 2
    while store.design(candidate) is not None:
        candidate, k = f"{name}-{k}", k + 1
    return candidate


def store_outcome(store, settings: EvolutionSettings, outcome, ticket: int, session_id: int) -> Optional[str]:
    """Record every attempt, then the design (if any). Returns the stored name, or None."""
    from genesys.evolution.store import DuplicateDesign
    from genesys.gau import compose
    for a in outcome.attempts:
        store.event("attempt", {"ticket": ticket, "mode": outcome.mode, "operator": a.operator, "valid": a.valid,
                                "reason": a.reason, "seconds": round(a.seconds, 3), "parents": outcome.parents},
                    session_id=session_id)
    if outcome.tree is None:
        store.event("design_none", {"ticket": ticket, "mode": outcome.mode, "parents": outcome.parents,
                                      "attempts": len(outcome.attempts)}, session_id=session_id)
        return None
    tree = outcome.tree.copy()
    tree.name = _unique_name(store, safe_design_name(outcome.name or tree.name))
    try:
        store.add_design(tree.name, tree.to_dict(), compose(tree), outcome.struct_hash, outcome.parents, outcome.mode,
                         operator=outcome.operator, proposal=outcome.proposal, review=outcome.review,
                         checker_report=outcome.checker_report, session_id=session_id,
                         meta={"ticket": ticket, "attempts": len(outcome.attempts), "cost_usd": outcome.cost_usd,
                               "rating": tree.rating})
    except DuplicateDesign as exc:     # another designer stored the same design meanwhile
        store.event("duplicate", {"ticket": ticket, "name": tree.name, "error": str(exc)}, session_id=session_id)
        return None
    save_design(tree, design_folder(settings, tree.name))
    store.event("design", {"ticket": ticket, "name": tree.name, "mode": outcome.mode, "operator": outcome.operator,
                           "parents": outcome.parents}, session_id=session_id)
    return tree.name


def designer_worker(settings: EvolutionSettings, index: int) -> dict:
    """Design until the target count of new designs is stored or a stop is requested."""
    from hydra.utils import instantiate

    from genesys.evolution.store import DESIGN_ABANDONED, Store
    handle_worker_signals()
    store = Store.open(settings.store_url)
    designer = instantiate({k: v for k, v in settings.designer.items() if k != "kind"})
    worker = f"designer-{index}-{settings.run_token}"
    made = 0
    run_start = max([e.id for e in store.events(kind="run_start")], default=0)
    with worker_session(store, "designer", worker, {"designer": redact_config(settings.designer)}) as session:
        while not stop_requested(store, settings):
            # the target less the stored designs and those other designers of this run are working on: a run stops
            # at its target instead of overshooting by a design per designer (tickets.py)
            ticket = store.start_design(settings.stop_designs, run_start, {"worker": worker}, session_id=session)
            if ticket is None:
                if store.new_design_count() >= settings.stop_designs:
                    break
                time.sleep(settings.poll_s)      # the target may still be met by designs in progress
                continue
            try:
                snap = take_snapshot(store, settings)
                request_seed = derive_seed(settings.seed, "design", ticket, index)
                request = build_request(store, snap, settings, random.Random(request_seed), request_seed,
                                        context=StoreDesignContext(store, session, ticket, snap.fitness))
                outcome = designer.design(request)
            except KeyboardInterrupt:  # stopped mid-design: the ticket ends without a design, to be taken again
                store.event(DESIGN_ABANDONED, {"ticket": ticket}, session_id=session)
                raise
            except Exception as exc:   # close the ticket so other designers do not wait for it, then fail loudly
                store.event("design_none", {"ticket": ticket, "error": f"{type(exc).__name__}: {exc}"},
                            session_id=session)
                raise
            made += store_outcome(store, settings, outcome, ticket, session) is not None
    return {"worker": worker, "designs": made}


# ----------------------------------------------------------------------------------------------- verifiers
def budget_of(snap: Snapshot, settings: EvolutionSettings) -> dict:
    """The budget state from the store's verifications (seed 0; replicates and noise repeats are outside it):
    claimed = started and not given back (running, pending again, done, failed), completed = finished with a record."""
    claimed = {r: 0 for r in settings.rungs}
    completed = {r: 0 for r in settings.rungs}
    for v in snap.verifications:
        if v.seed != 0 or v.rung not in claimed:
            continue
        claimed[v.rung] += 1
        completed[v.rung] += v.status == "done"
    return budget_from_counts(settings.rungs, settings.budget, settings.release, claimed, completed)


def _taken(snap: Snapshot) -> set:
    """(design, rung, seed) of every verification started or settled (pending ones are claim_pending's)."""
    return {(v.design, v.rung, v.seed) for v in snap.verifications if v.status in ("done", "running", "failed")}


def replicate_target(snap: Snapshot, settings: EvolutionSettings):
    """A replicate to run at a rung that averages several training seeds per design (`ladder.replicates`): seed
    1..k-1 of a design whose seed-0 verification there is done. Scoring averages a design's seeds at a rung, so
    its score there is complete only with them; they go before new work and outside the budget (which counts the
    design once)."""
    taken, failed = _taken(snap), {d.name for d in snap.designs if d.status == "failed"}
    for v in snap.verifications:
        k = settings.replicates.get(v.rung, 1)
        if k < 2 or v.seed != 0 or v.status != "done" or v.design in failed:
            continue
        for seed in range(1, k):
            if (v.design, v.rung, seed) not in taken:
                return v.design, v.rung, seed
    return None


def noise_target(snap: Snapshot, settings: EvolutionSettings):
    """A noise repeat to run: a listed seed design, already verified with seed 0 at a noise rung, not yet with
    the extra seeds. These measure the rung's noise (spread over seeds) and are outside the budget."""
    taken = _taken(snap)
    seeds = {d.name: d for d in snap.designs if d.is_seed}
    for name in settings.noise_designs:
        if name not in seeds:
            continue
        for rung in settings.noise_rungs:
            if not snap.done(name, rung):
                continue
            for seed in settings.noise_seeds:
                if (name, rung, seed) not in taken:
                    return name, rung, seed
    return None


def verification_job(settings: EvolutionSettings, row, rung: str, seed: int) -> VerificationJob:
    """The proxy rung runs eval=proxy; LM rungs the ladder's lm_eval with its overrides; both get the shared ones."""
    folder = materialise(settings, row) if row is not None else Path("seeds/gpt2")
    lm = rung != PROXY_RUNG
    overrides = list(settings.verify_overrides)
    if lm:   # `++`: the ladder's eval settings apply whichever eval config the LM rungs run (none has no proxy node)
        overrides += ["++" + o.lstrip("+") for o in settings.lm_eval_overrides]
    return VerificationJob(design=str(folder), rung=rung, seed=seed, eval=settings.lm_eval if lm else None,
                           run_dir=child_folder(settings.run_dir / "verify", row.name if row else "-") / f"{rung}-s{seed}",
                           overrides=tuple(overrides))


class ZygoteHolder:
    """The verifier's preloaded parent (genesys.verify.zygote), started at its first verification and again after it
    died; None (a fresh interpreter per verification) when disabled, when it cannot start, or after it died twice."""

    MAX_DEATHS = 2

    def __init__(self, enabled: bool, threads: Optional[int], log: Optional[Path] = None):
        import torch
        # CUDA does not survive a fork: where a GPU is visible every verification starts afresh (its few seconds of
        # imports are noise beside a GPU run's length), and the zygote never comes near CUDA.
        enabled = enabled and not torch.cuda.is_available()
        self.enabled, self.threads, self.log, self.zygote, self.deaths = enabled, threads, log, None, 0

    def get(self):
        if not self.enabled:
            return None
        if self.zygote is not None and self.zygote.alive:
            return self.zygote
        if self.zygote is not None:              # it died since the last verification
            self.deaths += 1
            if self.deaths >= self.MAX_DEATHS:
                log.warning("the preloaded verification parent died %d times: starting each verification afresh",
                            self.deaths)
                self.zygote, self.enabled = None, False
                return None
        from genesys.verify.job import child_env
        try:
            self.zygote = Zygote(child_env(self.threads), log=self.log)
        except (ZygoteError, OSError) as exc:
            log.warning("no preloaded verification parent (%s): starting each verification afresh", exc)
            self.zygote, self.enabled = None, False
        return self.zygote

    def close(self) -> None:
        if self.zygote is not None:
            self.zygote.close()


def run_claim(store, settings: EvolutionSettings, claim, zygote=None) -> str:
    """Run one claimed verification, heartbeating its lease; store the record or the failure."""
    from genesys.evolution.store import LeaseLost
    row = store.design(claim.design)

    def heartbeat() -> bool:
        if stop_requested(store, settings):
            return False
        try:
            store.heartbeat(claim, settings.lease_s)
            return True
        except LeaseLost:
            return False

    job = None
    try:
        job = verification_job(settings, row, claim.rung, claim.seed)
        check_run_folder(job.run_dir, settings.min_free_mb)
        result = run_verification(job, timeout_s=settings.verify_timeout_s, poll=heartbeat,
                                  poll_every_s=settings.heartbeat_s, threads=settings.verify_threads, zygote=zygote)
    except ZygoteError as exc:         # the preloaded parent died under it: not the design's failure, no attempt
        log.warning("verification of %s@%s lost its preloaded parent (%s); handed back", claim.design, claim.rung, exc)
        try:
            store.release(claim)
        except LeaseLost:
            pass
        return "released"
    except BaseException as exc:       # this worker's own failure (Ctrl-C, a bug): never leave the claim running
        try:
            store.release(claim)
        except LeaseLost:
            pass
        if isinstance(exc, OSError) and job is not None:    # e.g. the log could not be written: say where
            check_run_folder(job.run_dir, settings.min_free_mb)
        if isinstance(exc, Exception) and not isinstance(exc, RunFolderError):
            log.exception("verifier could not run %s@%s", claim.design, claim.rung)
        raise
    if not result.ok:   # a full or read-only run folder is not the design's fault: hand the claim back, stop
        try:
            check_run_folder(job.run_dir, settings.min_free_mb)
        except RunFolderError:
            try:
                store.release(claim)
            except LeaseLost:
                pass
            raise
    try:
        if result.ok:
            rec = result.record.to_dict()
            store.complete(claim, rec, rec["stop_reason"], (rec.get("paths") or {}).get("wandb_run_id"))
        elif result.status == "aborted" and stop_requested(store, settings):
            store.release(claim)             # stopping: back to the queue, no attempt counted
        else:
            store.fail(claim, f"{result.status}: {result.error} (log: {result.log})")
    except LeaseLost:
        log.warning("lease of %s@%s lost while it ran; its result is dropped", claim.design, claim.rung)
        return "lease_lost"
    return result.status


def choose_target(store, settings: EvolutionSettings, rng: random.Random):
    snap = take_snapshot(store, settings)
    target = replicate_target(snap, settings) or noise_target(snap, settings)
    if target:
        return target, snap
    sel = settings.selection
    in_flight = [(v.design, v.rung) for v in snap.verifications if v.status in ("running", "pending")]
    pick = selection.choose_verification(snap.candidates, settings.rungs, budget_of(snap, settings), rng,
                                         settings.points, in_flight=in_flight, good_frac=sel.get("good_frac", 0.25),
                                         confident_frac=sel.get("confident_frac", 0.25),
                                         explore_prob=1 - sel.get("good_unconfident", 0.8),
                                         wo_exp=bool(sel.get("wo_exp", False)))
    return ((pick[0], pick[1], 0) if pick else None), snap


def verifier_worker(settings: EvolutionSettings, index: int) -> dict:
    """Verify until nothing is left to verify and no designer will add more, or a stop is requested."""
    from genesys.evolution.store import Store
    handle_worker_signals()
    store = Store.open(settings.store_url)
    worker = f"verifier-{index}-{settings.run_token}"
    job_id = slurm_job_id()
    done, step = 0, 0
    zygotes = ZygoteHolder(settings.verify_preload, settings.verify_threads,
                           settings.run_dir / "workers" / f"{worker}-zygote.log")
    with worker_session(store, "verifier", worker, {}) as session, closing(zygotes):
        while not stop_requested(store, settings):
            store.requeue_expired()
            claim = store.claim_pending(worker, settings.lease_s, job_id=job_id)
            if claim is None:
                step += 1
                target, snap = choose_target(store, settings,
                                             random.Random(derive_seed(settings.seed, "verify", index, step)))
                if target is None:
                    busy = any(v.status in ("running", "pending") for v in snap.verifications)
                    if store.get_state(DESIGNERS_DONE_KEY) and not busy:
                        break
                    time.sleep(settings.poll_s)
                    continue
                claim = store.claim(target[0], target[1], worker, settings.lease_s, seed=target[2], job_id=job_id)
                if claim is None:
                    continue
            store.event("verify_start", {"design": claim.design, "rung": claim.rung, "seed": claim.seed,
                                         "worker": worker, "slurm_job_id": job_id}, session_id=session)
            outcome = run_claim(store, settings, claim, zygotes.get())
            store.event("verify_end", {"design": claim.design, "rung": claim.rung, "seed": claim.seed,
                                       "status": outcome}, session_id=session)
            done += outcome in ("completed", "stopped")
    return {"worker": worker, "verified": done}
