"""Comparing versions: semantic diff, semver bump check."""
