"""The API's ``*_label`` fields (feedback.api.serializers.ChoiceLabelField) say what ``get_<field>_display()``
says, for every value of every choices field they show, an unknown value and none."""

from __future__ import annotations

import pytest
from rest_framework import serializers

from channels_net.api import serializers as net_serializers
from feedback.api import serializers as core_serializers
from feedback.api.serializers import ChoiceLabelField


def label_fields() -> list[tuple[type, str, str]]:
    found = []
    for module in (core_serializers, net_serializers):
        for serializer in vars(module).values():
            if isinstance(serializer, type) and issubclass(serializer, serializers.ModelSerializer):
                for name, field in serializer._declared_fields.items():
                    if isinstance(field, ChoiceLabelField):
                        found.append((serializer, name, field.source))
    return found


def test_every_label_field_is_found():
    assert len(label_fields()) == 16  # the sixteen *_label fields of the API (CONTRACT.md)


def shown(field: serializers.Field, instance) -> object:
    """What a serializer puts in its output for ``field`` (DRF writes null for a None attribute itself)."""
    attribute = field.get_attribute(instance)
    return None if attribute is None else field.to_representation(attribute)


@pytest.mark.parametrize(("serializer", "name", "source"), label_fields(), ids=lambda v: getattr(v, "__name__", v))
def test_a_label_is_what_the_display_method_gave_for_each_value(serializer, name, source):
    model = serializer.Meta.model
    field = model._meta.get_field(source)
    label = serializer().fields[name]
    # As the field was declared before: DRF calling the model's get_<field>_display for each row.
    before = serializers.CharField(source=f"get_{source}_display", read_only=True)
    before.bind(name, serializer())
    values = [value for value, _ in field.flatchoices] + ["not-a-choice"]
    if field.null:
        values.append(None)
    for value in values:
        instance = model(**{field.attname: value})
        assert shown(label, instance) == shown(before, instance)
        if value in dict(field.flatchoices):
            assert shown(label, instance) == str(dict(field.flatchoices)[value])
