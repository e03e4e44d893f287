"""The checks: pure async functions `check_x(target, net) -> list[Finding]`, one module per area, each module
declaring in `CHECKS` the checks it provides and the finding ids they may produce (see declaration.py)."""
