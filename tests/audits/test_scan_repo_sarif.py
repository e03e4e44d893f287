"""`manage.py scan_repo --sarif`: valid against the official SARIF 2.1.0 schema (tests/data/sarif), with what GitHub
code scanning needs of each rule and result, and no key whole."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from jsonschema import Draft4Validator

from audits.catalog import CATALOG
from audits.secrets.lognames import LOG_RULE_IDS
from audits.secrets.repo import REPO_SCAN_IDS
from audits.secrets.sarif import RULES
from launchready.sandbox.scenarios import FAKE_STRIPE_SECRET
from tests.audits.repos import GITHUB_TOKEN, git
from tests.audits.test_scan_repo_command import CLEAN, LEAKY, LOGGING, assert_no_secret, plant, redacted, run

SCHEMA = json.loads((Path(__file__).resolve().parents[1] / "data/sarif/sarif-schema-2.1.0.json").read_text())
VALIDATOR = Draft4Validator(SCHEMA)


def sarif_of(*args: str) -> tuple[int, dict, str]:  # type: ignore[type-arg]
    status, out, err = run(*args, "--sarif")
    return status, json.loads(out), out + err


def test_the_schema_is_the_official_one_and_rejects_a_broken_log() -> None:
    assert SCHEMA["id"].endswith("/sarif/v2.1.0/errata01/os/schemas/sarif-schema-2.1.0.json")
    Draft4Validator.check_schema(SCHEMA)
    assert not VALIDATOR.is_valid({"version": "2.1.0", "runs": [{"results": []}]})  # a run needs its tool
    assert not VALIDATOR.is_valid({"version": "2.0.0", "runs": []})


def test_a_blocked_scan_is_valid_sarif_with_what_code_scanning_reads(tmp_path: Path) -> None:
    folder = plant(
        tmp_path / "shop",
        LEAKY | {"app/settings.py": "DEBUG = True\n", "src/my page.js": f'const t = "{GITHUB_TOKEN}";\n'},
    )
    status, log, raw = sarif_of(str(folder))
    assert status == 1
    errors = sorted(VALIDATOR.iter_errors(log), key=str)
    assert not errors, [e.message for e in errors[:5]]
    assert log["version"] == "2.1.0" and log["$schema"].endswith("sarif-schema-2.1.0.json")
    (run_,) = log["runs"]
    rules = run_["tool"]["driver"]["rules"]
    assert {rule["id"] for rule in rules} == REPO_SCAN_IDS
    for rule in rules:
        assert rule["name"] and rule["shortDescription"]["text"]
        assert rule["defaultConfiguration"]["level"] in ("error", "warning", "note")
        assert float(rule["properties"]["security-severity"]) > 0 and "security" in rule["properties"]["tags"]
    assert {r["id"]: r["defaultConfiguration"]["level"] for r in rules}["secrets.repo.key"] == "error"
    results = run_["results"]
    by_uri = {r["locations"][0]["physicalLocation"]["artifactLocation"]["uri"]: r for r in results}
    assert set(by_uri) >= {"app/pay.py", "deploy/ci.yml", "app/settings.py", "src/my%20page.js"}
    stripe = by_uri["app/pay.py"]
    assert stripe["ruleId"] == "secrets.repo.key" and stripe["level"] == "error"
    assert rules[stripe["ruleIndex"]]["id"] == "secrets.repo.key"
    assert stripe["locations"][0]["physicalLocation"]["region"] == {"startLine": 2}
    assert redacted(FAKE_STRIPE_SECRET, "sk_live_") in stripe["message"]["text"]
    assert "Rotate the key now." in stripe["message"]["text"]
    assert by_uri["app/settings.py"]["level"] == "error"  # high: debug mode in production settings
    for result in results:
        uri = result["locations"][0]["physicalLocation"]["artifactLocation"]["uri"]
        assert not uri.startswith("/") and "://" not in uri and " " not in uri
        assert result["locations"][0]["physicalLocation"]["region"]["startLine"] >= 1
        assert result["partialFingerprints"]["launchreadyFinding/v1"]
    assert_no_secret(raw)


def test_a_fingerprint_stays_when_the_line_moves(tmp_path: Path) -> None:
    folder = plant(tmp_path / "shop", LEAKY)
    _, before, _ = sarif_of(str(folder))
    (folder / "app/pay.py").write_text(f'import os\n\n\n# payments\nKEY = "{FAKE_STRIPE_SECRET}"\n')
    _, after, _ = sarif_of(str(folder))

    def stripe(log: dict) -> dict:  # type: ignore[type-arg]
        return next(r for r in log["runs"][0]["results"] if "Stripe" in r["message"]["text"])

    assert stripe(after)["locations"][0]["physicalLocation"]["region"]["startLine"] == 5
    assert stripe(after)["partialFingerprints"] == stripe(before)["partialFingerprints"]


def test_a_clean_scan_and_a_history_only_key_are_valid_sarif(tmp_path: Path) -> None:
    status, clean, _ = sarif_of(str(plant(tmp_path / "clean", CLEAN)))
    assert status == 0 and VALIDATOR.is_valid(clean) and clean["runs"][0]["results"] == []
    repo = plant(tmp_path / "shop", LEAKY)
    git(repo, "init", "-q", "-b", "main")
    git(repo, "add", "-A")
    git(repo, "commit", "-q", "-m", "Payments")
    (repo / "deploy/ci.yml").unlink()
    git(repo, "commit", "-q", "-a", "-m", "No token")
    bundle = tmp_path / "shop.bundle"
    git(repo, "bundle", "create", "-q", str(bundle), "--all")
    status, log, raw = sarif_of(str(bundle))
    assert status == 1 and VALIDATOR.is_valid(log)
    token = next(r for r in log["runs"][0]["results"] if "GitHub" in r["message"]["text"])
    assert token["locations"][0]["physicalLocation"]["artifactLocation"]["uri"] == "deploy/ci.yml"
    assert "in git history: commit " in token["message"]["text"]
    assert_no_secret(raw)


@pytest.mark.parametrize("check_id", sorted(REPO_SCAN_IDS))
def test_every_rule_is_described(check_id: str) -> None:
    name, short, help_text = RULES[check_id]
    assert name.isidentifier() and short and help_text
    assert CATALOG[check_id]  # and has its verdict text


def test_log_hygiene_findings_are_valid_sarif_with_a_rule_each(tmp_path: Path) -> None:
    status, log, raw = sarif_of(str(plant(tmp_path / "shop", LOGGING)))
    assert status == 0
    errors = sorted(VALIDATOR.iter_errors(log), key=str)
    assert not errors, [e.message for e in errors[:5]]
    (run_,) = log["runs"]
    rules = {rule["id"]: rule for rule in run_["tool"]["driver"]["rules"]}
    assert set(rules) >= LOG_RULE_IDS
    for rule_id in LOG_RULE_IDS:
        rule = rules[rule_id]
        assert rule["name"].startswith("Logged") and rule["shortDescription"]["text"].startswith("A logging call")
        assert rule["help"]["text"] == rule["fullDescription"]["text"] and "Log " in rule["help"]["text"]
        assert rule["properties"]["tags"] == ["security", "log-hygiene"]
    assert rules["secrets.log.password"]["defaultConfiguration"]["level"] == "error"
    assert rules["secrets.log.email"]["defaultConfiguration"]["level"] == "warning"
    results = [r for r in run_["results"] if r["ruleId"] in LOG_RULE_IDS]
    where = {
        (r["ruleId"], r["locations"][0]["physicalLocation"]["artifactLocation"]["uri"],
         r["locations"][0]["physicalLocation"]["region"]["startLine"], r["level"])
        for r in results
    }  # fmt: skip
    assert ("secrets.log.password", "app/auth.py", 6, "error") in where
    assert ("secrets.log.email", "app/auth.py", 6, "warning") in where
    assert ("secrets.log.authorization", "web/server.ts", 2, "error") in where
    assert ("secrets.log.password", "src/Mail.php", 2, "error") in where
    indexed = run_["tool"]["driver"]["rules"]
    assert len(results) == 7 and all(rules[r["ruleId"]] == indexed[r["ruleIndex"]] for r in results)
    password = next(r for r in results if r["ruleId"] == "secrets.log.password" and "auth.py" in r["message"]["text"])
    assert password["message"]["text"].startswith("app/auth.py logs a password: password. Take password out")
    assert len({r["partialFingerprints"]["launchreadyFinding/v1"] for r in results}) == 7
    assert "hunter2" not in raw


@pytest.mark.parametrize("target", ["nowhere", "empty"])
def test_a_scan_that_could_not_check_is_valid_sarif_saying_why(tmp_path: Path, target: str) -> None:
    (tmp_path / "empty").mkdir()
    status, log, _ = sarif_of(str(tmp_path / target))
    assert status == 2
    errors = sorted(VALIDATOR.iter_errors(log), key=str)
    assert not errors, [e.message for e in errors[:5]]
    invocation = log["runs"][0]["invocations"][0]
    assert invocation["executionSuccessful"] is False and log["runs"][0]["results"] == []
    notification = invocation["toolExecutionNotifications"][0]
    assert notification["level"] == "error" and notification["message"]["text"].startswith("The repository could not")


def test_a_scan_that_ran_says_its_execution_succeeded(tmp_path: Path) -> None:
    status, log, _ = sarif_of(str(plant(tmp_path / "shop", CLEAN)))
    assert status == 0 and log["runs"][0]["invocations"] == [{"executionSuccessful": True}]
