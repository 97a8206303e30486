from django.db import models
from django.utils.translation import gettext_lazy as _


class PlaceKind(models.TextChoices):
    RENTAL_HOUSE = "rental_house", _("Rental house")
    SHOP = "shop", _("Street-front shop")
    MARKET = "market", _("Specialised market")
    RESIDENTIAL_COMPOUND = "residential_compound", _("Residential compound")
    THREE_IN_ONE = "three_in_one", _("Mixed living/working/storage premises")
    ENTERPRISE = "enterprise", _("Enterprise")
    HOTEL = "hotel", _("Hotel")


class PartyKind(models.TextChoices):
    PERSON = "person", _("Person")
    ORGANISATION = "organisation", _("Organisation")


class PartyRole(models.TextChoices):
    OWNER = "owner", _("Owner")
    LANDLORD = "landlord", _("Landlord")
    OPERATOR = "operator", _("Operator")
    MANAGER = "manager", _("Property manager")
