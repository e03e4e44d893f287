"""A judged message's ARC chain and blocklist checks in plain English, one line each, as the real-send page shows
them beside the findings. Verdicts kept from before a check existed have no line for it."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class CheckLine:
    label: str
    outcome: str  # a word or two: "Passes", "Broken", "Listed"
    tone: str  # go, warn, stop, muted: the badge's colour
    detail: str


def _plural(count: int, word: str) -> str:
    return f"{count} {word}" if count == 1 else f"{count} {word}s"


def _join(items: list[str]) -> str:
    return ", ".join(items) if items else "none"


def arc_line(arc: dict[str, Any]) -> CheckLine:
    result, sealer = str(arc.get("result", "none")), str(arc.get("sealer") or "an unnamed forwarder")
    count, detail = int(arc.get("instances") or 0), str(arc.get("detail", ""))
    if result == "pass":
        return CheckLine("ARC", "Passes", "go", f"{_plural(count, 'seal')}, the latest by {sealer}: {detail}.")
    if result == "fail":
        text = f"{_plural(count, 'set')}, the latest sealed by {sealer}, and the chain does not verify: {detail}."
        return CheckLine("ARC", "Broken", "warn", text)
    if result == "temperror":
        return CheckLine("ARC", "Could not check", "warn", f"{detail}.")
    if result == "unchecked":
        return CheckLine("ARC", "Not checked", "muted", f"{detail}.")
    return CheckLine(
        "ARC", "None", "muted", "No forwarder sealed this email, as expected for email sent straight to the test."
    )


def _failed(listings: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return [item for item in listings if item.get("status") in ("refused", "unchecked")]


def address_line(result: dict[str, Any]) -> CheckLine:
    zones = [str(zone) for zone in result.get("dnsbl_zones") or []]
    address = str(result.get("address") or "")
    listings = [item for item in result.get("listings") or [] if item.get("kind") == "address"]
    if not zones:
        return CheckLine("Sending address", "Not checked", "muted", "No address blocklist is configured.")
    if not address:
        return CheckLine("Sending address", "Not checked", "muted", "The sender's address is not an IP address.")
    listed = [item for item in listings if item.get("status") == "listed"]
    if listed:
        where = "; ".join(f"{item.get('list_name')} ({item.get('zone')}): {item.get('meaning')}" for item in listed)
        return CheckLine("Sending address", "Listed", "stop", f"{address} is listed on {where}.")
    failed = _failed(listings)
    if failed:
        names = _join([str(item.get("zone")) for item in failed])
        return CheckLine("Sending address", "Could not check", "warn", f"{address} could not be checked on {names}.")
    return CheckLine("Sending address", "Not listed", "go", f"{address} is on none of {_join(zones)}.")


def links_line(result: dict[str, Any]) -> CheckLine:
    zones = [str(zone) for zone in result.get("uribl_zones") or []]
    checked = [str(domain) for domain in result.get("domains_checked") or []]
    found = int(result.get("domains_found") or 0)
    listings = [item for item in result.get("listings") or [] if item.get("kind") == "domain"]
    if not zones:
        return CheckLine("Linked domains", "Not checked", "muted", "No domain blocklist is configured.")
    if not found:
        return CheckLine("Linked domains", "No links", "muted", "The email links to no web domain.")
    scope = f"{len(checked)} of {found} linked domains" if len(checked) < found else _plural(found, "linked domain")
    listed = list(dict.fromkeys(str(item.get("subject")) for item in listings if item.get("status") == "listed"))
    failed = list(dict.fromkeys(str(item.get("subject")) for item in _failed(listings)))
    unchecked = f" {_join(failed)} could not be checked." if failed else ""
    if listed:
        text = f"{scope} checked against {_join(zones)}: {_join(listed)} listed.{unchecked}"
        return CheckLine("Linked domains", "Listed", "stop", text)
    if failed:
        text = f"{scope} checked against {_join(zones)}: none listed.{unchecked}"
        return CheckLine("Linked domains", "Could not check", "warn", text)
    return CheckLine("Linked domains", "Not listed", "go", f"{scope} checked against {_join(zones)}: none listed.")


def check_lines(results: Any) -> list[CheckLine]:
    """The lines a stored verdict's results have data for."""
    if not isinstance(results, dict):
        return []
    lines = []
    if isinstance(results.get("arc"), dict):
        lines.append(arc_line(results["arc"]))
    if isinstance(results.get("blocklists"), dict):
        lines += [address_line(results["blocklists"]), links_line(results["blocklists"])]
    return lines
