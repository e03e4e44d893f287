"""Uptime and latency monitors per route, incidents, alert channels and watches."""
