# The contract's attrs classes convert sequences with ``converter=tuple``, whose generic type
# mypy cannot solve at call sites; until they use typed converters, silence exactly that here.
"""The example shop source: three schemas, every sync mode, no network; reads that resume.

.. versionadded:: 0.1
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator, Sequence
from typing import TYPE_CHECKING, Any

from headwater.examples.shop import EPOCH, Shop
from headwater.sources import (
    IncrementalField,
    NumberField,
    ReleaseStatus,
    ResumePoint,
    Source,
    SourceConfig,
    SourceResponse,
    SourceSchema,
    SyncMode,
)

if TYPE_CHECKING:
    from headwater.examples._config import ExampleConfig
    from headwater.runtime import Runtime
    from headwater.sources import SourceInputs

__all__ = ["ExampleSource", "PAGE_SIZE"]

PAGE_SIZE = 500
"""Rows per page, as an API would return them."""

_SCHEMAS = (
    SourceSchema(
        name="orders",
        description="Orders; each changes as it is paid, shipped and delivered.",
        supports_incremental=True,
        supports_append=True,
        incremental_fields=[
            IncrementalField(field="updated_at", label="Updated at", type="datetime")
        ],
    ),
    SourceSchema(
        name="events",
        description="Every status change of every order; never changes once written.",
        supports_incremental=True,
        supports_append=True,
        incremental_fields=[
            IncrementalField(field="occurred_at", label="Occurred at", type="datetime")
        ],
        default_sync_mode=SyncMode.APPEND,
    ),
    SourceSchema(
        name="customers",
        description="Customers, with a nested address and a list of tags.",
    ),
)


def _pages(
    rows: Iterator[dict[str, Any]] | Sequence[dict[str, Any]],
    *,
    until: dt.datetime,
    skip: int = 0,
) -> Iterator[list[dict[str, Any]] | ResumePoint]:
    """``rows`` in pages, each followed by where to continue: the read's upper bound and the
    rows yielded so far. The shop generates the same rows for the same bounds, so a resumed
    read regenerates them and skips what an interrupted one already yielded."""
    page: list[dict[str, Any]] = []
    done = 0
    for row in rows:
        done += 1
        if done <= skip:
            continue
        page.append(row)
        if len(page) == PAGE_SIZE:
            yield page
            yield ResumePoint({"until": until.isoformat(), "rows": done})
            page = []
    if page:
        yield page


class ExampleSource(Source["ExampleConfig"]):
    """An imaginary shop whose rows are generated from a seed and the clock.

    .. versionadded:: 0.1
    """

    source_type = "example"

    def get_source_config(self) -> SourceConfig:
        return SourceConfig(
            label="Example shop",
            caption="Generated orders, events and customers: no network, no account.",
            category="Example",
            release_status=ReleaseStatus.GA,
            fields=[
                NumberField(
                    name="seed",
                    label="Seed",
                    default=1,
                    caption="The same seed always generates the same shop.",
                ),
                NumberField(
                    name="orders_per_hour",
                    label="Orders per hour",
                    default=12,
                    minimum=1,
                    maximum=3600,
                ),
                NumberField(
                    name="history_days",
                    label="Days of history",
                    default=7,
                    minimum=1,
                    maximum=365,
                    caption="How far back the first sync reads when no start_date is set.",
                ),
            ],
        )

    def validate_credentials(
        self, config: ExampleConfig, runtime: Runtime
    ) -> tuple[bool, str | None]:
        return True, None

    def get_schemas(self, config: ExampleConfig, runtime: Runtime) -> Sequence[SourceSchema]:
        return _SCHEMAS

    def get_catalog_schemas(self) -> Sequence[SourceSchema]:
        return _SCHEMAS

    def source_for_pipeline(
        self, config: ExampleConfig, inputs: SourceInputs, runtime: Runtime
    ) -> SourceResponse:
        shop = Shop(seed=config.seed, orders_per_hour=config.orders_per_hour)
        now = runtime.clock.now()
        skip = 0
        if inputs.resume_state is not None:
            # An interrupted read continues: the same bounds (the host passes back the lower
            # one), the same upper one, and the rows it already yielded skipped.
            now = dt.datetime.fromisoformat(inputs.resume_state["until"])
            skip = int(inputs.resume_state["rows"])
        last = (
            inputs.db_incremental_field_last_value if inputs.should_use_incremental_field else None
        )
        if isinstance(last, dt.datetime):
            # A later read: every order changed since the last one, however old the order.
            since, placed_from = last, inputs.start_date or EPOCH
        else:
            # The first read covers the window (start_date, else the last history_days).
            since = placed_from = inputs.start_date or now - dt.timedelta(days=config.history_days)
        name = inputs.schema_name
        if name == "orders":
            return SourceResponse(
                name=name,
                items=lambda: _pages(
                    shop.orders_updated_since(since, now, placed_from=placed_from),
                    until=now,
                    skip=skip,
                ),
                primary_keys=("id",),
                partition_mode="datetime",
                partition_keys=("created_at",),
                partition_format="month",
            )
        if name == "events":
            return SourceResponse(
                name=name,
                items=lambda: _pages(
                    shop.events_since(since, now, placed_from=placed_from), until=now, skip=skip
                ),
                primary_keys=("id",),
                partition_mode="md5",
                partition_keys=("id",),
                partition_count=4,
            )
        if name == "customers":
            return SourceResponse(
                name=name,
                items=lambda: _pages(shop.customers(now), until=now, skip=skip),
                primary_keys=("id",),
            )
        raise LookupError(f"the example shop has no schema {name!r}")
