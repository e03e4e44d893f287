"""The repository scan: what it finds in the files and the whole history, how it refuses bad uploads, and
that the upload is gone when the scan ends, whatever the outcome."""

from __future__ import annotations

import gzip
import io
import os
import tarfile
import zipfile
from datetime import timedelta
from pathlib import Path

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from django.utils import timezone

from audits.findings import Finding
from audits.models import RepoFinding, RepoScan, RepoUpload
from audits.risk import export, risk_list
from audits.secrets.archive import ArchiveError, Limits
from audits.secrets.lifecycle import reap_stale_scans, repo_scan_execute, upload_hold
from audits.secrets.repo import scan_upload
from launchready.sandbox.scenarios import FAKE_GOOGLE_KEY
from tests.audits.repos import AWS_SECRET, GITHUB_TOKEN, build_repo, bundle_of, tar_bytes, tar_of, zip_bytes, zip_of
from tests.audits.test_bundle_secrets import GOOGLE_CONTEXTS
from tests.conftest import Tenant, login

SMALL = Limits(upload_bytes=2 * 2**20, total_bytes=4 * 2**20, files=50, depth=6, file_bytes=64 * 1024)


@pytest.fixture(scope="module")
def repo(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return build_repo(tmp_path_factory.mktemp("client") / "acme")


def _by_check(findings: list[Finding]) -> dict[str, list[Finding]]:
    out: dict[str, list[Finding]] = {}
    for f in findings:
        out.setdefault(f.check_id, []).append(f)
    return out


@pytest.mark.parametrize("pack", [zip_of, tar_of, bundle_of], ids=["zip", "tar.gz", "bundle"])
def test_it_finds_keys_in_the_files_and_in_deleted_history(repo: Path, tmp_path: Path, pack) -> None:  # type: ignore[no-untyped-def]
    report = scan_upload(pack(repo, tmp_path / "upload"))
    found = _by_check(report.findings)
    keys = {f.subject: f for f in found["secrets.repo.key"]}
    assert {s.split("#")[1].split("-")[0] for s in keys} == {"aws", "stripe", "github"}
    aws = next(f for s, f in keys.items() if "#aws-" in s)
    assert aws.evidence["seen in"] == "git history only"
    assert "since deleted" in aws.params["where"] and ".env" in aws.params["where"]
    assert "IAM" in aws.params["rotation"]
    assert [f.params["path"] for f in found["secrets.repo.env_file"]] == [".env"]
    assert len(found["secrets.repo.publishable"]) == 1
    assert report.stats["files"] == 10 and report.stats["commits_with_history"] == 1


def test_every_repository_finding_reads_in_full(repo: Path, tmp_path: Path) -> None:
    from audits.catalog import render

    findings = scan_upload(zip_of(repo, tmp_path / "upload.zip")).findings
    assert {f.check_id for f in findings} >= {
        "secrets.repo.key",
        "secrets.repo.publishable",
        "secrets.repo.env_file",
        "secrets.repo.debug",
        "env.undocumented",
    }
    for finding in findings:
        text = render(finding)
        assert "…" not in text["title"] + text["explanation"] + text["fix"], (finding.check_id, text)
    one = [
        f
        for f in _scan_bytes(zip_bytes({"a.py": b"import os\nos.getenv('API_KEY')\n"}))
        if f.check_id.startswith("env")
    ]
    assert render(one[0])["title"] == "No .env.example: 1 environment variable used in code undocumented"


def test_a_bundle_of_a_main_branch_has_its_head_files_as_working_tree(repo: Path, tmp_path: Path) -> None:
    import shutil

    from dulwich.repo import Repo

    copy = Path(shutil.copytree(repo, tmp_path / "main-branch"))
    with Repo(str(copy)) as r:
        r.refs[b"refs/heads/main"] = r.refs[b"refs/heads/master"]
        r.refs.remove_if_equals(b"refs/heads/master", None)
        r.refs.set_symbolic_ref(b"HEAD", b"refs/heads/main")
    report = scan_upload(bundle_of(copy, tmp_path / "main.bundle"))
    assert report.stats["files"] == 10
    stripe = next(f for f in report.findings if "#stripe-" in f.subject and f.check_id == "secrets.repo.key")
    assert stripe.evidence["seen in"] == "the working tree"


def test_an_incremental_bundle_is_scanned_as_far_as_it_goes(repo: Path, tmp_path: Path) -> None:
    from dulwich.bundle import create_bundle_from_repo, write_bundle
    from dulwich.repo import Repo

    with Repo(str(repo)) as r:
        head = r[r.head()]
        bundle = create_bundle_from_repo(r, prerequisites=list(head.parents))  # type: ignore[attr-defined]
        with open(tmp_path / "inc.bundle", "wb") as f:
            write_bundle(f, bundle)
    report = scan_upload(tmp_path / "inc.bundle")
    subjects = {f.subject for f in report.findings if f.check_id == "secrets.repo.key"}
    assert any("#stripe-" in s for s in subjects)  # in the commit the bundle carries


def test_no_key_is_stored_whole_anywhere_in_the_findings(repo: Path, tmp_path: Path) -> None:
    report = scan_upload(zip_of(repo, tmp_path / "upload.zip"))
    text = repr([(f.evidence, f.params, f.subject) for f in report.findings])
    for key in (AWS_SECRET, GITHUB_TOKEN, "sk_live_51NzQ8rLk2Vb7Xc4"):
        assert key not in text
    assert "sha256 " in text


def test_it_reports_undocumented_variables_of_each_language(repo: Path, tmp_path: Path) -> None:
    found = _by_check(scan_upload(zip_of(repo, tmp_path / "upload.zip")).findings)
    (env,) = found["env.undocumented"]
    assert set(env.evidence["variables"]) == {
        "GITHUB_TOKEN",  # Python
        "API_URL",  # process.env
        "VITE_MAPS_KEY",  # import.meta.env
        "RAILS_MASTER_KEY",  # Ruby
        "QUEUE_URL",  # Go
        "MAILER_DSN",  # PHP
    }
    assert "DATABASE_URL" not in env.evidence["variables"]  # documented
    assert "SENTRY_DSN" not in env.evidence["variables"]  # documented, commented out
    assert "HTTP_HOST" not in env.evidence["variables"]  # set by the web server
    assert "GITHUB_TOKEN=" in env.params["lines"]


def test_a_variable_is_read_only_through_the_whole_name_of_the_reader() -> None:
    data = zip_bytes(
        {
            "app.py": b'a = os.environ["READ_ONE"]\nb = myenviron["NOT_ONE"]\nc = os.getenv("READ_TWO")\n'
            b'd = self.getenv("READ_THREE")\ne = ourgetenv("NOT_TWO")\nf = env.bool("READ_FOUR")\n'
            b'g = getenv.bool("NOT_THREE")\nh = environ.setdefault("READ_FIVE", "")\n',
            "web.js": b"x = process.env.READ_SIX + subprocess.env.NOT_FOUR + import.meta.env.READ_SEVEN;\n",
            "main.go": b'v := os.Getenv("READ_EIGHT") + cos.Getenv("NOT_FIVE")\n',
            "config.rb": b'k = ENV["READ_NINE"] + MYENV["NOT_SIX"]\n',
        }
    )
    [finding] = _scan_bytes(data)
    assert set(finding.evidence["variables"]) == {
        "READ_ONE", "READ_TWO", "READ_THREE", "READ_FOUR", "READ_FIVE", "READ_SIX", "READ_SEVEN", "READ_EIGHT",
        "READ_NINE",
    }  # fmt: skip


def test_without_an_example_file_every_variable_is_undocumented() -> None:
    data = zip_bytes({"app.js": b"const u = process.env.DATABASE_URL;\n"})
    found = _scan_bytes(data)
    assert [f.check_id for f in found] == ["env.example_missing"]


def test_it_finds_production_settings_left_in_debug_mode(repo: Path, tmp_path: Path) -> None:
    found = _by_check(scan_upload(zip_of(repo, tmp_path / "upload.zip")).findings)
    settings = {f.params["setting"] for f in found["secrets.repo.debug"]}
    assert settings == {
        "DEBUG = True",
        "app.run(debug=True)",
        "config.consider_all_requests_local = true",
        "NODE_ENV=development",
    }


def test_development_settings_and_tests_are_not_debug_findings() -> None:
    data = zip_bytes(
        {
            "app/settings/dev.py": b"DEBUG = True\n",
            "tests/test_app.py": b"app.run(debug=True)\n",
            "config/environments/development.rb": b"config.consider_all_requests_local = true\n",
        }
    )
    assert [f for f in _scan_bytes(data) if f.check_id == "secrets.repo.debug"] == []


def _scan_bytes(data: bytes, limits: Limits | None = None, name: str = "upload") -> list[Finding]:
    import tempfile

    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / name
        path.write_bytes(data)
        return scan_upload(path, limits).findings


# --- Bad uploads: each one a clear reason, never a crash ---------------------------------------------


def _refused(data: bytes, limits: Limits | None = SMALL) -> str:
    with pytest.raises(ArchiveError) as caught:
        _scan_bytes(data, limits)
    return str(caught.value)


def test_it_refuses_what_is_not_an_archive() -> None:
    assert "not a zip, tar.gz or git bundle" in _refused(b"just some text, not an archive")
    assert "empty" in _refused(b"")


def test_it_refuses_a_corrupt_archive() -> None:
    good = zip_bytes({"a.py": b"print(1)\n" * 100})
    assert "damaged" in _refused(good[:60] + b"\x00" * 40 + good[100:])
    assert "damaged" in _refused(tar_bytes({"a.py": os.urandom(5000)})[:2000])
    assert "damaged" in _refused(b"PK\x03\x04" + b"garbage" * 20)


def test_it_refuses_an_upload_over_the_size_limit() -> None:
    assert "the limit is 2 MB" in _refused(zip_bytes({"a.bin": os.urandom(3 * 2**20)}), SMALL)


def test_it_refuses_a_zip_bomb_by_the_bytes_it_really_unpacks() -> None:
    bomb = zip_bytes({f"part{i}.txt": b"\x00" * (8 * 2**20) for i in range(4)})
    assert len(bomb) < 200_000
    assert "unpacks to more than" in _refused(bomb, Limits())  # 32 MB from under 200 kB: past the ratio
    assert "unpacks to more than 4 MB" in _refused(
        zip_bytes({"a.txt": b"a" * (5 * 2**20)}), Limits(total_bytes=4 << 20)
    )


def test_a_lying_zip_header_does_not_fool_the_count() -> None:
    data = bytearray(zip_bytes({"big.txt": b"\x00" * (6 * 2**20)}))
    # Claim the member is tiny in the central directory: the real bytes are what count.
    central = data.rfind(b"PK\x01\x02")
    data[central + 24 : central + 28] = (10).to_bytes(4, "little")
    message = _refused(bytes(data))
    assert "unpacks to more than" in message or "damaged" in message


@pytest.mark.parametrize(
    "name, reason",
    [
        ("../../etc/cron.d/evil", "leaves its folder"),
        ("a/../../evil.py", "leaves its folder"),
        ("/etc/passwd", "absolute path"),
        ("C:/Windows/evil.py", "absolute path"),
        ("a/" * 10 + "deep.py", "nests folders"),
    ],
)
def test_it_refuses_paths_that_escape_or_nest_too_deep(name: str, reason: str) -> None:
    assert reason in _refused(zip_bytes({name: b"x = 1\n"}))
    assert reason in _refused(tar_bytes({name: b"x = 1\n"}))


def test_links_are_never_followed(tmp_path: Path) -> None:
    secret_outside = tmp_path / "outside.env"
    secret_outside.write_text(f"GITHUB_TOKEN={GITHUB_TOKEN}\n")
    zipped = zip_bytes({"a.py": b"x = 1\n"}, symlinks={"link.env": str(secret_outside)})
    tarred = tar_bytes(
        {"a.py": b"x = 1\n"},
        links={"sym.env": (tarfile.SYMTYPE, str(secret_outside)), "hard.env": (tarfile.LNKTYPE, "a.py")},
    )
    for data in (zipped, tarred):
        with open(tmp_path / "upload", "wb") as f:
            f.write(data)
        report = scan_upload(tmp_path / "upload", SMALL)
        assert report.findings == []  # the token behind the link was never read
        assert report.stats["skipped_links"] >= 1


def test_git_alternates_cannot_point_the_scan_at_another_repository_on_the_server(repo: Path) -> None:
    # An upload whose .git borrows its objects from a repository on the server's disk, and whose ref names a
    # commit that only that repository holds: the scan must not read it.
    from dulwich.repo import Repo

    with Repo(str(repo)) as other:
        head = other.head()
    entries = {
        ".git/HEAD": b"ref: refs/heads/main\n",
        ".git/refs/heads/main": head + b"\n",
        ".git/objects/info/alternates": str(repo / ".git" / "objects").encode() + b"\n",
        ".git/config": b"[core]\n\trepositoryformatversion = 0\n",
    }
    with pytest.raises(ArchiveError):
        _scan_bytes(zip_bytes(entries), SMALL)


def test_it_refuses_too_many_files() -> None:
    assert "more than 50 files" in _refused(zip_bytes({f"f{i}.txt": b"x" for i in range(60)}))


def test_a_large_working_tree_file_is_skipped_not_fatal() -> None:
    report_findings = _scan_bytes(zip_bytes({"dump.sql": b"x" * (100 * 1024), "a.py": b"x = 1\n"}), SMALL)
    assert report_findings == []


def test_a_damaged_git_bundle_is_refused(repo: Path, tmp_path: Path) -> None:
    data = bundle_of(repo, tmp_path / "b").read_bytes()
    assert "damaged" in _refused(data[: len(data) // 2], Limits()) or "truncated" in _refused(
        data[: len(data) // 2], Limits()
    )
    assert "header never ends" in _refused(b"# v2 git bundle\n" + b"0" * 40, Limits())


def test_a_git_folder_with_a_pack_bomb_is_refused() -> None:
    import zlib

    blob = zlib.compress(b"\x00" * (6 * 2**20), 9)
    pack = b"PACK" + (2).to_bytes(4, "big") + (1).to_bytes(4, "big")
    size = 6 * 2**20
    header = bytearray([0x80 | (3 << 4) | (size & 15)])
    size >>= 4
    while size:
        header.append((0x80 if size > 127 else 0) | (size & 127))
        size >>= 7
    pack += bytes(header) + blob + b"\x00" * 20
    message = _refused(zip_bytes({".git/HEAD": b"ref: refs/heads/main\n", ".git/objects/pack/pack-x.pack": pack}))
    assert "unpacks to more than 4 MB" in message or "larger than the scan allows" in message


# --- As a job: the upload held until the scan ends, then gone ---------------------------------------------


def _upload(tenant: Tenant, data: bytes, name: str = "acme.zip") -> tuple[RepoScan, str]:
    """A scan queued as the page queues it, and the key its task message would carry."""
    from audits.secrets.archive import sniff

    scan = RepoScan.objects.create(client=tenant.client, filename=name, kind=sniff(data[:512]) or "zip", size=len(data))
    return scan, upload_hold(scan, data)


@pytest.mark.django_db
def test_a_scan_records_findings_on_the_risk_list_and_deletes_the_upload(
    tenant: Tenant, repo: Path, tmp_path: Path
) -> None:
    data = zip_of(repo, tmp_path / "acme.zip").read_bytes()
    scan, key = _upload(tenant, data)
    held = bytes(RepoUpload.objects.get(scan=scan).data)
    assert data not in held and b"AWS_SECRET" not in held  # held encrypted with the task's key
    done = repo_scan_execute(scan.id, key)
    assert done is not None and done.state == RepoScan.State.DONE
    assert not RepoUpload.objects.filter(scan=scan).exists()
    risks = risk_list(tenant.client)
    assert risks.scan == done and risks.go is False
    repo_rows = [f for f in risks.findings if isinstance(f, RepoFinding)]
    assert {f.check_id for f in repo_rows} >= {"secrets.repo.key", "secrets.repo.env_file", "env.undocumented"}
    assert {f.item for f in repo_rows if f.check_id.startswith("secrets.repo.key")} == {"secrets"}
    assert {f.item for f in repo_rows if f.check_id.startswith("env.")} == {"environment_variables"}
    assert repo_rows[0].severity == "blocker" and repo_rows[0].source == "Repository acme.zip"
    dumped = repr(export(tenant.client))
    assert AWS_SECRET not in dumped and GITHUB_TOKEN not in dumped
    assert repo_scan_execute(scan.id, key) is None  # delivered twice: scanned once


@pytest.mark.django_db
def test_a_second_scan_marks_what_was_fixed_but_a_committed_key_stays_open(
    tenant: Tenant, repo: Path, tmp_path: Path
) -> None:
    """A key that was committed is leaked until it is rotated: a scan that no longer sees it does not close it."""
    first, key = _upload(tenant, zip_of(repo, tmp_path / "acme.zip").read_bytes())
    repo_scan_execute(first.id, key)
    clean, key = _upload(tenant, zip_bytes({"acme/app.py": b"print('hello')\n"}), "acme-2.zip")
    repo_scan_execute(clean.id, key)
    rows = RepoFinding.objects.filter(scan=clean)
    keys = [f for f in rows if f.check_id == "secrets.repo.key"]
    assert keys and all(f.change == RepoFinding.Change.STILL_OPEN for f in keys)
    assert all(
        f.evidence["now"] == "no longer in the code, but still leaked to anyone with a copy: rotate it" for f in keys
    )
    others = [f for f in rows if f.check_id != "secrets.repo.key"]
    assert others and all(f.change == RepoFinding.Change.FIXED for f in others)
    assert risk_list(tenant.client).go is False


@pytest.mark.django_db
@pytest.mark.parametrize(
    "data, reason",
    [
        (zip_bytes({"acme/": b""}), "The upload held no file that could be read."),
        (
            zip_bytes({}, symlinks={"acme/link.py": "/etc/passwd"}),
            "The upload held no file that could be read: only 1 link (links are never followed), skipped.",
        ),
        (
            zip_bytes({"acme/zeros.bin": b"\0" * (6 << 20)}),  # a bomb: megabytes of zeros that pack into kilobytes
            "The upload held no file that could be read: only 1 file over the 5 MB a file may have, skipped.",
        ),
    ],
    ids=["only a folder", "only a link", "only a file too large"],
)
def test_an_upload_with_nothing_to_read_fails_says_what_it_held_and_closes_nothing(
    tenant: Tenant, repo: Path, tmp_path: Path, data: bytes, reason: str
) -> None:
    first, key = _upload(tenant, zip_of(repo, tmp_path / "acme.zip").read_bytes())
    repo_scan_execute(first.id, key)
    empty, key = _upload(tenant, data, "acme-2.zip")
    failed = repo_scan_execute(empty.id, key)
    assert failed is not None and failed.state == RepoScan.State.FAILED
    assert failed.reason == reason
    assert not RepoFinding.objects.filter(scan=empty).exists()
    assert risk_list(tenant.client).scan == first and risk_list(tenant.client).go is False


@pytest.mark.django_db
@pytest.mark.parametrize(
    "data, reason",
    [
        (b"PK\x03\x04" + b"garbage" * 20, "damaged"),
        (zip_bytes({"../escape.py": b"x"}), "leaves its folder"),
        (b"# v2 git bundle\n" + b"0" * 40, "header never ends"),
    ],
    ids=["corrupt", "traversal", "bad bundle"],
)
def test_a_scan_that_fails_says_why_and_deletes_the_upload(tenant: Tenant, data: bytes, reason: str) -> None:
    scan, key = _upload(tenant, data)
    failed = repo_scan_execute(scan.id, key)
    assert failed is not None and failed.state == RepoScan.State.FAILED
    assert reason in failed.reason
    assert not RepoUpload.objects.exists()
    assert risk_list(tenant.client).scan is None


@pytest.mark.django_db
def test_a_scan_without_its_key_fails_and_deletes_the_upload(tenant: Tenant) -> None:
    scan, _ = _upload(tenant, zip_bytes({"a.py": b"x = 1\n"}))
    failed = repo_scan_execute(scan.id, "")
    assert failed is not None and failed.state == RepoScan.State.FAILED and "could not be read back" in failed.reason
    assert not RepoUpload.objects.exists()


@pytest.mark.django_db
def test_a_scan_whose_worker_died_is_failed_and_its_upload_deleted(tenant: Tenant) -> None:
    scan, _ = _upload(tenant, zip_bytes({"a.py": b"x = 1\n"}))
    RepoScan.objects.filter(id=scan.id).update(
        state=RepoScan.State.RUNNING, started_at=timezone.now() - timedelta(hours=1)
    )
    assert reap_stale_scans() == 1
    scan.refresh_from_db()
    assert scan.state == RepoScan.State.FAILED and "worker stopped" in scan.reason
    assert not RepoUpload.objects.exists()


# --- The page ----------------------------------------------------------------------------------------


@pytest.mark.django_db
def test_the_page_queues_a_scan_and_shows_it(tenant: Tenant, repo: Path, tmp_path: Path) -> None:
    http = login(tenant.consultant)
    url = reverse("repo_scans", args=[tenant.client.code])
    data = zip_of(repo, tmp_path / "acme.zip").read_bytes()
    response = http.post(url, {"archive": SimpleUploadedFile("../../acme.zip", data)})
    assert response.status_code == 302
    scan = RepoScan.objects.get()
    assert scan.filename == "acme.zip" and scan.kind == "zip" and scan.size == len(data)
    page = http.get(url)
    assert b"acme.zip" in page.content and b"hx-get" in page.content  # polls while the scan is queued
    assert http.get(reverse("repo_scans_status", args=[tenant.client.code])).status_code == 200


@pytest.mark.django_db
@pytest.mark.parametrize(
    "name, data, message",
    [
        ("notes.txt", b"hello, not an archive", "This is not a zip, tar.gz or git bundle."),
        ("empty.zip", b"", "The submitted file is empty."),
    ],
)
def test_the_page_answers_bad_files_with_a_form_error(tenant: Tenant, name: str, data: bytes, message: str) -> None:
    http = login(tenant.consultant)
    response = http.post(reverse("repo_scans", args=[tenant.client.code]), {"archive": SimpleUploadedFile(name, data)})
    assert response.status_code == 400
    assert message in response.content.decode()
    assert not RepoScan.objects.exists()


@pytest.mark.django_db
def test_the_page_refuses_a_file_over_the_limit(tenant: Tenant, monkeypatch: pytest.MonkeyPatch) -> None:
    import audits.forms
    import audits.views

    monkeypatch.setattr(audits.forms, "LIMITS", Limits(upload_bytes=1024))
    monkeypatch.setattr(audits.views, "LIMITS", Limits(upload_bytes=1024))
    http = login(tenant.consultant)
    url = reverse("repo_scans", args=[tenant.client.code])
    small_over = zip_bytes({"a.bin": os.urandom(4000)})
    response = http.post(url, {"archive": SimpleUploadedFile("a.zip", small_over)})
    assert response.status_code == 400 and "the limit is 0 MB" in response.content.decode()
    huge = io.BytesIO(b"PK\x03\x04" + b"\x00" * (3 * 2**20))
    huge.name = "huge.zip"
    response = http.post(url, {"archive": huge})
    assert response.status_code == 400 and "too large" in response.content.decode()
    assert "This field is required" not in response.content.decode()  # a file was sent: its size is the fault
    assert not RepoScan.objects.exists()


@pytest.mark.django_db
def test_the_page_writes_its_figures_with_thousands_separators(tenant: Tenant) -> None:
    stats = {"files": 12408, "blobs": 1, "commits_with_history": 3, "skipped_large": 1204, "skipped_links": 2}
    RepoScan.objects.create(
        client=tenant.client,
        filename="big.zip",
        state=RepoScan.State.DONE,
        size=3 * 2**20,
        stats=stats,
        counts={"blocker": 1, "high": 2345},
    )
    page = login(tenant.consultant).get(reverse("repo_scans", args=[tenant.client.code])).content.decode()
    assert "12,408 files, 1 older version from git history, 2 links skipped, 1,204 large files skipped" in page
    assert "1 blocker, 2,345 high, 0 medium" in page and "3.0 MB" in page
    RepoScan.objects.update(size=1000)
    page = login(tenant.consultant).get(reverse("repo_scans", args=[tenant.client.code])).content.decode()
    assert "1,000 bytes" in page


@pytest.mark.django_db
def test_founders_see_the_scans_but_cannot_upload(tenant: Tenant) -> None:
    http = login(tenant.founder)
    url = reverse("repo_scans", args=[tenant.client.code])
    page = http.get(url)
    assert page.status_code == 200 and b'type="file"' not in page.content
    response = http.post(url, {"archive": SimpleUploadedFile("a.zip", zip_bytes({"a.py": b"x"}))})
    assert response.status_code == 403
    assert not RepoScan.objects.exists()


def test_zip_member_modes_other_than_files_are_links_or_devices() -> None:
    info = zipfile.ZipInfo("x")
    info.external_attr = 0o120777 << 16
    assert (info.external_attr >> 16) & 0o170000 == 0o120000


@pytest.mark.parametrize(("script", "provider", "kind"), GOOGLE_CONTEXTS)
def test_a_google_key_is_the_same_finding_in_a_repository_as_in_a_bundle(script: str, provider: str, kind: str) -> None:
    """A Google key is one to restrict (medium), a Firebase config's one too (low), and only a Gemini key a blocker
    to rotate: the same in a committed file as in a public bundle."""
    from audits.catalog import CATALOG, render, severity_of
    from audits.checks.secrets import bundle_check_id
    from audits.findings import Severity
    from audits.secrets.detector import scan_text

    text = script % FAKE_GOOGLE_KEY
    (finding,) = [f for f in _scan_bytes(zip_bytes({"src/config.js": text.encode()})) if "#env" not in f.subject]
    (hit,) = scan_text(text)
    bundle = bundle_check_id(hit, in_map=False)
    assert bundle.removeprefix("secrets.bundle.") == finding.check_id.removeprefix("secrets.repo.")
    assert severity_of(finding) == CATALOG[bundle].severity
    fix = render(finding)["fix"]
    if provider == "gcp_api_key":
        assert finding.check_id == "secrets.repo.google_key" and severity_of(finding) == Severity.MEDIUM
        assert "APIs & Services → Credentials" in fix and "Application restrictions" in fix
        assert "API restrictions" in fix and "HTTP referrers" in fix
    elif provider == "firebase_web":
        assert finding.check_id == "secrets.repo.firebase_key" and severity_of(finding) == Severity.LOW
        assert "Firebase APIs" in fix and "App Check" in fix and "HTTP referrers" in fix
    else:
        assert finding.check_id == "secrets.repo.key" and severity_of(finding) == Severity.BLOCKER
    assert FAKE_GOOGLE_KEY not in str(finding.evidence) + str(finding.params) + finding.subject


# --- Archives among the files and binary files -----------------------------------------------------------------


def _keys(findings: list[Finding]) -> dict[str, Finding]:
    return {f.subject.split("#")[1].split("-")[0]: f for f in findings if f.check_id == "secrets.repo.key"}


def test_a_key_in_an_archive_inside_the_upload_is_found_with_its_path_inside() -> None:
    inner_tar = tar_bytes({"app/settings.py": f'GITHUB_TOKEN = "{GITHUB_TOKEN}"\n'.encode()})
    inner_zip = zip_bytes({"config/.env": f"AWS_SECRET_ACCESS_KEY={AWS_SECRET}\n".encode(), "deploy.tar.gz": inner_tar})
    findings = _scan_bytes(zip_bytes({"README.md": b"hello\n", "backups/old.zip": inner_zip}))
    keys = _keys(findings)
    assert keys["aws"].params["where"] == "backups/old.zip/config/.env line 1"
    assert keys["github"].params["where"] == "backups/old.zip/deploy.tar.gz/app/settings.py line 1"
    assert [f.params["path"] for f in findings if f.check_id == "secrets.repo.env_file"] == [
        "backups/old.zip/config/.env"
    ]
    assert not [f for f in findings if f.check_id == "secrets.repo.unchecked"]


def _nested(depth: int, name: str, content: bytes) -> bytes:
    """An archive holding an archive … `depth` archives in all, the last holding `name`."""
    data = zip_bytes({name: content})
    for level in range(depth - 1, 0, -1):
        data = zip_bytes({f"level{level + 1}.zip": data})
    return data


def test_an_archive_nested_deeper_than_the_limit_is_reported_as_not_checked() -> None:
    key = f"GITHUB_TOKEN={GITHUB_TOKEN}\n".encode()
    three = _scan_bytes(zip_bytes({"a.zip": _nested(3, "token.txt", key)}))
    assert _keys(three)["github"].params["where"] == "a.zip/level2.zip/level3.zip/token.txt line 1"
    four = _scan_bytes(zip_bytes({"a.zip": _nested(4, "token.txt", key)}))
    assert "github" not in _keys(four)
    (unchecked,) = [f for f in four if f.check_id == "secrets.repo.unchecked"]
    from audits.catalog import render, severity_of
    from audits.findings import Severity

    assert severity_of(unchecked) == Severity.LOW and unchecked.evidence["count"] == 1
    assert list(unchecked.evidence["archives"]) == ["a.zip/level2.zip/level3.zip/level4.zip"]
    text = render(unchecked)
    assert text["title"] == "1 archive in the repository not checked for keys"
    assert "a.zip/level2.zip/level3.zip/level4.zip (an archive inside 3 others" in text["explanation"]
    assert "…" not in text["title"] + text["explanation"] + text["fix"]


def test_a_damaged_or_unsafe_archive_inside_is_not_checked_and_the_rest_is() -> None:
    escaping = io.BytesIO()
    with zipfile.ZipFile(escaping, "w") as archive:
        archive.writestr("../../outside.txt", f"GITHUB_TOKEN={GITHUB_TOKEN}\n")
    findings = _scan_bytes(
        zip_bytes(
            {
                "broken.zip": b"PK\x03\x04" + b"garbage" * 20,
                "escape.zip": escaping.getvalue(),
                "data.sql.gz": gzip.compress(f"aws_secret_access_key={AWS_SECRET}\n".encode()),
                "app.py": f'STRIPE = "{GITHUB_TOKEN}"\n'.encode(),
            }
        )
    )
    (unchecked,) = [f for f in findings if f.check_id == "secrets.repo.unchecked"]
    why = unchecked.evidence["archives"]
    assert why["broken.zip"].startswith("it is damaged") and why["escape.zip"].startswith("it holds a path that")
    assert "github" in _keys(findings)  # app.py, the rest of the upload, is still read
    assert _keys(findings)["aws"].params["where"] == "data.sql.gz line 1"  # a gzipped file's content stands for it
    assert not (Path.cwd() / "outside.txt").exists() and not Path("/outside.txt").exists()


def test_a_bomb_inside_the_upload_is_stopped_and_its_bytes_count_against_the_total() -> None:
    bomb = zip_bytes({f"zeros{i}.bin": b"\x00" * (3 * 2**20) for i in range(3)})
    assert len(bomb) < 40_000
    findings = _scan_bytes(zip_bytes({"bomb.zip": bomb, "app.py": f'TOKEN = "{GITHUB_TOKEN}"\n'.encode()}))
    (unchecked,) = [f for f in findings if f.check_id == "secrets.repo.unchecked"]
    assert unchecked.evidence["archives"] == {"bomb.zip": "it unpacks to more than 200 times its size"}
    assert "github" in _keys(findings)
    # What archives inside unpack to counts against the upload's total, as the upload's own files do.
    inner = zip_bytes({f"part{i}.txt": os.urandom(400_000).hex().encode() for i in range(6)})
    assert "unpacks to more than 4 MB" in _refused(zip_bytes({"inner.zip": inner}), Limits(total_bytes=4 << 20))


def test_a_key_in_a_binary_file_of_the_upload_is_found(tmp_path: Path) -> None:
    import py_compile

    (tmp_path / "settings.py").write_text(f'GITHUB_TOKEN = "{GITHUB_TOKEN}"\n')
    pyc = Path(py_compile.compile(str(tmp_path / "settings.py"), cfile=str(tmp_path / "s.pyc"))).read_bytes()
    findings = _scan_bytes(zip_bytes({"app/__pycache__/settings.cpython-311.pyc": pyc, "README.md": b"hi\n"}))
    where = _keys(findings)["github"].params["where"]
    assert where == "app/__pycache__/settings.cpython-311.pyc (in the text of a binary file)"


def test_a_key_in_an_archive_committed_then_deleted_is_found_in_history(tmp_path: Path) -> None:
    from tests.audits.repos import git

    root = tmp_path / "repo"
    root.mkdir()
    git(root, "init", "-q", "-b", "main")
    (root / "backup.zip").write_bytes(zip_bytes({"old/.env": f"GITHUB_TOKEN={GITHUB_TOKEN}\n".encode()}))
    (root / "README.md").write_text("hello\n")
    git(root, "add", "-A")
    git(root, "commit", "-qm", "Add a backup")
    git(root, "rm", "-q", "backup.zip")
    git(root, "commit", "-qm", "Remove the backup")
    report = scan_upload(bundle_of(root, tmp_path / "repo.bundle"))
    github = _keys(report.findings)["github"]
    assert github.evidence["seen in"] == "git history only"
    assert "backup.zip/old/.env in commit" in github.params["where"] and "since deleted" in github.params["where"]
