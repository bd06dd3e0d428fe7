"""Every primary config composes with every option of every config group it uses, and resolves (the hydra node
aside); every ladder, the checker defaults and each experiment file (conf/experiment/*.yaml) load too."""
import pytest
from omegaconf import OmegaConf

from genesys.checker.config import load_config
from genesys.config import compose_config
from genesys.paths import CONF_DIR
from genesys.scales import load_ladder

PRIMARY = {"config": [], "verify": [], "search": ["query=x"], "compare": []}


def options(group: str):
    return sorted(p.stem for p in (CONF_DIR / group).glob("*.yaml"))


def defaults_groups(name: str):
    """The config groups a primary config's defaults list selects (not the hydra/ overrides)."""
    raw = OmegaConf.to_container(OmegaConf.load(CONF_DIR / f"{name}.yaml"))
    return [next(iter(d)) for d in raw["defaults"] if isinstance(d, dict) and not next(iter(d)).startswith("override")]


CASES = [pytest.param(name, group, option, id=f"{name}:{group}={option}")
         for name in PRIMARY for group in defaults_groups(name) for option in options(group)]


def test_every_primary_config_uses_some_groups():
    assert all(defaults_groups(name) for name in PRIMARY)
    assert len(CASES) >= 20


@pytest.mark.parametrize("name,group,option", CASES)
def test_primary_config_composes_with_each_option(name, group, option):
    cfg = compose_config(name, PRIMARY[name] + [f"{group}={option}"])
    container = OmegaConf.to_container(cfg, resolve=True)  # every interpolation resolves
    assert group in container


@pytest.mark.parametrize("launcher", options("hydra/launcher"))
def test_verify_composes_with_each_launcher(launcher):
    cfg = compose_config("verify", [f"hydra/launcher={launcher}"], hydra=True)
    assert cfg.hydra.launcher._target_


@pytest.mark.parametrize("experiment", options("experiment"))
def test_each_experiment_composes(experiment):
    cfg = compose_config("config", [f"+experiment={experiment}"])
    OmegaConf.to_container(cfg, resolve=True)


@pytest.mark.parametrize("ladder", options("ladder"))
def test_each_ladder_loads(ladder):
    assert load_ladder(ladder)


def test_checker_defaults_load():
    assert load_config()["d_model"] > 0


def test_export_config_composes():
    cfg = compose_config("export", ["design=seeds/gpt2", "run=outputs/evolution/quickstart"])
    assert OmegaConf.to_container(cfg, resolve=True)["out"].endswith("export/seeds-gpt2")
