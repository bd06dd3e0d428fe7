"""One rule for what is a secret, used by the training child's environment, the stored config and the LLM texts."""
from __future__ import annotations

import pytest

from genesys.secrets import HIDDEN, is_secret_name, redact_config, redact_text
from genesys.verify.job import child_env


@pytest.mark.parametrize("name", ["OPENAI_API_KEY", "S2_APIKEY", "HF_TOKEN", "AWS_SECRET_ACCESS_KEY", "db_password",
                                  "GOOGLE_APPLICATION_CREDENTIALS", "api_key", "key", "MY_SECRETS"])
def test_secret_names(name):
    assert is_secret_name(name)


@pytest.mark.parametrize("name", ["max_tokens", "TOKENIZERS_PARALLELISM", "MONKEY", "KEYBOARD", "PATH", "model",
                                  "PYTHONHASHSEED", "api_base"])
def test_names_that_only_look_like_secrets(name):
    assert not is_secret_name(name)


def test_every_consumer_follows_the_rule(monkeypatch):
    monkeypatch.setenv("OPENAI_API_KEY", "sk-long-enough-secret")
    monkeypatch.setenv("TOKENIZERS_PARALLELISM", "false-but-long-value")
    text = "key sk-long-enough-secret and false-but-long-value"
    assert redact_text(text) == "key [redacted:OPENAI_API_KEY] and false-but-long-value"
    env = child_env()
    assert "OPENAI_API_KEY" not in env and env["TOKENIZERS_PARALLELISM"] == "false-but-long-value"
    cfg = redact_config({"agents": {"api_key": "sk-x", "max_tokens": 512, "url": "postgresql://u:pw@db/x"}})
    assert cfg == {"agents": {"api_key": HIDDEN, "max_tokens": 512, "url": "postgresql://u:***@db/x"}}
