"""The checks: pure async functions `check_x(target, net) -> list[Finding]`, one module per area."""
