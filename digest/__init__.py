"""Scheduled work and reports: the weekly digest (周报), its jobs and delivery, the exit lists, the annual summary."""
