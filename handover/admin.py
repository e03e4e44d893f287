from django.contrib import admin

from handover.models import AccessEntry, ChecklistTick, PackVersion


@admin.register(ChecklistTick)
class ChecklistTickAdmin(admin.ModelAdmin):
    list_display = ["sprint", "item", "done", "ticked_by", "ticked_at"]
    list_filter = ["item", "done"]
    raw_id_fields = ["sprint", "ticked_by"]


@admin.register(AccessEntry)
class AccessEntryAdmin(admin.ModelAdmin):
    list_display = ["client", "kind", "provider", "owner", "updated_at"]
    list_filter = ["kind"]
    raw_id_fields = ["client", "updated_by"]


@admin.register(PackVersion)
class PackVersionAdmin(admin.ModelAdmin):
    """Published versions are records of what a founder was shown: readable here, never edited."""

    list_display = ["client", "number", "published_at", "published_by", "note"]
    raw_id_fields = ["client", "published_by"]
    readonly_fields = ["code", "client", "number", "published_at", "published_by", "note", "data", "html", "markdown"]

    def has_add_permission(self, request: object) -> bool:
        return False

    def has_change_permission(self, request: object, obj: object = None) -> bool:
        return False
