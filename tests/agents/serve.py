"""Serve the scripted policy as an OpenAI-compatible server, for trying the LLM path offline:

    python -m tests.agents.serve --policy good --port 8765 &
    GENESYS_SCRIPTED_URL=http://127.0.0.1:8765/v1 python -m genesys designer=llm agents=scripted stop.designs=2
"""
from __future__ import annotations

import argparse
import time

from tests.agents.policy import POLICIES
from tests.agents.server import ScriptedServer


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--policy", choices=sorted(POLICIES), default="good")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8765)
    args = parser.parse_args()
    server = ScriptedServer(POLICIES[args.policy](), args.host, args.port).start()
    print(f"scripted policy {args.policy!r} at {server.url}", flush=True)
    try:
        while True:
            time.sleep(3600)
    except KeyboardInterrupt:
        server.stop()


if __name__ == "__main__":
    main()
