"""Copy-paste snippets for a heartbeat: the crontab line, a shell wrapper that reports failures with the tail
of the job's output, a background job's code and a worker's loop, each with the heartbeat's ping URL."""

from __future__ import annotations

from dataclasses import dataclass

from monitoring.models import Heartbeat

CURL = "curl -fsS -m 10 --retry 5 -o /dev/null"
PLACEHOLDER = "<ping URL from Launch Ready → Monitoring>"


@dataclass(frozen=True)
class Snippet:
    title: str
    text: str


def cron_fields(heartbeat: Heartbeat) -> str:
    """The crontab line's schedule: the heartbeat's cron expression, or its period where cron can say it."""
    if heartbeat.schedule == Heartbeat.Schedule.CRON and heartbeat.cron:
        return " ".join(heartbeat.cron.split())
    minutes = heartbeat.period_minutes
    if minutes < 60 and 60 % minutes == 0:
        return "* * * * *" if minutes == 1 else f"*/{minutes} * * * *"
    if minutes % 60 == 0 and minutes < 1440 and 24 % (minutes // 60) == 0:
        return "0 * * * *" if minutes == 60 else f"0 */{minutes // 60} * * *"
    if minutes == 1440:
        return "0 3 * * *"
    return "<when it runs>"


def cron_line(url: str, fields: str, command: str = "/usr/local/bin/backup.sh") -> str:
    return f"{fields} {CURL} {url}/start; {command} && {CURL} {url} || {CURL} {url}/fail"


def shell_wrapper(url: str, command: str = "/usr/local/bin/backup.sh") -> str:
    return "\n".join(
        [
            "#!/bin/sh",
            "# Reports the run to Launch Ready: /start, then success, or /fail with the end of the output.",
            f"PING_URL={url}",
            f'{CURL} "$PING_URL/start"',
            f"if output=$({command} 2>&1); then",
            f'  {CURL} "$PING_URL"',
            "else",
            f'  printf \'%s\' "$output" | tail -c 1000 | {CURL} --data-binary @- "$PING_URL/fail"',
            "fi",
        ]
    )


def python_job(url: str) -> str:
    return "\n".join(
        [
            "import urllib.request",
            "",
            f'PING_URL = "{url}"',
            "",
            "",
            'def ping(suffix: str = "", body: bytes | None = None) -> None:',
            "    try:",
            "        urllib.request.urlopen(PING_URL + suffix, data=body, timeout=10)",
            "    except OSError:",
            "        pass  # a lost ping must not fail the job; a missing success shows as late",
            "",
            "",
            "def run() -> None:",
            '    ping("/start")',
            "    try:",
            "        do_the_work()",
            "    except Exception as exc:",
            '        ping("/fail", repr(exc).encode()[:1000])',
            "        raise",
            "    ping()",
        ]
    )


def worker_loop(url: str, period_minutes: int) -> str:
    every = max(30, min(60, period_minutes * 30))  # at least twice a period, at most once every 30 s
    return "\n".join(
        [
            "import time",
            "import urllib.request",
            "",
            f'PING_URL = "{url}"',
            "",
            "last_ping = 0.0",
            "while True:",
            "    handle_next_message()  # the worker's own work",
            f"    if time.monotonic() - last_ping >= {every}:",
            "        try:",
            "            urllib.request.urlopen(PING_URL, timeout=10)",
            "        except OSError:",
            "            pass  # a lost ping is not the worker's failure",
            "        last_ping = time.monotonic()",
        ]
    )


def snippets(heartbeat: Heartbeat, url: str) -> list[Snippet]:
    """The snippets for this kind of job, the likeliest first."""
    url = url or PLACEHOLDER
    line = Snippet("In the crontab", cron_line(url, cron_fields(heartbeat)))
    wrapper = Snippet("A shell wrapper that reports failures", shell_wrapper(url))
    job = Snippet("In the job's code (Python)", python_job(url))
    loop = Snippet("In the worker's loop (Python)", worker_loop(url, heartbeat.period_minutes))
    if heartbeat.kind == Heartbeat.Kind.WORKER:
        return [loop, Snippet("From a shell, by hand", f"{CURL} {url}")]
    if heartbeat.kind == Heartbeat.Kind.JOB:
        return [job, wrapper]
    return [line, wrapper]
