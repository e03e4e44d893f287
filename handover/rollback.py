"""Deploy and rollback steps in plain English for each kind of hosting, with the provider's own screens and
commands; the handover pack picks the ones for each of a client's domains."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any

from launchready.models import Domain

Hosting = Domain.HostingProvider
Method = Domain.DeployMethod


@dataclass(frozen=True)
class Step:
    text: str
    command: str = ""


@dataclass(frozen=True)
class Procedure:
    """How one kind of hosting is deployed and rolled back, and where its secrets live."""

    name: str
    secrets: str
    deploy: dict[str, list[Step]]  # by deploy method; "" is the provider's usual way
    rollback: list[Step]
    notes: list[str] = field(default_factory=list)


BEFORE_ROLLBACK = [
    Step("Write down the time and what you saw (an error page, an alert email, a customer's message)."),
    Step(
        "Check whether the last deploy changed the database (a migration). If it did, ask your developer "
        "before rolling back: old code may not understand the new database."
    ),
]
AFTER_ROLLBACK = [
    Step("Open the homepage, sign in and load the dashboard yourself, in a private browser window."),
    Step("Check that every monitor in Launch Ready shows Up again (see “Verifying monitoring after a change”)."),
    Step("Tell your developer which version is live now, so the fix is made on top of it."),
]

VERCEL = Procedure(
    name="Vercel",
    secrets=(
        "Vercel → your project → Settings → Environment Variables, with separate values for Production, Preview "
        "and Development. A change only reaches new deployments: redeploy after editing a value."
    ),
    deploy={
        "": [
            Step("Merge the change into the production branch (usually main). Vercel builds it on its own."),
            Step(
                "Watch it under your project → Deployments: it is live when it says Ready "
                "and carries the Production label."
            ),
        ],
        Method.CLI: [
            Step("From the project folder, signed in to the right team, deploy to production:", "vercel --prod"),
        ],
    },
    rollback=[
        Step("Open vercel.com → your project → Deployments."),
        Step("Find the last production deployment that worked (status Ready, from before the problem started)."),
        Step(
            "Open its ⋯ menu, choose Instant Rollback and confirm. The old build is served again within seconds; "
            "nothing is rebuilt. (On the Hobby plan only the previous production deployment can be restored.)"
        ),
        Step("Or from a terminal signed in with vercel login:", "vercel rollback <deployment-url>"),
        Step(
            "After a rollback Vercel stops promoting new pushes to production. When the fix is merged and its preview "
            "works, open that deployment's ⋯ menu and choose Promote to Production (or run the command below).",
            "vercel promote <deployment-url>",
        ),
    ],
)

NETLIFY = Procedure(
    name="Netlify",
    secrets=(
        "Netlify → your site → Site configuration → Environment variables. Values are read at build time: after "
        "a change, go to Deploys → Trigger deploy → Deploy site."
    ),
    deploy={
        "": [
            Step("Merge the change into the production branch. Netlify builds and publishes it on its own."),
            Step("Watch it under Deploys: it is live when the newest deploy says Published."),
        ],
        Method.CLI: [
            Step("From the project folder, build and publish to production:", "netlify deploy --build --prod")
        ],
    },
    rollback=[
        Step("Open app.netlify.com → your site → Deploys."),
        Step("Click the last deploy that worked (from before the problem started)."),
        Step("Press Publish deploy. Netlify serves that exact build again at once; nothing is rebuilt."),
        Step(
            "If the Deploys page now says auto publishing is locked, new pushes will not go live on their own. "
            "Once the fix is ready, press Start auto publishing."
        ),
    ],
)

RENDER = Procedure(
    name="Render",
    secrets=(
        "Render → your service → Environment (variables and secret files), or a shared Environment Group. Saving "
        "offers to redeploy: choose Save and deploy so the new value is used."
    ),
    deploy={
        "": [
            Step(
                "Merge the change into the branch the service follows; "
                "with Auto-Deploy on, Render builds and deploys it."
            ),
            Step("Watch it under your service → Events: it is live when the deploy says Deploy live."),
        ],
        Method.CI_PIPELINE: [
            Step(
                "Your CI runs the tests, then calls the service's deploy hook (Settings → Deploy Hook):",
                'curl -X POST "$RENDER_DEPLOY_HOOK_URL"',
            ),
            Step("Watch it under your service → Events until it says Deploy live."),
        ],
        Method.MANUAL: [
            Step("Your service → Manual Deploy → Deploy latest commit, then watch Events until it says Deploy live.")
        ],
    },
    rollback=[
        Step("Open dashboard.render.com → your service → Events."),
        Step("Find the last deploy that worked (marked Deploy live, from before the problem started)."),
        Step("Press Rollback beside it and confirm. Render runs that earlier build again without rebuilding."),
        Step(
            "Render switches Auto-Deploy off after a rollback so the next push does not undo it. Switch it back on "
            "under Settings → Build & Deploy once the fix is merged."
        ),
    ],
)

FLY = Procedure(
    name="Fly.io",
    secrets=(
        "Fly.io secrets, set per app. List their names (values are never shown) with: fly secrets list -a <app>. "
        "Change one with: fly secrets set NAME=value -a <app> (the app's machines restart with it)."
    ),
    deploy={
        "": [
            Step("From the project folder (where fly.toml is), build and deploy:", "fly deploy -a <app>"),
            Step("Follow it until the machines report healthy:", "fly status -a <app>"),
        ],
        Method.CI_PIPELINE: [
            Step(
                "Your CI runs the tests, then deploys with a Fly deploy token (FLY_API_TOKEN):",
                "flyctl deploy --remote-only -a <app>",
            ),
            Step("Check the result:", "fly status -a <app>"),
        ],
    },
    rollback=[
        Step("List the recent releases with the image each one ran:", "fly releases -a <app> --image"),
        Step("Pick the last release that worked and copy its image (registry.fly.io/<app>:deployment-…)."),
        Step(
            "Deploy that image again; nothing is rebuilt:",
            "fly deploy -a <app> --image registry.fly.io/<app>:deployment-<id>",
        ),
        Step("Check the machines and the logs:", "fly status -a <app> && fly logs -a <app>"),
    ],
)

HEROKU = Procedure(
    name="Heroku",
    secrets=(
        "Heroku → your app → Settings → Config Vars (Reveal Config Vars), or run: heroku config -a <app>. Changing "
        "one (heroku config:set NAME=value -a <app>) restarts the app with it."
    ),
    deploy={
        "": [
            Step(
                "Merge into the branch Heroku deploys automatically (Deploy tab → Automatic deploys), "
                "or push directly:",
                "git push heroku main",
            ),
            Step("Watch the build under the app's Activity tab, then check the app is running:", "heroku ps -a <app>"),
        ],
    },
    rollback=[
        Step("List the recent releases:", "heroku releases -a <app>"),
        Step(
            "Roll back to the last release that worked (v123 here); without a version it goes one release back:",
            "heroku rollback v123 -a <app>",
        ),
        Step("Or in the dashboard: your app → Activity → Roll back to here beside the release that worked."),
        Step(
            "A rollback restores that release's code and config vars. It does not undo database changes or add-on "
            "settings."
        ),
    ],
)

RAILWAY = Procedure(
    name="Railway",
    secrets=(
        "Railway → your project → the service → Variables (shared variables live in the project settings). Changes "
        "are staged: press Deploy to apply them."
    ),
    deploy={
        "": [
            Step("Merge into the branch the service is connected to; Railway builds and deploys it."),
            Step("Watch it under the service → Deployments: it is live when it says Active."),
        ],
        Method.CLI: [Step("From the project folder, linked with railway link, build and deploy:", "railway up")],
    },
    rollback=[
        Step("Open railway.com → your project → the service → Deployments."),
        Step("Find the last deployment that worked, from before the problem started."),
        Step("Open its ⋮ menu, choose Rollback and confirm. Railway redeploys that earlier build."),
        Step("Check the new deployment says Active and read its logs from the same menu (View logs)."),
    ],
)

VPS = Procedure(
    name="a virtual server with Docker Compose",
    secrets=(
        "The .env file beside docker-compose.yml on the server, readable only by the deploy user (chmod 600), and "
        "never committed to git. After editing it, apply it with: docker compose up -d."
    ),
    deploy={
        "": [
            Step("Sign in to the server and go to the app's folder:", "ssh deploy@<server> && cd /srv/<app>"),
            Step("Note the version running now, so you can come back to it:", "docker compose images"),
            Step(
                "Fetch the new version and start it (containers are replaced one by one):",
                "git pull && docker compose pull && docker compose up -d --build",
            ),
            Step("Check every service is Up and healthy:", "docker compose ps"),
        ],
        Method.CONTAINER: [
            Step("Your CI builds and pushes an image tagged with the version (for example the git commit)."),
            Step(
                "On the server, set that tag in .env (APP_IMAGE_TAG=<version>), then pull and start it:",
                "docker compose pull && docker compose up -d",
            ),
            Step("Check every service is Up and healthy:", "docker compose ps"),
        ],
    },
    rollback=[
        Step("Sign in to the server and go to the app's folder:", "ssh deploy@<server> && cd /srv/<app>"),
        Step(
            "If images are tagged by version: put the previous tag back in .env (APP_IMAGE_TAG=<previous>), then:",
            "docker compose pull && docker compose up -d",
        ),
        Step(
            "If the server builds from git: find the last commit that worked and build it:",
            "git log --oneline -5 && git checkout <commit> && docker compose up -d --build",
        ),
        Step(
            "Check the services and read the last log lines:", "docker compose ps && docker compose logs --tail=100 web"
        ),
    ],
)

OTHER = Procedure(
    name="your hosting",
    secrets=(
        "In the hosting provider's settings for the app (usually called Environment variables or Config), never in "
        "the code repository. Ask your developer to show you the screen once."
    ),
    deploy={
        "": [
            Step("Merge the reviewed change into the production branch; your pipeline or provider deploys it."),
            Step("Watch the provider's deploy log until it reports success."),
        ],
    },
    rollback=[
        Step(
            "Open the provider's list of deployments or releases and redeploy the last one that worked; most "
            "providers offer Redeploy or Rollback beside each one."
        ),
        Step(
            "If the provider has no such list: undo the change in git and let the normal deploy run:",
            "git revert <commit> && git push origin main",
        ),
    ],
)

PROCEDURES: dict[str, Procedure] = {
    Hosting.VERCEL: VERCEL,
    Hosting.NETLIFY: NETLIFY,
    Hosting.RENDER: RENDER,
    Hosting.FLY: FLY,
    Hosting.HEROKU: HEROKU,
    Hosting.RAILWAY: RAILWAY,
    Hosting.VPS: VPS,
}


def procedure_for(hosting: str) -> Procedure:
    return PROCEDURES.get(hosting, OTHER)


def _steps(steps: list[Step], app: str) -> list[dict[str, Any]]:
    """The steps as data, with the client's app name in place of the placeholder where it is known."""
    rows = [asdict(s) for s in steps]
    if app:
        for row in rows:
            row["text"] = row["text"].replace("<app>", app)
            row["command"] = row["command"].replace("<app>", app)
    return rows


def deploy_plan(domain: Domain) -> dict[str, Any]:
    """The deploy and rollback steps for one domain's hosting and deploy method, as plain data."""
    procedure = procedure_for(domain.hosting_provider)
    provider = domain.get_hosting_provider_display() if procedure is OTHER else procedure.name
    deploy = procedure.deploy.get(domain.deploy_method) or procedure.deploy[""]
    return {
        "domain": domain.display_name,
        "hosting": provider,
        "deploy_method": domain.get_deploy_method_display(),
        "secrets": procedure.secrets.replace("<app>", domain.hosting_app) if domain.hosting_app else procedure.secrets,
        "app": domain.hosting_app,
        "deploy": _steps(deploy, domain.hosting_app),
        "rollback": _steps(BEFORE_ROLLBACK + procedure.rollback + AFTER_ROLLBACK, domain.hosting_app),
    }
