"""What survives of a document that does not validate: the items that validate on their own.

Validation reports every independent problem in one run. A platform.yaml with a bad host
address still knows its regions, zones and clusters, so tenant requests are still checked
against them; only checks that depend on something broken are skipped (a tenant naming a
cluster whose entry is itself broken is not told that the cluster "is not defined").
"""

from __future__ import annotations

import typing
from dataclasses import dataclass, field
from typing import Any

from pydantic import BaseModel, TypeAdapter, ValidationError

from .platform import Platform

# The key each list section of platform.yaml is looked up by.
KEYED_SECTIONS = {"regions": "code", "zones": "id", "clusters": "id", "levels": "level", "hosts": "name"}


@dataclass(frozen=True)
class PlatformParts:
    """A platform as far as it validated: ``platform`` holds the good items (a full model when
    ``complete``), ``broken`` the sections that did not validate at all, ``broken_keys`` the keys
    of list items that did not validate."""

    platform: Platform
    complete: bool = True
    broken: frozenset[str] = frozenset()
    broken_keys: dict[str, frozenset[str]] = field(default_factory=dict)

    def usable(self, *sections: str) -> bool:
        """Every named section validated (items of a list section may still be broken)."""
        return not (set(sections) & self.broken)

    def unsure(self, section: str, key: Any) -> bool:
        """Whether ``key`` may name an item that exists but did not validate: a check that it
        "is not defined" would be a follow-on error."""
        return section in self.broken or str(key) in self.broken_keys.get(section, frozenset())


def complete(platform: Platform) -> PlatformParts:
    return PlatformParts(platform)


def _item_type(annotation: Any) -> type[BaseModel] | None:
    if typing.get_origin(annotation) is list:
        (item,) = typing.get_args(annotation)
        if isinstance(item, type) and issubclass(item, BaseModel):
            return item
    return None


def partial(data: Any) -> PlatformParts | None:
    """The parts of a platform document that validate on their own; None when it is not a mapping."""
    if not isinstance(data, dict):
        return None
    values: dict[str, Any] = {}
    broken: set[str] = set()
    broken_keys: dict[str, frozenset[str]] = {}
    for name, info in Platform.model_fields.items():
        key = info.alias or name
        if key not in data:
            if info.is_required():
                broken.add(name)
                values[name] = [] if _item_type(info.annotation) else None
            else:
                values[name] = info.get_default(call_default_factory=True)
            continue
        raw = data[key]
        item_type = _item_type(info.annotation)
        if item_type is not None and isinstance(raw, list):
            good, bad = [], set()
            for item in raw:
                try:
                    good.append(item_type.model_validate(item))
                except ValidationError:
                    if name in KEYED_SECTIONS and isinstance(item, dict) and KEYED_SECTIONS[name] in item:
                        bad.add(str(item[KEYED_SECTIONS[name]]))
                    elif name in KEYED_SECTIONS:
                        broken.add(name)  # an item without its key: anything may be it
            values[name] = good
            broken_keys[name] = frozenset(bad)
            continue
        try:
            adapter: TypeAdapter[Any] = TypeAdapter(typing.Annotated[info.annotation, info])  # type: ignore[arg-type]
            values[name] = adapter.validate_python(raw)
        except ValidationError:
            broken.add(name)
            values[name] = [] if item_type else None
    return PlatformParts(Platform.model_construct(**values), complete=False, broken=frozenset(broken), broken_keys=broken_keys)
