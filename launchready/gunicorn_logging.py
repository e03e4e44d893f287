"""gunicorn's access log, scrubbed: a heartbeat's ping URL carries its secret in the path, and gunicorn writes
every request line (`--logger-class launchready.gunicorn_logging.ScrubbedLogger` in the Dockerfile and
docker-compose.yml)."""

from __future__ import annotations

from typing import Any

from gunicorn import glogging

from launchready.logs import ScrubFilter


class ScrubbedLogger(glogging.Logger):
    def setup(self, cfg: Any) -> None:
        super().setup(cfg)
        for log in (self.access_log, self.error_log):
            log.addFilter(ScrubFilter())
