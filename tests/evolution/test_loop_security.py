"""Security of the loop: names from LLM output stay inside the run folder, and secrets stay out of the training and
checker children and out of what the store keeps. (SQL: test_store_faults; the SLURM job script:
tests/launch/test_loop_secrets; the checker's sandbox itself: tests/checker/test_sandbox.)"""
from __future__ import annotations

import pytest

from genesys.checker.sandbox import child_env as sandbox_env
from genesys.evolution.designers.base import DesignOutcome
from genesys.evolution.names import child_folder, safe_design_name
from genesys.secrets import HIDDEN, public_url, redact_config as redact
from genesys.evolution.store import Store
from genesys.evolution.workers import design_folder, store_outcome, verification_job
from genesys.gau import load_design, save_design
from genesys.paths import REPO_ROOT
from genesys.verify.job import child_env as training_env
from tests.evolution.worker_helpers import worker_settings

SECRETS = {"OPENAI_API_KEY": "sk-openai-secret", "ANTHROPIC_API_KEY": "sk-ant-secret", "S2_API_KEY": "s2-secret",
           "GITHUB_TOKEN": "ghp-secret", "AWS_SECRET_ACCESS_KEY": "aws-secret", "MY_DB_PASSWORD": "pw-secret",
           "GENESYS_STORE_URL": "postgresql://u:store-secret@db/x", "PGPASSWORD": "pg-secret"}
ESCAPES = ["../../escaped", "/etc/evil", "..", ".", "a/../../b", "..\\..\\x", "x\0y", "", "~root", "-rf", ".hidden"]


@pytest.mark.parametrize("name", ESCAPES)
def test_llm_design_names_become_plain_folder_names(tmp_path, name):
    safe = safe_design_name(name)
    assert safe and safe not in (".", "..") and "/" not in safe and "\\" not in safe and not safe.startswith((".", "-"))
    assert child_folder(tmp_path, safe).resolve().parent == tmp_path.resolve()


@pytest.mark.parametrize("name", ["../../escaped", "/etc/evil", "..", ".", "a/b", "..\\x", "x\0y", ""])
def test_design_folders_refuse_names_that_leave_the_run_folder(tmp_path, name):
    settings = worker_settings(tmp_path / "run", "sqlite:///unused.db", tmp_path)
    with pytest.raises(ValueError):
        design_folder(settings, name)
    with pytest.raises(ValueError):
        child_folder(tmp_path / "run" / "verify", name)


def test_stored_outcome_with_hostile_name_is_written_inside_the_run_folder(tmp_path):
    settings = worker_settings(tmp_path / "run", f"sqlite:///{tmp_path / 'store.db'}", tmp_path)
    tree = load_design(REPO_ROOT / "seeds" / "gpt2")
    with Store.open(settings.store_url) as store:
        sid = store.start_session("designer", "d0", {})
        for i, name in enumerate(ESCAPES):
            stored = store_outcome(store, settings, DesignOutcome(tree=tree, name=name, mode="scratch",
                                                                  struct_hash=f"h{i}"), i, sid)
            expected = safe_design_name(name or tree.name)   # no name: the tree's own
            assert stored == expected or stored.startswith(expected + "-")
            row = store.design(stored)
            folder = design_folder(settings, stored)
            assert (folder / "metadata.yaml").exists()
            assert folder.resolve().parent == (settings.run_dir / "designs").resolve()
            assert verification_job(settings, row, "cpu_xs", 0).run_dir.resolve().parent.parent == \
                (settings.run_dir / "verify").resolve()
    outside = [p for p in tmp_path.rglob("*") if p.is_file() and not p.resolve().is_relative_to(tmp_path.resolve())]
    assert not outside and not (tmp_path / "escaped").exists() and not (tmp_path.parent / "escaped").exists()


def test_unit_names_that_are_not_identifiers_are_refused_before_anything_is_written(tmp_path):
    tree = load_design(REPO_ROOT / "seeds" / "gpt2")
    tree.units["../../evil"] = tree.units.pop(tree.root)
    tree.root = "../../evil"
    with pytest.raises(ValueError, match="not Python identifiers"):
        save_design(tree, tmp_path / "design")
    assert not list(tmp_path.rglob("*.py")) and not (tmp_path / "design").exists()


def test_training_and_checker_children_get_no_secrets(monkeypatch, tmp_path):
    for key, value in SECRETS.items():
        monkeypatch.setenv(key, value)
    monkeypatch.setenv("WANDB_API_KEY", "wandb-key")              # the training child logs to W&B with it
    monkeypatch.setenv("TOKENIZERS_PARALLELISM", "false")         # not a secret, though it says TOKEN
    train = training_env()
    check = sandbox_env(str(tmp_path), 1)
    for env in (train, check):
        assert not set(SECRETS) & set(env)
        assert not any(v in value for v in SECRETS.values() for value in env.values())
    assert train["WANDB_API_KEY"] == "wandb-key" and train["TOKENIZERS_PARALLELISM"] == "false"
    assert "WANDB_API_KEY" not in check                            # the checker's child needs no key at all


def test_config_secrets_and_url_passwords_are_hidden_before_the_store_keeps_them(tmp_path):
    designer = {"kind": "llm", "model": "gpt-4o", "api_key": "sk-live", "llm": {"openai_token": "tok", "n": 3},
                "endpoints": ["postgresql://user:hunter2@db:5432/x"], "max_tokens": 4096, "api_key_env": None}
    hidden = redact(designer)
    assert hidden["api_key"] == HIDDEN and hidden["llm"]["openai_token"] == HIDDEN and hidden["llm"]["n"] == 3
    assert "hunter2" not in repr(hidden) and hidden["model"] == "gpt-4o" and hidden["api_key_env"] is None
    assert hidden["max_tokens"] == 4096
    assert public_url("postgresql+psycopg://u:hunter2@db/x") == "postgresql+psycopg://u:***@db/x"
    assert public_url("sqlite:////tmp/run/evolution.db") == "sqlite:////tmp/run/evolution.db"
    with Store.open(tmp_path) as store:
        store.start_session("designer", "d0", {"designer": hidden})
        assert "sk-live" not in repr(store.sessions()) and "hunter2" not in repr(store.sessions())
