from django.contrib import admin

from bihuan.places.models import Party, Place


@admin.register(Place)
class PlaceAdmin(admin.ModelAdmin[Place]):
    list_display = ["name", "kind", "area", "address"]
    list_filter = ["kind"]
    search_fields = ["name", "address"]
    raw_id_fields = ["area", "party"]


@admin.register(Party)
class PartyAdmin(admin.ModelAdmin[Party]):
    list_display = ["name", "kind", "role"]
    search_fields = ["name"]
    raw_id_fields = ["user"]
