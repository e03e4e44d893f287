"""factory-boy factories for the core records, and the monitoring records a test of latency builds on."""

from __future__ import annotations

from datetime import timedelta

import factory
from allauth.account.models import EmailAddress
from django.utils import timezone

from accounts.models import INVITATION_LIFETIME, Invitation, Membership, Role, User, Workspace, hash_token
from launchready.models import Client, Contact, Domain, Route, Sprint
from monitoring.models import Deploy, Monitor

PASSWORD = "correct-horse-battery-staple"


class UserFactory(factory.django.DjangoModelFactory[User]):
    class Meta:
        model = User
        skip_postgeneration_save = True

    email = factory.Sequence(lambda n: f"person{n}@example.com")
    name = factory.Faker("name")
    password = factory.PostGenerationMethodCall("set_password", PASSWORD)

    @factory.post_generation
    def verified(self, create: bool, extracted: object, **kwargs: object) -> None:
        if create:
            self.save()
            EmailAddress.objects.create(user=self, email=self.email, verified=True, primary=True)


class WorkspaceFactory(factory.django.DjangoModelFactory[Workspace]):
    class Meta:
        model = Workspace

    name = factory.Sequence(lambda n: f"Consultancy {n}")


class ClientFactory(factory.django.DjangoModelFactory[Client]):
    class Meta:
        model = Client

    workspace = factory.SubFactory(WorkspaceFactory)
    name = factory.Sequence(lambda n: f"Client Co {n}")
    product_kind = Client.ProductKind.B2B_DASHBOARD
    stage = Client.Stage.DEMO_TO_LAUNCH
    timezone = "Europe/London"


class MembershipFactory(factory.django.DjangoModelFactory[Membership]):
    class Meta:
        model = Membership

    user = factory.SubFactory(UserFactory)
    workspace = factory.SubFactory(WorkspaceFactory)
    role = Role.CONSULTANT


class ContactFactory(factory.django.DjangoModelFactory[Contact]):
    class Meta:
        model = Contact

    client = factory.SubFactory(ClientFactory)
    name = factory.Faker("name")
    email = factory.Sequence(lambda n: f"contact{n}@client.example")


class DomainFactory(factory.django.DjangoModelFactory[Domain]):
    class Meta:
        model = Domain

    client = factory.SubFactory(ClientFactory)
    name = factory.Sequence(lambda n: f"client{n}.example")
    hosts = factory.LazyFunction(lambda: ["app", "api"])


class RouteFactory(factory.django.DjangoModelFactory[Route]):
    class Meta:
        model = Route

    domain = factory.SubFactory(DomainFactory)
    host = "app"
    path = factory.Sequence(lambda n: f"/page-{n}")
    kind = Route.Kind.LOGIN
    expected_statuses = factory.LazyFunction(lambda: [200])


class SprintFactory(factory.django.DjangoModelFactory[Sprint]):
    class Meta:
        model = Sprint

    client = factory.SubFactory(ClientFactory)
    started_at = factory.LazyFunction(lambda: timezone.now() - timedelta(hours=6))
    deadline = factory.LazyAttribute(lambda o: o.started_at + timedelta(hours=48))
    state = Sprint.State.ACTIVE


class InvitationFactory(factory.django.DjangoModelFactory[Invitation]):
    class Meta:
        model = Invitation

    workspace = factory.SubFactory(WorkspaceFactory)
    email = factory.Sequence(lambda n: f"invitee{n}@example.com")
    role = Role.CONSULTANT
    token_hash = factory.Sequence(lambda n: hash_token(f"token-{n}"))
    expires = factory.LazyFunction(lambda: timezone.now() + INVITATION_LIFETIME)


class MonitorFactory(factory.django.DjangoModelFactory[Monitor]):
    """A monitor of a route (of a new login route of a new client unless given)."""

    class Meta:
        model = Monitor

    route = factory.SubFactory(RouteFactory)
    client = factory.LazyAttribute(lambda o: o.route.domain.client)
    url = factory.LazyAttribute(lambda o: o.route.url)
    expected_statuses = factory.LazyFunction(lambda: [200])


class DeployFactory(factory.django.DjangoModelFactory[Deploy]):
    class Meta:
        model = Deploy

    client = factory.SubFactory(ClientFactory)
    version = factory.Sequence(lambda n: f"v1.{n}.0")
    commit = factory.Sequence(lambda n: f"{n:08x}")
    smoke = Deploy.Smoke.PASSED
