from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [("launchready", "0005_drop_duplicate_routes")]

    operations = [
        migrations.AddConstraint(
            model_name="route",
            constraint=models.UniqueConstraint(fields=("domain", "host", "path"), name="one_route_per_address"),
        ),
    ]
