"""Checker options: conf/check/default.yaml, overridden Hydra-style (`key=value`, dotted keys) or by dict."""
from __future__ import annotations

from typing import Iterable, Mapping, Optional

from omegaconf import OmegaConf
from omegaconf.errors import OmegaConfBaseException

from genesys.paths import CONF_DIR

DEFAULT_FILE = CONF_DIR / "check" / "default.yaml"


class ConfigError(ValueError):
    """An unknown key or a malformed override."""


def load_config(dotlist: Iterable[str] = (), overrides: Optional[Mapping] = None) -> dict:
    """Defaults, then `key=value` overrides, then a (possibly nested) mapping. Unknown keys are an error."""
    base = OmegaConf.load(DEFAULT_FILE)
    OmegaConf.set_struct(base, True)
    try:
        cfg = OmegaConf.merge(base, OmegaConf.from_dotlist(list(dotlist)))
        if overrides:
            cfg = OmegaConf.merge(cfg, OmegaConf.create(dict(overrides)))
    except OmegaConfBaseException as exc:
        raise ConfigError(str(exc).splitlines()[0]) from None
    out = OmegaConf.to_container(cfg, resolve=True)
    if len(out["causality"]["lengths"]) < 2:
        raise ConfigError("causality.lengths needs at least 2 lengths")
    return out
