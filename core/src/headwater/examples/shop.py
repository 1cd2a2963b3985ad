"""The example shop's data: deterministic orders, their status events, and customers.

Order ``k`` is placed at ``EPOCH + k * interval`` (the interval follows from
``orders_per_hour``). From its placement it is ``paid`` after 5-60 minutes (or ``canceled``,
one order in twenty), ``shipped`` 1-48 hours later and ``delivered`` 1-5 days after that. Its
``updated_at`` is the time of its latest status at the clock's ``now``. Every choice comes from
a hash of the seed and the order number, so the same seed and clock give the same rows.

.. versionadded:: 0.1
"""

from __future__ import annotations

import datetime as dt
import hashlib
import math
from collections.abc import Iterator
from typing import Any

__all__ = ["CUSTOMERS", "EPOCH", "LIFETIME", "Shop"]

EPOCH = dt.datetime(2020, 1, 1, tzinfo=dt.UTC)
"""When order 0 was placed."""

LIFETIME = dt.timedelta(days=8)
"""An order changes no more once this old (5 days + 48 hours + 60 minutes, rounded up)."""

_CITIES = (
    ("Lisbon", "PT"),
    ("Utrecht", "NL"),
    ("Tartu", "EE"),
    ("Ghent", "BE"),
    ("Turku", "FI"),
    ("Cork", "IE"),
    ("Aarhus", "DK"),
    ("Graz", "AT"),
)
_NAMES = ("Ada", "Bo", "Cleo", "Dev", "Eli", "Fay", "Gus", "Hana", "Ivo", "Juno", "Kai", "Lea")
_SKUS = ("kettle", "mug", "teapot", "grinder", "filter", "scale", "tin", "spoon")
CUSTOMERS = 25
"""How many customers the shop has."""


class Shop:
    """The shop for one seed and rate.

    .. versionadded:: 0.1
    """

    def __init__(self, *, seed: int, orders_per_hour: int) -> None:
        self.seed = seed
        self.interval = dt.timedelta(hours=1) / orders_per_hour

    def _mix(self, *parts: object) -> int:
        text = ":".join(str(part) for part in (self.seed, *parts)).encode()
        return int.from_bytes(hashlib.blake2b(text, digest_size=8).digest(), "big")

    def placed(self, k: int) -> dt.datetime:
        return EPOCH + k * self.interval

    def first_order_at_or_after(self, moment: dt.datetime) -> int:
        return max(math.ceil((moment - EPOCH) / self.interval), 0)

    def timeline(self, k: int) -> list[tuple[str, dt.datetime]]:
        """Every status of order ``k`` with the time it was reached."""
        at = self.placed(k)
        steps = [("placed", at)]
        at += dt.timedelta(minutes=5 + self._mix(k, "paid") % 56)
        if self._mix(k, "cancel") % 20 == 0:
            return [*steps, ("canceled", at)]
        steps.append(("paid", at))
        at += dt.timedelta(hours=1 + self._mix(k, "ship") % 48)
        steps.append(("shipped", at))
        at += dt.timedelta(days=1 + self._mix(k, "deliver") % 5)
        steps.append(("delivered", at))
        return steps

    def order(self, k: int, now: dt.datetime) -> dict[str, Any]:
        """Order ``k`` as the API would return it at ``now``."""
        reached = [(status, at) for status, at in self.timeline(k) if at <= now]
        status, updated_at = reached[-1]
        lines = 1 + self._mix(k, "lines") % 3
        items = [
            {
                "sku": _SKUS[self._mix(k, "sku", n) % len(_SKUS)],
                "quantity": 1 + self._mix(k, "qty", n) % 4,
            }
            for n in range(lines)
        ]
        return {
            "id": k,
            "customer_id": 1 + self._mix(k, "customer") % CUSTOMERS,
            "status": status,
            "amount": round(5 + (self._mix(k, "amount") % 20_000) / 100, 2),
            "currency": "EUR" if self._mix(k, "currency") % 3 else "USD",
            "items": items,
            "created_at": self.placed(k),
            "updated_at": updated_at,
        }

    def orders_updated_since(
        self, since: dt.datetime, now: dt.datetime, *, placed_from: dt.datetime
    ) -> list[dict[str, Any]]:
        """Orders placed from ``placed_from`` whose ``updated_at`` is in ``[since, now]``,
        oldest update first."""
        first = self.first_order_at_or_after(max(placed_from, since - LIFETIME))
        rows = []
        k = first
        while self.placed(k) <= now:
            row = self.order(k, now)
            if row["updated_at"] >= since:
                rows.append(row)
            k += 1
        rows.sort(key=lambda row: (row["updated_at"], row["id"]))
        return rows

    def events_since(
        self, since: dt.datetime, now: dt.datetime, *, placed_from: dt.datetime
    ) -> Iterator[dict[str, Any]]:
        """Status changes in ``[since, now]`` of orders placed from ``placed_from``, in order."""
        first = self.first_order_at_or_after(max(placed_from, since - LIFETIME))
        events = []
        k = first
        while self.placed(k) <= now:
            for status, at in self.timeline(k):
                if since <= at <= now:
                    events.append(
                        {"id": f"{k}-{status}", "order_id": k, "type": status, "occurred_at": at}
                    )
            k += 1
        events.sort(key=lambda event: (event["occurred_at"], event["id"]))
        yield from events

    def customers(self, now: dt.datetime) -> list[dict[str, Any]]:
        """Every customer, as of ``now`` (their order count changes as orders come in)."""
        rows = []
        for n in range(1, CUSTOMERS + 1):
            city, country = _CITIES[self._mix(n, "city") % len(_CITIES)]
            name = _NAMES[self._mix(n, "name") % len(_NAMES)]
            rows.append(
                {
                    "id": n,
                    "name": f"{name} {chr(65 + n % 26)}.",
                    "email": f"{name.lower()}{n}@example.com",
                    "address": {"city": city, "country": country},
                    "tags": sorted({_SKUS[self._mix(n, "tag", i) % len(_SKUS)] for i in range(2)}),
                    "vip": self._mix(n, "vip") % 7 == 0,
                    "signed_up_on": (
                        EPOCH + dt.timedelta(days=self._mix(n, "signup") % 1500)
                    ).date(),
                    "checked_at": now,
                }
            )
        return rows
