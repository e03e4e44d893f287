from django.db import migrations, models
from django.db.models import Min


def drop_duplicate_routes(apps, schema_editor):  # type: ignore[no-untyped-def]
    """Routes saved twice for one address before the form refused it: the first one added is kept (with
    its monitor and history); the later copies watched the same address and go."""
    Route = apps.get_model("launchready", "Route")
    doubled = (
        Route.objects.values("domain_id", "host", "path")
        .annotate(first=Min("id"), n=models.Count("id"))
        .filter(n__gt=1)
    )
    for row in doubled:
        Route.objects.filter(domain_id=row["domain_id"], host=row["host"], path=row["path"]).exclude(
            id=row["first"]
        ).delete()


class Migration(migrations.Migration):
    dependencies = [
        ("launchready", "0004_domain_asset_hosts"),
        ("monitoring", "0001_initial"),
    ]

    operations = [
        migrations.RunPython(drop_duplicate_routes, migrations.RunPython.noop),
    ]
