"""Run by tests/verify/test_zygote.py inside a zygote child: reports where and how it runs, then exits as asked."""
import json
import os
import sys
import time

if __name__ == "__main__":
    print(json.dumps({"pid": os.getpid(), "sid": os.getsid(0), "cwd": os.getcwd(), "argv": sys.argv[1:],
                      "probe_env": os.environ.get("PROBE"), "secret": os.environ.get("OPENAI_API_KEY")}), flush=True)
    if "sleep" in sys.argv:
        time.sleep(60)
    sys.exit(int(sys.argv[1]) if len(sys.argv) > 1 and sys.argv[1].isdigit() else 0)
