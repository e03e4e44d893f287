"""The top layer: the pages that compose audits, monitoring and handover, and the demo workspace."""
