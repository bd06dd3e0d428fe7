"""The seed design folders present in seeds/ (each with a metadata.yaml)."""
from genesys.paths import seed_names

SEED_NAMES = seed_names()
