"""Serializers of the org chain's API. Writes call governance.services; refusals become 400s by field."""

from django.core.exceptions import ValidationError as DjangoValidationError
from django.utils.translation import gettext_lazy as _
from rest_framework import serializers

from governance.masking import mask_id_number, mask_phone
from governance.models import Household, OrgUnit, Resident, Tag
from governance.portal.api import PersonalDataSerializerMixin, ScopedRelatedField, run_write
from governance.services import household_create, household_update, resident_create, resident_update
from governance.validators import normalize_id_number


class OrgUnitSerializer(serializers.ModelSerializer):
    parent = serializers.SlugRelatedField(
        slug_field="code", read_only=True, allow_null=True, help_text=_("Parent unit's code; null for a root.")
    )
    display_name = serializers.CharField(read_only=True)
    depth = serializers.IntegerField(source="mptt_level", read_only=True, help_text=_("0 for a tree's root."))
    is_leaf = serializers.SerializerMethodField()
    descendants_count = serializers.SerializerMethodField()
    children_count = serializers.IntegerField(read_only=True)
    households_count = serializers.IntegerField(
        read_only=True, help_text=_("Households anywhere in this unit's subtree.")
    )

    class Meta:
        model = OrgUnit
        fields = [
            "id",
            "code",
            "name",
            "short_name",
            "display_name",
            "level",
            "kind",
            "parent",
            "is_active",
            "depth",
            "is_leaf",
            "descendants_count",
            "children_count",
            "households_count",
            "latitude",
            "longitude",
        ]

    def get_is_leaf(self, unit) -> bool:
        return unit.rght - unit.lft == 1

    def get_descendants_count(self, unit) -> int:
        return (unit.rght - unit.lft - 1) // 2


class HouseholdSerializer(serializers.ModelSerializer):
    grid = ScopedRelatedField(model=OrgUnit, key_field="code", help_text=_("Code (or id) of the grid or micro-grid."))
    grid_name = serializers.CharField(source="grid.display_name", read_only=True)
    tags = serializers.SlugRelatedField(
        many=True,
        slug_field="code",
        queryset=Tag.objects.filter(applies_to=Tag.AppliesTo.HOUSEHOLD),
        required=False,
    )

    class Meta:
        model = Household
        fields = ["id", "number", "address", "grid", "grid_name", "tags", "is_active", "created_at"]

    def validate_grid(self, grid):
        # The model's own rule and message, before the FK check adds a vaguer "not a valid choice".
        try:
            Household(grid=grid).clean()
        except DjangoValidationError as exc:
            raise serializers.ValidationError(exc.message_dict.get("grid", exc.messages)) from None
        return grid

    def create(self, validated_data):
        return run_write(household_create, **validated_data)

    def update(self, instance, validated_data):
        return run_write(household_update, household=instance, **validated_data)


class ResidentSerializer(PersonalDataSerializerMixin, serializers.ModelSerializer):
    """A resident; ID number, phone and birth date are masked unless the caller's role allows them."""

    personal_fields = {"id_number": ("id_number", mask_id_number), "phone": ("phone", mask_phone)}
    hidden_when_masked = ("birth_date",)

    household = ScopedRelatedField(model=Household, key_field="number", help_text=_("Household number (or id)."))
    grid = serializers.CharField(source="household.grid.code", read_only=True)
    id_number = serializers.CharField(
        max_length=18, help_text=_("Masked (513424********1234) unless your role allows the full view.")
    )
    phone = serializers.CharField(
        max_length=20, required=False, allow_blank=True, help_text=_("Masked unless your role allows the full view.")
    )
    birth_date = serializers.DateField(read_only=True, allow_null=True, help_text=_("Null when masked."))
    tags = serializers.SlugRelatedField(
        many=True,
        slug_field="code",
        queryset=Tag.objects.filter(applies_to=Tag.AppliesTo.RESIDENT),
        required=False,
    )

    class Meta:
        model = Resident
        fields = [
            "id",
            "household",
            "grid",
            "name",
            "id_number",
            "birth_date",
            "sex",
            "phone",
            "relation",
            "tags",
            "is_active",
            "created_at",
        ]

    def validate_id_number(self, value):
        return normalize_id_number(value)

    def validate_phone(self, value):
        return value.strip()

    def create(self, validated_data):
        return run_write(resident_create, **validated_data)

    def update(self, instance, validated_data):
        return run_write(resident_update, resident=instance, **validated_data)
