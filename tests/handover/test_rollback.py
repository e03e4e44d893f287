"""Deploy and rollback steps per hosting: the provider's own screens and commands, with the client's app name."""

from __future__ import annotations

import pytest
from django.urls import reverse

from handover.rollback import OTHER, PROCEDURES, deploy_plan, procedure_for
from launchready.models import Domain
from tests.conftest import Tenant, login

pytestmark = pytest.mark.django_db

Hosting = Domain.HostingProvider

# What each provider's rollback must mention: its real command or the name of its button.
ROLLBACK_MARKS = {
    Hosting.VERCEL: ["Instant Rollback", "vercel rollback", "vercel promote"],
    Hosting.NETLIFY: ["Publish deploy", "auto publishing"],
    Hosting.RENDER: ["Rollback", "Auto-Deploy"],
    Hosting.FLY: ["fly releases -a <app> --image", "fly deploy -a <app> --image"],
    Hosting.HEROKU: ["heroku releases -a <app>", "heroku rollback v123 -a <app>", "Roll back to here"],
    Hosting.RAILWAY: ["Deployments", "Rollback"],
    Hosting.VPS: ["docker compose pull && docker compose up -d", "git checkout <commit>", "docker compose ps"],
}


@pytest.mark.parametrize("hosting", list(ROLLBACK_MARKS), ids=str)
def test_each_provider_rolls_back_with_its_own_tools(tenant: Tenant, hosting: str) -> None:
    Domain.objects.filter(pk=tenant.domain.pk).update(hosting_provider=hosting)
    plan = deploy_plan(Domain.objects.get(pk=tenant.domain.pk))
    text = " ".join(s["text"] + " " + s["command"] for s in plan["rollback"])
    for mark in ROLLBACK_MARKS[hosting]:
        assert mark in text, (hosting, mark)
    assert plan["deploy"] and plan["secrets"]
    assert plan["rollback"][0]["text"].startswith("Write down the time")  # the same first steps everywhere
    assert "Open the homepage" in plan["rollback"][-3]["text"]


def test_every_hosting_choice_has_steps_and_the_rest_get_the_generic_procedure() -> None:
    assert set(PROCEDURES) == set(ROLLBACK_MARKS)
    for hosting in (Hosting.AWS, Hosting.OTHER, Hosting.SUPABASE):
        assert procedure_for(hosting) is OTHER
    assert any("git revert" in s.command for s in OTHER.rollback)


def test_the_deploy_method_picks_the_deploy_steps(tenant: Tenant) -> None:
    domain = tenant.domain
    domain.hosting_provider, domain.deploy_method = Hosting.RENDER, Domain.DeployMethod.CI_PIPELINE
    assert "RENDER_DEPLOY_HOOK_URL" in deploy_plan(domain)["deploy"][0]["command"]
    domain.deploy_method = Domain.DeployMethod.GIT_PUSH
    assert "Auto-Deploy" in deploy_plan(domain)["deploy"][0]["text"]
    domain.hosting_provider, domain.deploy_method = Hosting.VPS, Domain.DeployMethod.CONTAINER
    assert any("APP_IMAGE_TAG" in s["text"] for s in deploy_plan(domain)["deploy"])


def test_the_app_name_goes_into_the_commands(tenant: Tenant) -> None:
    domain = tenant.domain
    domain.hosting_provider, domain.hosting_app = Hosting.HEROKU, "brightpath-web"
    commands = [s["command"] for s in deploy_plan(domain)["rollback"] if s["command"]]
    assert "heroku rollback v123 -a brightpath-web" in commands and not any("<app>" in c for c in commands)


def test_the_domain_form_takes_the_app_name_and_refuses_a_bad_one(tenant: Tenant) -> None:
    http = login(tenant.consultant)
    url = reverse("domain_edit", args=[tenant.domain.code])
    data = {"name": tenant.domain.name, "canonical_host": "www", "hosting_provider": "fly", "deploy_method": "cli"}
    response = http.post(url, data | {"hosting_app": "brightpath web; rm -rf"})
    assert response.status_code == 200 and "no spaces" in response.content.decode()
    assert http.post(url, data | {"hosting_app": "brightpath-web"}).status_code == 302
    assert Domain.objects.get(pk=tenant.domain.pk).hosting_app == "brightpath-web"
