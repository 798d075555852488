"""Serves the fake Anthropic API (``FakeAnthropic(realistic=True)``) for a process
outside pytest, such as the extension's end-to-end scenarios:

    python tests/support/serve_fake_anthropic.py [--delay SECONDS]

prints one JSON line, ``{"base_url": ..., "api_key": ...}``, then answers until its
stdin closes (the parent ended) or it gets SIGTERM. ``--delay`` holds each
``/v1/messages`` answer that long, so a run's progress stays on screen long enough to
be seen. The key is the tests' ``TEST_API_KEY``, not a secret.
"""

from __future__ import annotations

import argparse
import json
import signal
import sys
import threading
from typing import Any

from fake_anthropic import MESSAGES_PATH, FakeAnthropic, Scripted

# Delayed answers queued up front: more than any scenario sends.
QUEUED_ANSWERS = 200


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--delay", type=float, default=0.0, help="seconds to hold each /v1/messages answer")
    parser.add_argument("--seed", type=int, default=0, help="the seed of the replies' spread")
    args = parser.parse_args()

    done = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: done.set())
    with FakeAnthropic(realistic=True, seed=args.seed) as fake:
        if args.delay > 0:
            fake.enqueue(*(Scripted(200, delay=args.delay, path=MESSAGES_PATH) for _ in range(QUEUED_ANSWERS)))
        print(json.dumps({"base_url": fake.base_url, "api_key": fake.api_key}), flush=True)

        def wait_for_stdin_to_close() -> None:
            sys.stdin.read()
            done.set()

        threading.Thread(target=wait_for_stdin_to_close, daemon=True).start()
        done.wait()
        served: list[Any] = fake.requests_to(MESSAGES_PATH)
        print(f"fake Anthropic API: {len(served)} messages served", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
