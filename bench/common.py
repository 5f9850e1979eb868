"""What every part of the bench shares: the checkout, the one host, the list request, the log.

Every target is 127.0.0.1, and LIST_PATH is the request the throughput and scale tables
are about, so each module names them the same way.
"""

from __future__ import annotations

import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
HOST = "127.0.0.1"
LIST_PATH = "/api/events/?page_size=20"
REQUEST_TIMEOUT = 30.0


def log(message: str) -> None:
    print(f"[bench {time.strftime('%H:%M:%S')}] {message}", file=sys.stderr, flush=True)
