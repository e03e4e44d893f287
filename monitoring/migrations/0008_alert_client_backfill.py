from django.db import migrations
from django.db.models import OuterRef, Subquery


def alerts_name_their_client(apps, schema_editor):  # type: ignore[no-untyped-def]
    """Every alert sent so far went to a client's own channel: that client is whose event it was."""
    Alert = apps.get_model("monitoring", "Alert")
    AlertChannel = apps.get_model("monitoring", "AlertChannel")
    owner = AlertChannel.objects.filter(pk=OuterRef("channel_id")).values("client_id")[:1]
    Alert.objects.filter(client__isnull=True).update(client_id=Subquery(owner))


class Migration(migrations.Migration):
    dependencies = [("monitoring", "0007_workspace_default_channels")]

    operations = [migrations.RunPython(alerts_name_their_client, migrations.RunPython.noop)]
