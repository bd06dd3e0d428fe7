"""The seed design folders present in seeds/ (each with a metadata.yaml)."""
from genesys.paths import SEEDS_DIR

SEED_NAMES = sorted(p.parent.name for p in SEEDS_DIR.glob("*/metadata.yaml"))
