"""Keeps the audits' part of each client's status row (audits/client_status.py) in step with the runs, scans
and domains it is computed from, whoever saves or deletes them."""

from __future__ import annotations

from typing import Any

from django.db.models.signals import post_delete, post_save
from django.dispatch import receiver

from audits import client_status
from audits.models import AuditRun, RepoScan
from launchready.models import Domain


@receiver(post_save, sender=AuditRun, dispatch_uid="audits.client_status.run_saved")
def run_saved(sender: type[AuditRun], instance: AuditRun, raw: bool = False, **kwargs: Any) -> None:
    if not raw:  # not while loading fixtures
        client_status.refresh_for_domains([instance.domain_id])


@receiver(post_save, sender=RepoScan, dispatch_uid="audits.client_status.scan_saved")
def scan_saved(sender: type[RepoScan], instance: RepoScan, raw: bool = False, **kwargs: Any) -> None:
    if not raw:
        client_status.refresh([instance.client_id])


@receiver(post_delete, sender=Domain, dispatch_uid="audits.client_status.domain_deleted")
def domain_deleted(sender: type[Domain], instance: Domain, **kwargs: Any) -> None:
    client_status.refresh([instance.client_id])  # its runs went with it
