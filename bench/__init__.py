"""Benchmark the API against a hand-written floor, at scale, under write load and cleanup.

Run it as ``nox -s bench`` (or ``python -m bench`` from the checkout); PostgreSQL is
required (POSTGRES_URL, default postgres://postgres@127.0.0.1:5432/events: only the
server and credentials are used, each database here is its own, named *_bench*).
Redis (TEST_REDIS_URL) is used when reachable, as in production.

Modes (default: the throughput table):

- throughput: seed 5,000 events with 5 participants each, serve the API and the floor
  (bench/floor.py) with the same server and workers, check they answer the same bytes,
  then load both in turns (floor, API, floor, API...) and print requests/s, p50/p99
  latency, the API's ratio to the floor, and the API's queries per request.
- ``--scale``: first page, a filtered page and deep pages, median latency of one client
  at 10,000 vs 1,000,000 events (two databases, two servers, measured in turns).
- ``--registration``: 60 clients register concurrently, each for a different event at
  any moment; p50/p99, throughput, errors, then a check that no event is overbooked.
- ``--cleanup``: ``delete_old_events`` on 100,000 and 1,000,000 old events with their
  participants, invitations and feedback: time, peak memory, and how long API requests
  served meanwhile waited.

Load comes from wrk when it is installed (Debian: ``apt-get install wrk``), otherwise
from a small Python load generator (threads + http.client), which is itself CPU-bound
and reads lower for fast servers. Every loop stops at a request count or a deadline;
every target is 127.0.0.1.
"""
