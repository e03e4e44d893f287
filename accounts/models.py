"""Users, workspaces (the tenants), memberships with roles, and invitations."""

from __future__ import annotations

import hashlib
import secrets
import uuid
from datetime import timedelta
from typing import Any

from django.contrib.auth.base_user import AbstractBaseUser, BaseUserManager
from django.contrib.auth.models import PermissionsMixin
from django.db import models
from django.db.models import Q
from django.utils import timezone

from launchready.roles import STAFF_ROLES, Role


class UserManager(BaseUserManager["User"]):
    use_in_migrations = True

    def _create(self, email: str, password: str | None, **extra: Any) -> User:
        if not email:
            raise ValueError("A user needs an email address")
        user = self.model(email=self.normalize_email(email).lower(), **extra)
        user.set_password(password)
        user.save(using=self._db)
        return user

    def create_user(self, email: str, password: str | None = None, **extra: Any) -> User:
        extra.setdefault("is_staff", False)
        extra.setdefault("is_superuser", False)
        return self._create(email, password, **extra)

    def create_superuser(self, email: str, password: str | None = None, **extra: Any) -> User:
        extra.update(is_staff=True, is_superuser=True)
        return self._create(email, password, **extra)


class User(AbstractBaseUser, PermissionsMixin):
    """A person who signs in with an email address: a consultant or a founder."""

    email = models.EmailField("email address", unique=True)
    name = models.CharField(max_length=150, blank=True)
    is_staff = models.BooleanField(default=False)
    is_active = models.BooleanField(default=True)
    date_joined = models.DateTimeField(default=timezone.now)

    objects = UserManager()

    USERNAME_FIELD = "email"
    EMAIL_FIELD = "email"
    REQUIRED_FIELDS = []

    class Meta:
        ordering = ["email"]

    def __str__(self) -> str:
        return self.email

    def get_full_name(self) -> str:
        return self.name or self.email

    def get_short_name(self) -> str:
        return self.name.split(" ")[0] if self.name else self.email.split("@")[0]


class Workspace(models.Model):
    """One consultancy: the tenant every client, domain and finding belongs to."""

    code = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    name = models.CharField(max_length=120)
    require_mfa = models.BooleanField(default=False, help_text="Every member must set up two-factor authentication.")
    created = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name


class MembershipQuerySet(models.QuerySet["Membership"]):
    def staff(self) -> MembershipQuerySet:
        return self.filter(role__in=STAFF_ROLES)


class Membership(models.Model):
    """A user's place in a workspace. A founder's membership is bound to exactly one client."""

    code = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    user = models.ForeignKey(User, models.CASCADE, related_name="memberships")
    workspace = models.ForeignKey(Workspace, models.CASCADE, related_name="memberships")
    role = models.CharField(max_length=20, choices=Role.choices)
    client = models.ForeignKey(
        "launchready.Client", models.CASCADE, null=True, blank=True, related_name="founder_memberships"
    )
    created = models.DateTimeField(default=timezone.now)

    objects = MembershipQuerySet.as_manager()

    class Meta:
        ordering = ["created"]
        constraints = [
            models.UniqueConstraint(fields=["user", "workspace"], name="one_membership_per_workspace"),
            models.CheckConstraint(
                condition=(Q(role=Role.FOUNDER) & Q(client__isnull=False))
                | (~Q(role=Role.FOUNDER) & Q(client__isnull=True)),
                name="founder_bound_to_one_client",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.user} in {self.workspace} ({self.role})"

    @property
    def is_staff_role(self) -> bool:
        return self.role in STAFF_ROLES

    @property
    def is_owner(self) -> bool:
        return self.role == Role.OWNER


INVITATION_LIFETIME = timedelta(days=7)


def hash_token(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


class InvitationQuerySet(models.QuerySet["Invitation"]):
    def pending(self) -> InvitationQuerySet:
        return self.filter(accepted_at__isnull=True, revoked_at__isnull=True, expires__gt=timezone.now())


class Invitation(models.Model):
    """An emailed invitation to join a workspace as a colleague or as one client's founder.

    Only a hash of the token is stored: the link in the email is the one copy of the secret.
    """

    code = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    workspace = models.ForeignKey(Workspace, models.CASCADE, related_name="invitations")
    email = models.EmailField()
    role = models.CharField(max_length=20, choices=Role.choices)
    client = models.ForeignKey("launchready.Client", models.CASCADE, null=True, blank=True, related_name="invitations")
    invited_by = models.ForeignKey(User, models.SET_NULL, null=True, related_name="+")
    token_hash = models.CharField(max_length=64, unique=True)
    created = models.DateTimeField(default=timezone.now)
    expires = models.DateTimeField()
    sent_at = models.DateTimeField(null=True, blank=True)
    accepted_at = models.DateTimeField(null=True, blank=True)
    accepted_by = models.ForeignKey(User, models.SET_NULL, null=True, blank=True, related_name="+")
    revoked_at = models.DateTimeField(null=True, blank=True)

    objects = InvitationQuerySet.as_manager()

    class Meta:
        ordering = ["-created"]
        constraints = [
            models.CheckConstraint(
                condition=(Q(role=Role.FOUNDER) & Q(client__isnull=False))
                | (~Q(role=Role.FOUNDER) & Q(client__isnull=True)),
                name="founder_invitation_bound_to_one_client",
            ),
        ]

    def __str__(self) -> str:
        return f"Invitation for {self.email} to {self.workspace}"

    @staticmethod
    def new_token() -> str:
        return secrets.token_urlsafe(32)

    @property
    def is_pending(self) -> bool:
        return self.accepted_at is None and self.revoked_at is None and self.expires > timezone.now()


class Activity(models.Model):
    """One thing someone did in a workspace: who, what, to which object, when and from roughly where.

    Nothing secret or personal is kept beyond the actor's email: targets are described by the names the
    consultancy gave them (a client, a token, a channel), and the address is truncated to its network.
    """

    workspace = models.ForeignKey(Workspace, models.CASCADE, related_name="activities")
    actor = models.ForeignKey(User, models.SET_NULL, null=True, blank=True, related_name="+")
    actor_email = models.EmailField(blank=True, help_text="Kept when the person's account is deleted.")
    verb = models.CharField(max_length=40)
    target = models.CharField(max_length=200, blank=True)
    ip_network = models.CharField(max_length=50, blank=True, help_text="The address with its host part removed.")
    created = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["-created", "-id"]
        indexes = [models.Index(fields=["workspace", "-created"]), models.Index(fields=["workspace", "verb"])]
        verbose_name_plural = "activities"

    def __str__(self) -> str:
        return f"{self.actor_email or 'Launch Ready'} {self.verb} {self.target}".strip()
