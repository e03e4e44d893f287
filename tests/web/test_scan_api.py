"""`POST /api/v1/scans` and `GET /api/v1/scans/<id>`: the client's CI sends its repository with the client's deploy
token through the real endpoint; the scan's task runs (in process here; tests/integration runs a real worker) and
the verdict comes back with the findings redacted; the findings join the client's risk list and checklist."""

from __future__ import annotations

import json
import subprocess
from typing import Any

import pytest
import yaml
from django.test import Client as HttpClient
from django.urls import reverse

from audits.ci import github_actions, shell
from audits.models import AuditRun, RepoScan, RepoUpload
from audits.selectors import risk_list
from handover.checklist import State, sprint_checklist
from launchready.sandbox.scenarios import FAKE_STRIPE_SECRET
from monitoring.deploys import token_create
from monitoring.models import ApiToken
from tests.audits.repos import AWS_SECRET, GITHUB_TOKEN, build_repo, bundle_of, zip_bytes
from tests.conftest import Tenant, login, make_tenant
from tests.factories import ClientFactory
from web.api import MAX_UPLOAD_BYTES

URL = "/api/v1/scans"


def send(token: str | None, body: bytes, content_type: str = "application/octet-stream", **extra: Any) -> Any:
    headers = {"HTTP_AUTHORIZATION": f"Bearer {token}"} if token else {}
    if not body:  # the test client leaves out the length of an empty body; curl sends Content-Length: 0
        headers |= {"CONTENT_LENGTH": "0", "CONTENT_TYPE": content_type}
    return HttpClient().generic("POST", URL, body, content_type=content_type, **headers, **extra)


def verdict(token: str | None, url: str) -> Any:
    headers = {"HTTP_AUTHORIZATION": f"Bearer {token}"} if token else {}
    return HttpClient().get(url, **headers)


def no_secret(*texts: str) -> None:
    for text in texts:
        for secret in (AWS_SECRET, GITHUB_TOKEN, FAKE_STRIPE_SECRET):
            assert secret not in text


@pytest.fixture(scope="module")
def leaky_bundle(tmp_path_factory: pytest.TempPathFactory) -> bytes:
    folder = tmp_path_factory.mktemp("ci")
    return bundle_of(build_repo(folder / "acme"), folder / "acme.bundle").read_bytes()


@pytest.mark.django_db
def test_a_repository_from_ci_is_scanned_and_fails_with_redacted_findings(
    tenant: Tenant,
    leaky_bundle: bytes,
    eager_tasks: None,
    django_capture_on_commit_callbacks: Any,
) -> None:
    _, secret = token_create(client=tenant.client, name="GitHub Actions", user=tenant.consultant)
    with django_capture_on_commit_callbacks(execute=True):
        started = send(secret, leaky_bundle, QUERY_STRING="name=acme.bundle")
    assert started.status_code == 202, started.content
    body = started.json()
    scan = RepoScan.objects.get(code=body["scan"])
    assert body["state"] == "pending" and body["client"] == tenant.client.name
    assert body["url"] == f"http://testserver/api/v1/scans/{scan.code}" and started["Location"] == body["url"]
    assert scan.filename == "acme.bundle" and scan.kind == "bundle" and scan.triggered_by is None
    assert not RepoUpload.objects.exists()  # scanned, and the upload deleted

    answer = verdict(secret, body["url"])
    assert answer.status_code == 200
    result = answer.json()
    assert result["state"] == "failed" and result["counts"]["blocker"] >= 4
    keys = [f for f in result["findings"] if f["check_id"] == "secrets.repo.key"]
    assert {f["severity"] for f in keys} == {"blocker"} and len(keys) == 3
    assert any("sk_live_••••" in f["evidence"]["key"] for f in keys)
    assert all(f["fix"].startswith("Rotate the key now.") for f in keys)
    no_secret(answer.content.decode(), started.content.decode())

    # The client's risk list and the sprint's checklist now carry the repository's findings.
    risks = risk_list(tenant.client)
    assert risks.scan == scan and risks.go is False
    secrets_item = next(i for i in sprint_checklist(tenant.sprint).items if i.item.value == "secrets")
    assert secrets_item.state == State.BLOCKED
    assert any("committed to the repository" in f.title for f in secrets_item.findings)


@pytest.mark.django_db
def test_a_clean_repository_passes_and_a_waiting_one_is_pending(
    tenant: Tenant, eager_tasks: None, django_capture_on_commit_callbacks: Any
) -> None:
    _, secret = token_create(client=tenant.client, name="CI", user=tenant.consultant)
    clean = zip_bytes({"app/main.py": b"print('hello')\n"})
    waiting = send(secret, clean)  # its task is queued only once the request's transaction commits
    assert waiting.status_code == 202
    assert verdict(secret, waiting.json()["url"]).json()["state"] == "pending"
    with django_capture_on_commit_callbacks(execute=True):
        done = send(secret, clean)
    result = verdict(secret, done.json()["url"]).json()
    assert result["state"] == "passed" and result["findings"] == [] and result["counts"]["blocker"] == 0
    assert result["file"] == "ci-upload.zip" and result["kind"] == "zip"


# A repository with no key in it whose code logs what it should not: the values never leave the scan.
LOGGING_REPOSITORY = {
    "shop-main/app/auth.py": b'import logging\nlog = logging.getLogger(__name__)\nPASSWORD = "correct-horse-42"\n'
    b'def login(request, user):\n    log.info("login %s %s", user.email, PASSWORD)\n'
    b'    log.info("user %s logged in", user.id)\n',
    "shop-main/web/server.js": b"app.post('/pay', (req, res) => {\n  console.log(req.headers);\n});\n",
    "shop-main/tests/test_auth.py": b"print(password)\n",
}


@pytest.mark.django_db
def test_logging_calls_that_write_secrets_are_counted_on_the_verdict_risk_list_and_checklist(
    tenant: Tenant, eager_tasks: None, django_capture_on_commit_callbacks: Any
) -> None:
    _, secret = token_create(client=tenant.client, name="CI", user=tenant.consultant)
    with django_capture_on_commit_callbacks(execute=True):
        started = send(secret, zip_bytes(LOGGING_REPOSITORY))
    answer = verdict(secret, started.json()["url"])
    result = answer.json()
    # High findings are to work down, not blockers: the job passes unless a key or a .env is committed.
    assert result["state"] == "passed"
    assert result["counts"] == {"blocker": 0, "high": 2, "medium": 1, "low": 0, "info": 0}
    logged = {f["check_id"]: f for f in result["findings"] if f["check_id"].startswith("secrets.log.")}
    assert set(logged) == {"secrets.log.password", "secrets.log.headers", "secrets.log.email"}
    password = logged["secrets.log.password"]
    assert password["severity"] == "high" and password["title"] == "app/auth.py logs a password: PASSWORD"
    assert password["evidence"] == {
        "file": "app/auth.py", "line": 5, "logged": "PASSWORD", "call": "log.info", "lines": [5],
    }  # fmt: skip
    assert logged["secrets.log.headers"]["evidence"]["logged"] == "req.headers"
    assert "correct-horse-42" not in answer.content.decode()  # names, never values
    scan = RepoScan.objects.get(code=started.json()["scan"])
    assert scan.stats["log_calls"] == 2  # the two that name a sensitive word, parsed

    risks = risk_list(tenant.client)
    assert risks.go is True and {f.check_id for f in risks.all_open} >= set(logged)
    AuditRun.objects.create(domain=tenant.domain, state=AuditRun.State.DONE, go=True)  # the domain audited clean
    secrets_item = next(i for i in sprint_checklist(tenant.sprint).items if i.item.value == "secrets")
    assert secrets_item.state == State.ATTENTION and secrets_item.reason == (
        "To work down (high or medium): 3 findings in the latest repository scan (all of them logging calls that "
        "write secrets or personal data)."
    )
    assert {f.title for f in secrets_item.findings} == {
        "app/auth.py logs a password: PASSWORD",
        "web/server.js logs whole request headers: req.headers",
        "app/auth.py logs an email address: user.email",
    }


@pytest.mark.django_db
def test_an_upload_that_cannot_be_scanned_says_why(
    tenant: Tenant, eager_tasks: None, django_capture_on_commit_callbacks: Any
) -> None:
    _, secret = token_create(client=tenant.client, name="CI", user=tenant.consultant)
    with django_capture_on_commit_callbacks(execute=True):
        started = send(secret, zip_bytes({"../../outside.py": b"x = 1\n"}))
    result = verdict(secret, started.json()["url"]).json()
    assert result["state"] == "error" and "leaves its folder" in result["reason"]
    assert "findings" not in result


@pytest.mark.django_db
def test_another_clients_scan_is_404(leaky_bundle: bytes) -> None:
    mine, theirs = make_tenant(), make_tenant()
    _, my_secret = token_create(client=mine.client, name="CI", user=mine.consultant)
    _, their_secret = token_create(client=theirs.client, name="CI", user=theirs.consultant)
    url = send(my_secret, leaky_bundle).json()["url"]
    assert verdict(my_secret, url).status_code == 200
    refused = verdict(their_secret, url)
    assert refused.status_code == 404 and refused.json() == {"error": "no such scan for this token's client"}
    same_workspace = token_create(client=ClientFactory(workspace=mine.client.workspace), name="CI", user=None)[1]
    assert verdict(same_workspace, url).status_code == 404  # another client of the same consultant
    unknown = reverse("api_scan", args=["00000000-0000-4000-8000-000000000000"])
    assert verdict(my_secret, unknown).status_code == 404


@pytest.mark.django_db
def test_a_token_is_needed_and_a_session_is_not_one(tenant: Tenant, leaky_bundle: bytes) -> None:
    _, secret = token_create(client=tenant.client, name="CI", user=tenant.consultant)
    url = send(secret, leaky_bundle).json()["url"]
    assert send(None, leaky_bundle).status_code == 401
    assert send("lr_nope_nope", leaky_bundle).json() == {"error": "missing, unknown or revoked token"}
    signed_in = login(tenant.owner)
    assert signed_in.get(url).status_code == 401  # a cookie never stands for the token
    ApiToken.objects.filter(client=tenant.client).update(revoked_at="2026-01-01T00:00:00Z")
    assert verdict(secret, url).status_code == 401
    assert RepoScan.objects.count() == 1


@pytest.mark.django_db
@pytest.mark.parametrize(
    "body, content_type, status, error",
    [
        (b"", "application/octet-stream", 400, "the body is empty"),
        (b"just some text, not a repository", "application/octet-stream", 400, "not a zip, tar.gz, tar or git bundle"),
        (b"archive=x", "application/x-www-form-urlencoded", 415, "send the repository itself as the body"),
        (b'{"repo": "x"}', "application/json", 415, "send the repository itself as the body"),
    ],
    ids=["empty", "not an archive", "a form", "json"],
)
def test_a_bad_upload_gets_a_clear_answer(
    tenant: Tenant, body: bytes, content_type: str, status: int, error: str
) -> None:
    _, secret = token_create(client=tenant.client, name="CI", user=tenant.consultant)
    answer = send(secret, body, content_type)
    assert answer.status_code == status
    assert error in answer.json()["error"]
    assert not RepoScan.objects.exists()


@pytest.mark.django_db
def test_an_upload_over_the_limit_is_refused_before_it_is_read(tenant: Tenant) -> None:
    _, secret = token_create(client=tenant.client, name="CI", user=tenant.consultant)
    answer = send(secret, b"PK\x03\x04", CONTENT_LENGTH=str(MAX_UPLOAD_BYTES + 1))
    assert answer.status_code == 413 and "at most 50 MB" in answer.json()["error"]
    assert HttpClient().get(URL).status_code == 405
    assert json.loads(HttpClient().get(URL).content)["error"].startswith("use POST")


def test_the_snippets_send_the_repository_and_fail_on_the_verdict() -> None:
    """Their text; tests/integration/test_scan_api_worker.py runs the shell one for real."""
    api = "https://launchready.example/api/v1/scans"
    workflow = yaml.safe_load(github_actions(api))
    (step,) = [s for s in workflow["jobs"]["scan"]["steps"] if "run" in s]
    assert step["env"] == {"LAUNCH_READY_TOKEN": "${{ secrets.LAUNCH_READY_TOKEN }}"}
    assert workflow["jobs"]["scan"]["steps"][0]["with"]["fetch-depth"] == 0
    for script in (shell(api), step["run"]):
        assert "git bundle create" in script and f'"{api}"' in script and "application/octet-stream" in script
        checked = subprocess.run(["bash", "-n"], input=script, capture_output=True, text=True, check=False)
        assert checked.returncode == 0, checked.stderr
        assert script.rstrip().endswith('[ "$state" = passed ]')


@pytest.mark.django_db
def test_the_repository_page_shows_the_snippets_with_this_sites_address(tenant: Tenant) -> None:
    page = login(tenant.founder).get(reverse("repo_scans", args=[tenant.client.code])).content.decode()
    assert "From CI" in page and "http://testserver/api/v1/scans" in page
    assert "secrets.LAUNCH_READY_TOKEN" in page and "launchready-secrets" in page
    assert reverse("deploy_tokens", args=[tenant.client.code]) not in page  # founders do not manage tokens
    staff = login(tenant.consultant).get(reverse("repo_scans", args=[tenant.client.code])).content.decode()
    assert reverse("deploy_tokens", args=[tenant.client.code]) in staff


@pytest.mark.django_db
@pytest.mark.parametrize(
    "method, path",
    [
        ("get", "/api/v1/scans/not-a-uuid"),
        ("get", "/api/v1/scans/00000000-0000-4000-8000-000000000000/extra"),
        ("get", "/api/v1/nothing-here"),
        ("post", "/api/v2/scans"),
        ("get", "/api/"),
    ],
)
def test_a_bad_api_address_answers_json(tenant: Tenant, method: str, path: str) -> None:
    _, secret = token_create(client=tenant.client, name="CI", user=tenant.consultant)
    answered = getattr(HttpClient(), method)(path, HTTP_AUTHORIZATION=f"Bearer {secret}")
    assert answered.status_code == 404 and answered["Content-Type"] == "application/json"
    assert answered.json()["error"].startswith("no such API address")
    assert set(answered.json()) == {"error"}


@pytest.mark.django_db
def test_an_empty_bundle_from_ci_cannot_pass_nor_close_the_risk_list(
    tenant: Tenant, leaky_bundle: bytes, eager_tasks: None, django_capture_on_commit_callbacks: Any
) -> None:
    """A CI token cannot clear the risk list: an upload with nothing to read is an error the CI job fails on, and
    a committed key a later scan no longer sees stays open until it is rotated."""
    _, secret = token_create(client=tenant.client, name="CI", user=tenant.consultant)
    with django_capture_on_commit_callbacks(execute=True):
        first = send(secret, leaky_bundle)
    assert verdict(secret, first.json()["url"]).json()["state"] == "failed"
    with django_capture_on_commit_callbacks(execute=True):
        empty = send(secret, zip_bytes({"acme/": b""}))
    result = verdict(secret, empty.json()["url"]).json()
    assert result["state"] == "error" and result["reason"] == "The upload held no file that could be read."
    with django_capture_on_commit_callbacks(execute=True):
        clean = send(secret, zip_bytes({"acme/app.py": b"print('hello')\n"}))
    result = verdict(secret, clean.json()["url"]).json()
    assert result["state"] == "failed"  # the keys are still leaked: rotate them
    keys = [f for f in result["findings"] if f["check_id"] == "secrets.repo.key"]
    assert keys and all(f["change"] == "still_open" for f in keys)
    assert risk_list(tenant.client).go is False


@pytest.mark.django_db
def test_the_scans_list_says_what_was_read_and_why_a_scan_could_not_check(tenant: Tenant) -> None:
    RepoScan.objects.create(
        client=tenant.client, filename="plain.zip", kind="zip", size=10, state=RepoScan.State.DONE,
        stats={"files": 1, "blobs": 0, "commits_with_history": 0, "skipped_large": 1}, counts={},
    )  # fmt: skip
    RepoScan.objects.create(
        client=tenant.client, filename="empty.zip", kind="zip", size=10, state=RepoScan.State.FAILED,
        reason="The upload held no file that could be read.",
    )  # fmt: skip
    page = login(tenant.founder).get(reverse("repo_scans", args=[tenant.client.code])).content.decode()
    assert "1 file, no git history in it, 1 large file skipped" in page
    assert "from git history" not in page and "large files" not in page
    assert "Could not check: The upload held no file that could be read." in page
