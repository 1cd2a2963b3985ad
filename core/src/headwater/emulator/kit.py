"""What a connector hands the contract suite: its emulator and sample configs.

A connector's ``testing.py`` builds one :class:`ContractKit` and names it in its
``SourceSpec(kit=...)``; the contract suite loads it only when it tests that connector.

.. versionadded:: 0.1
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from typing import TYPE_CHECKING, Any

import attrs

from headwater.emulator.transport import emulator_transport
from headwater.runtime import Runtime

if TYPE_CHECKING:
    from headwater.emulator.base import Emulator

__all__ = ["ContractKit", "InvalidConfig"]


def _json_path(_: object, attribute: attrs.Attribute[str], value: str) -> None:
    if not value.startswith("$"):
        raise ValueError(f"{attribute.name} must be a JSON path like '$.repository', not {value!r}")


@attrs.frozen(kw_only=True)
class InvalidConfig:
    """A ``[source]`` config the connector must reject, and where the error must point.

    ``path`` is the JSON path the :class:`~headwater.errors.ConfigError` must name
    (``"$.repository"``); ``description`` says what is wrong, for the test's name and failure
    message.

    .. versionadded:: 0.1
    """

    config: Mapping[str, Any]
    path: str = attrs.field(validator=_json_path)
    description: str


def _as_tuple(value: Sequence[InvalidConfig]) -> tuple[InvalidConfig, ...]:
    return tuple(value)


@attrs.frozen(kw_only=True)
class ContractKit:
    """What the contract suite needs from a connector to test it against its emulator.

    ``emulator`` makes a fresh emulator, so tests never share rows or injected failures.
    ``valid_config`` is raw ``[source]`` values (as a user would write them) that work against
    the emulator; ``invalid_configs`` must each be rejected at their path.

    .. versionadded:: 0.1
    """

    emulator: Callable[[], Emulator]
    valid_config: Mapping[str, Any]
    invalid_configs: Sequence[InvalidConfig] = attrs.field(default=(), converter=_as_tuple)

    def runtime(self, emulator: Emulator, **overrides: Any) -> Runtime:
        """A :class:`~headwater.Runtime` whose requests go to ``emulator`` in process.

        ``overrides`` set any other field (``clock``, ``sleep``, ``budget``...), or replace
        the transport: ``transport=None, base_url=server.base_url`` reaches the emulator
        through an :class:`~headwater.emulator.EmulatorServer` instead.
        """
        fields: dict[str, Any] = {"transport": emulator_transport(emulator)}
        fields.update(overrides)
        return Runtime(**fields)
