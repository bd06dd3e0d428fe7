import os

import pytest

from tests.agents.server import ScriptedServer

os.environ.setdefault("LITELLM_LOCAL_MODEL_COST_MAP", "True")


@pytest.fixture
def scripted_server():
    """A scripted OpenAI-compatible server; set `.responder` in the test (default: echo the last message)."""
    server = ScriptedServer(lambda body: "echo: " + body["messages"][-1]["content"]).start()
    yield server
    server.stop()
