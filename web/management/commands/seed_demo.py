"""Seeds the demo workspace (once) and prints the logins to use."""

from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand

from web.demo import seed_demo


class Command(BaseCommand):
    help = "Create the demo workspace on first run and print the demo logins."

    def handle(self, *args: Any, **options: Any) -> None:
        if settings.PRODUCTION:
            self.stderr.write("The demo workspace is for development machines only.")
            return
        consultant, founder, created = seed_demo(settings.VAR_DIR)
        if created:
            self.stdout.write("Created the demo workspace with three clients.")
        bar = "=" * 64
        self.stdout.write(
            f"\n{bar}\n  Launch Ready is starting at {settings.SITE_URL}\n"
            f"  Consultant login: {consultant.email}  password: {consultant.password}\n"
            f"  Founder login:    {founder.email}  password: {founder.password}\n{bar}\n"
        )
