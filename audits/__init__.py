"""The check engine: audit runs, findings, the risk list and go/no-go."""
