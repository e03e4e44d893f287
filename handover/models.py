"""The handover app's records."""

from handover.report_models import ReportOptOut, ReportSchedule, WeeklyReport  # noqa: F401
