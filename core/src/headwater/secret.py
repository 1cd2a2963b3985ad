"""The :class:`Secret` wrapper: a string that never shows itself.

Internal to the host: not part of the documented API (``docs/reference/``), so it may
change without notice. Connectors import its public names from ``headwater``.

.. versionadded:: 0.1
"""

from __future__ import annotations

from typing import Any, Final

__all__ = ["REDACTED", "Secret"]

REDACTED: Final = "***"


class Secret:
    """A credential. ``repr``, ``str`` and formatting print ``***``; :meth:`reveal` gives the value.

    Equality compares values so configs can be compared in tests. A secret is not hashable:
    nothing needs a credential as a dict key, and a hash is derived from the value.

    .. versionadded:: 0.1
    """

    __slots__ = ("_value",)

    def __init__(self, value: str) -> None:
        if not isinstance(value, str):
            raise TypeError(f"a Secret wraps a str, not {type(value).__name__}")
        self._value = value

    def reveal(self) -> str:
        """The secret value. Call it only where the value is sent to the API it belongs to."""
        return self._value

    def __repr__(self) -> str:
        return f"Secret('{REDACTED}')"

    def __str__(self) -> str:
        return REDACTED

    def __format__(self, spec: str) -> str:
        return REDACTED

    def __bool__(self) -> bool:
        return bool(self._value)

    def __eq__(self, other: Any) -> bool:
        return isinstance(other, Secret) and other._value == self._value

    __hash__ = None  # type: ignore[assignment]

    def __reduce__(self) -> Any:
        # Pickling would carry the value to wherever the pickle goes; refuse loudly.
        raise TypeError("Secret values cannot be pickled")
