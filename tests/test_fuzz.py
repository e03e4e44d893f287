"""Fuzzing with hypothesis: the repository upload (random bytes, random zip and tar structures) and the domain
and DNS record parsers. Nothing escapes as a 500; parsers raise only their documented errors."""

from __future__ import annotations

import contextlib
import io
import tarfile
import tempfile
from pathlib import Path
from typing import Any

import pytest
from django.urls import reverse
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from audits.checks.secrets import inline_map, map_sources, script_urls
from audits.email import dkim, dmarc, spf
from audits.models import RepoScan, RepoUpload
from audits.secrets.archive import ArchiveError, Limits
from audits.secrets.detector import scan_text
from audits.secrets.repo import scan_upload
from audits.target import AuditTarget
from launchready.domains import DomainError, normalise_hostname, normalise_label, normalise_selector, parse_domain
from launchready.net import FetchResult, Hop
from tests.audits.repos import tar_bytes, zip_bytes
from tests.conftest import Tenant, login

FAST = settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
LIMITS = Limits(upload_bytes=2**20, total_bytes=2**21, files=40, depth=8, file_bytes=2**16)

MAGIC = st.sampled_from(
    [b"", b"PK\x03\x04", b"PK\x05\x06", b"\x1f\x8b\x08\x00", b"# v2 git bundle\n", b"# v3 git bundle\n"]
)
NAMES = st.text(alphabet="ab./\\:-_ .\x00é", min_size=1, max_size=30)
ENTRIES = st.dictionaries(NAMES, st.binary(max_size=300), max_size=8)


def _scan(data: bytes) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "upload"
        path.write_bytes(data)
        try:
            report = scan_upload(path, LIMITS)
        except ArchiveError as exc:
            assert str(exc)  # a reason to show
        else:
            assert isinstance(report.findings, list)


@FAST
@given(head=MAGIC, body=st.binary(max_size=2000))
def test_random_bytes_end_in_findings_or_a_reason(head: bytes, body: bytes) -> None:
    _scan(head + body)


@pytest.mark.filterwarnings("ignore:Duplicate name")  # duplicate names are part of the fuzzing
@FAST
@given(entries=ENTRIES)
def test_random_zip_structures_end_in_findings_or_a_reason(entries: dict[str, bytes]) -> None:
    try:
        data = zip_bytes(entries)
    except (ValueError, IndexError):
        return  # zipfile itself refuses to write such a name
    _scan(data)


@FAST
@given(
    entries=ENTRIES,
    links=st.dictionaries(NAMES, st.tuples(st.sampled_from([tarfile.SYMTYPE, tarfile.LNKTYPE]), NAMES), max_size=3),
    cut=st.integers(min_value=0, max_value=4000),
)
def test_random_tar_structures_end_in_findings_or_a_reason(
    entries: dict[str, bytes], links: dict[str, tuple[bytes, str]], cut: int
) -> None:
    try:
        data = tar_bytes(entries, links=links)
    except (ValueError, UnicodeEncodeError):
        return
    _scan(data[: cut or None])


@FAST
@pytest.mark.django_db
@given(head=MAGIC, body=st.binary(max_size=1500), name=st.text(max_size=40))
def test_the_upload_page_never_answers_500(
    tenant: Tenant, eager_tasks: None, django_capture_on_commit_callbacks: Any, head: bytes, body: bytes, name: str
) -> None:
    http = login(tenant.consultant)
    upload = io.BytesIO(head + body)
    upload.name = name
    with django_capture_on_commit_callbacks(execute=True):  # the scan task runs in-process once committed
        response = http.post(reverse("repo_scans", args=[tenant.client.code]), {"archive": upload})
    assert response.status_code in (302, 400)
    assert not RepoScan.objects.filter(state__in=[RepoScan.State.QUEUED, RepoScan.State.RUNNING]).exists()
    assert not RepoUpload.objects.exists()


@FAST
@given(text=st.text(max_size=300))
def test_domain_parsers_raise_only_domain_errors(text: str) -> None:
    for parse in (parse_domain, normalise_hostname, normalise_label, normalise_selector):
        with contextlib.suppress(DomainError):  # the one error a parser may raise
            parse(text)


DNS_TEXT = st.one_of(
    st.text(max_size=300),
    st.lists(
        st.sampled_from(
            ["v=spf1", "v=DMARC1", "v=DKIM1", "p=", "p=reject", "rua=mailto:", "include:", "ip4:", "ip6:", "a:", "mx",
             "-all", "~all", "%{i}", "redirect=", "k=rsa", "h=sha1", "t=y", ";", " ", "/24", "!10m", "MIIB", "=="]
        ),
        max_size=20,
    ).map("".join),
)  # fmt: skip


@FAST
@given(text=DNS_TEXT)
def test_record_parsers_report_problems_and_never_raise(text: str) -> None:
    spf.is_spf_record(text)
    spf._parse(text)
    dmarc.is_dmarc_record(text)
    dmarc.parse_record(text)
    dmarc.parse_uri(text)
    dkim.is_key_record(text)
    dkim.parse_key_record(text)


@FAST
@given(text=st.text(max_size=2000))
def test_the_detector_and_the_bundle_readers_take_any_text(text: str) -> None:
    scan_text(text)
    map_sources(text)
    inline_map("data:application/json;base64," + text)
    inline_map("data:," + text)
    page = FetchResult([Hop("https://www.example.test/", status=200)], body=text.encode("utf-8", "replace"))
    for url in script_urls(page, AuditTarget(apex="example.test")):
        assert url.startswith(("http://", "https://"))
