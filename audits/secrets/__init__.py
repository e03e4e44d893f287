"""Leaked secrets: one detector for bundles and repositories, and the repository scan around it."""
