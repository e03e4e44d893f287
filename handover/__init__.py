"""The sprint checklist, the handover pack and the weekly status report."""
