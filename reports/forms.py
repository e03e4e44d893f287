"""The weekly report's schedule form."""

from __future__ import annotations

from django import forms

from reports.models import ReportSchedule

HOURS = [(h, f"{h:02d}:00") for h in range(24)]


class ReportScheduleForm(forms.ModelForm[ReportSchedule]):
    hour = forms.TypedChoiceField(choices=HOURS, coerce=int)

    class Meta:
        model = ReportSchedule
        fields = ["enabled", "weekday", "hour"]
