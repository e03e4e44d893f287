"""The handover app's records."""

from handover.report_models import DigestSubscription, ReportOptOut, ReportSchedule, WeeklyReport  # noqa: F401
