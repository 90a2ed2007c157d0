"""Tests of scheduled work and reports: the digest, its jobs and delivery, the exit lists, the annual summary."""
