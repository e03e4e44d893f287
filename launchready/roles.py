"""The roles a person holds in a workspace, and which of them are the consultancy's staff."""

from django.db import models


class Role(models.TextChoices):
    OWNER = "owner", "Owner"
    CONSULTANT = "consultant", "Consultant"
    FOUNDER = "founder", "Founder"


STAFF_ROLES = (Role.OWNER, Role.CONSULTANT)
