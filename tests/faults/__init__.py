"""Helpers of the fault tests: a real `hotline serve` process and a TCP proxy that can cut the database."""
