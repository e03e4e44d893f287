from django.contrib import admin

from launchready.models import Client, Contact, Domain, Route, Sprint


class ContactInline(admin.TabularInline):
    model = Contact
    extra = 0


class DomainInline(admin.TabularInline):
    model = Domain
    extra = 0
    fields = ["name", "canonical_host", "hosting_provider", "deploy_method"]
    show_change_link = True


@admin.register(Client)
class ClientAdmin(admin.ModelAdmin):
    list_display = ["name", "workspace", "product_kind", "stage", "timezone", "created"]
    list_filter = ["product_kind", "stage"]
    search_fields = ["name"]
    inlines = [ContactInline, DomainInline]


@admin.register(Contact)
class ContactAdmin(admin.ModelAdmin):
    list_display = ["name", "client", "role", "email", "is_primary"]
    search_fields = ["name", "email"]
    raw_id_fields = ["client"]


class RouteInline(admin.TabularInline):
    model = Route
    extra = 0


@admin.register(Domain)
class DomainAdmin(admin.ModelAdmin):
    list_display = ["name", "client", "canonical_host", "hosting_provider", "deploy_method"]
    search_fields = ["name"]
    raw_id_fields = ["client"]
    inlines = [RouteInline]


@admin.register(Route)
class RouteAdmin(admin.ModelAdmin):
    list_display = ["__str__", "kind", "domain"]
    list_filter = ["kind"]
    raw_id_fields = ["domain"]


@admin.register(Sprint)
class SprintAdmin(admin.ModelAdmin):
    list_display = ["client", "started_at", "deadline", "state"]
    list_filter = ["state"]
    raw_id_fields = ["client"]
