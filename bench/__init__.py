"""Benchmarks: `python -m bench` (triage), `bench.digest_bench`, `bench.load`. Loopback only, bounded."""
