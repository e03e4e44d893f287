"""The loopback fake internet used by tests, benchmarks and the offline demo."""
