"""The test suite (a package, so that tests/triage does not shadow the triage package)."""
