"""The throughput mode's load: wrk when it is installed, otherwise Python threads.

The Python generator is CPU-bound itself and reads lower for fast servers; it is the
fallback so that the bench runs anywhere, not the way to get the README's numbers.
"""

from __future__ import annotations

import random
import re
import shutil
import subprocess
from dataclasses import dataclass
from pathlib import Path

from bench.clients import percentile, run_clients
from bench.common import HOST, LIST_PATH, REQUEST_TIMEOUT, log


@dataclass
class Load:
    requests: int
    seconds: float
    p50_ms: float
    p99_ms: float
    errors: int

    @property
    def rps(self) -> float:
        return self.requests / self.seconds if self.seconds else 0.0


WRK_SCRIPT = """
local lo, hi = %(lo)d, %(hi)d
local detail = %(detail)s
math.randomseed(%(seed)d)
request = function()
  if detail then
    return wrk.format("GET", "/api/events/" .. math.random(lo, hi) .. "/")
  end
  return wrk.format("GET", "%(list_path)s")
end
done = function(summary, latency, requests)
  local e = summary.errors
  io.write(string.format("BENCH %%d %%d %%d %%d %%d\\n", summary.requests, summary.duration,
    latency:percentile(50), latency:percentile(99),
    e.status + e.connect + e.read + e.write + e.timeout))
end
"""


class LoadGenerator:
    name = "python"

    def __init__(self, connections: int, threads: int, work_dir: Path) -> None:
        self.connections = connections
        self.threads = threads
        self.work_dir = work_dir

    def run(self, port: int, endpoint: str, ids: tuple[int, int], seconds: float) -> Load:
        def make(index: int, step: int) -> tuple[str, str, dict[str, str]]:
            if endpoint == "detail":
                return "GET", f"/api/events/{rng[index].randint(*ids)}/", {}
            return "GET", LIST_PATH, {}

        rng = [random.Random(i) for i in range(self.connections)]
        samples, errors, elapsed = run_clients(
            port, self.connections, make, seconds=seconds, max_requests_per_client=1_000_000
        )
        latencies = [s.seconds * 1000 for s in samples]
        bad = sum(1 for s in samples if s.status >= 400)
        return Load(len(samples), elapsed, percentile(latencies, 50), percentile(latencies, 99),
                    errors + bad)  # fmt: skip


class Wrk(LoadGenerator):
    name = "wrk"

    def run(self, port: int, endpoint: str, ids: tuple[int, int], seconds: float) -> Load:
        script = self.work_dir / f"wrk-{endpoint}.lua"
        script.write_text(
            WRK_SCRIPT
            % {
                "lo": ids[0],
                "hi": ids[1],
                "detail": "true" if endpoint == "detail" else "false",
                "seed": random.randrange(1 << 30),
                "list_path": LIST_PATH,
            }
        )
        argv = [
            "wrk", f"-t{self.threads}", f"-c{self.connections}", f"-d{seconds:.0f}s",
            "--timeout", f"{REQUEST_TIMEOUT:.0f}s", "-s", str(script), f"http://{HOST}:{port}",
        ]  # fmt: skip
        output = subprocess.run(
            argv, capture_output=True, text=True, check=True, timeout=seconds + 60
        ).stdout
        match = re.search(r"^BENCH (\d+) (\d+) ([\d.]+) ([\d.]+) (\d+)$", output, re.MULTILINE)
        if not match:
            raise SystemExit(f"unexpected wrk output:\n{output}")
        requests, duration_us, p50, p99, errors = match.groups()
        return Load(int(requests), int(duration_us) / 1e6, float(p50) / 1000,
                    float(p99) / 1000, int(errors))  # fmt: skip


def load_generator(choice: str, connections: int, threads: int, work_dir: Path) -> LoadGenerator:
    has_wrk = shutil.which("wrk") is not None
    if choice == "wrk" and not has_wrk:
        raise SystemExit("wrk is not installed: apt-get install wrk (Debian) or brew install wrk")
    if choice == "python" or not has_wrk:
        if choice == "auto":
            log(
                "wrk not found: using the Python load generator, which is CPU-bound itself and "
                "understates fast servers. For real numbers: apt-get install wrk "
                "(Debian/Ubuntu) or brew install wrk (macOS)."
            )
        return LoadGenerator(connections, threads, work_dir)
    return Wrk(connections, threads, work_dir)
