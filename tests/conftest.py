"""Test-wide settings: everything offline, outputs and caches in a per-session temp folder."""
import os
import tempfile

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("HF_DATASETS_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
os.environ.setdefault("WANDB_MODE", "offline")
os.environ.setdefault("WANDB_SILENT", "true")
os.environ.setdefault("LITELLM_LOCAL_MODEL_COST_MAP", "True")
os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")
_session_dir = tempfile.mkdtemp(prefix="genesys-tests-")
os.environ.setdefault("GENESYS_OUTPUTS", os.path.join(_session_dir, "outputs"))
os.environ.setdefault("GENESYS_CACHE", os.path.join(_session_dir, "cache"))
