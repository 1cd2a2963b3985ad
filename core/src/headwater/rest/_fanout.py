"""Fan-out: reading a child endpoint once per row of a parent endpoint, declaratively.

Many tables exist per parent: issues per repository, responses per form, events per project.
A connector declares the link as a :class:`DependentEndpoint` (which parent field fills which
child placeholder, which parent fields to copy onto child rows) and :func:`read_dependent`
does the rest, the same way for every connector:

1. Overrides are applied (a parent or child that paginates or wraps rows differently) and the
   child path's static placeholders are filled, so only the resolved one remains.
2. The parent is read page by page; each parent row's ``resolve_field`` is URL-encoded into the
   child path (a slug like ``../admin`` stays one segment) or sent as a query parameter.
3. Children of up to ``max_workers`` parents are read at once (:func:`parallel_chain`), through
   one client: one request budget, one rate-limit gate, one token.
4. Parent fields land on child rows as ``_<parent>_<field>``, or under the name ``renames``
   gives them; callers never branch on renames.
5. A parent whose children answer a status the :class:`ParentErrorPolicy` skips (404 for a
   repository deleted since it was listed, 403 for one the token cannot see) is reported and
   skipped instead of failing the whole table.

Two-level fan-out (organizations -> repositories -> one detail call per repository) is a
custom iterator built from the same pieces; ``docs/rest.md`` shows one.

.. versionadded:: 0.1
"""

from __future__ import annotations

import itertools
from collections.abc import Callable, Iterable, Iterator, Mapping
from typing import TYPE_CHECKING, Any, cast

import attrs
import orjson

from headwater.errors import ErrorKind, HTTPStatusError, ResponseFormatError, ServerError
from headwater.rest._endpoint import Endpoint, ParamValue, query_value
from headwater.rest._paths import fill_path, placeholders
from headwater.rest._reader import PageReader
from headwater.rest._selectors import MISSING, Selector
from headwater.rest._workers import DEFAULT_MAX_WORKERS, parallel_chain
from headwater.runtime import ProgressEvent, ProgressKind
from headwater.sources import ResumePoint

if TYPE_CHECKING:
    from headwater.rest._client import RestClient
    from headwater.rest._paginators import Paginator
    from headwater.sources import SourceInputs

__all__ = [
    "DependentEndpoint",
    "EndpointOverrides",
    "ParentErrorPolicy",
    "SkippedParent",
    "dependent_endpoints",
    "parent_column",
    "parent_columns",
    "read_dependent",
]

# A skipped parent refused for these reasons may mean the credentials reach no parent at all.
_ACCESS_KINDS = frozenset({ErrorKind.AUTHENTICATION, ErrorKind.PERMISSION})


def _optional_selector(value: str | Selector | None) -> Selector | None:
    if value is None or isinstance(value, Selector):
        return value
    return Selector(value)


@attrs.frozen(kw_only=True)
class EndpointOverrides:
    """Changes to a parent or child endpoint for one fan-out; ``None`` keeps the endpoint's.

    ``params`` and ``headers`` are merged over the endpoint's.

    .. versionadded:: 0.1
    """

    paginator: Paginator | None = None
    data_selector: Selector | None = attrs.field(default=None, converter=_optional_selector)
    params: Mapping[str, ParamValue] | None = None
    headers: Mapping[str, str] | None = None
    page_size: int | None = None

    def apply(self, endpoint: Endpoint) -> Endpoint:
        """``endpoint`` with these overrides."""
        changes: dict[str, Any] = {}
        if self.paginator is not None:
            changes["paginator"] = self.paginator
        if self.data_selector is not None:
            changes["data_selector"] = self.data_selector
        if self.params is not None:
            changes["params"] = {**endpoint.params, **self.params}
        if self.headers is not None:
            changes["headers"] = {**endpoint.headers, **self.headers}
        if self.page_size is not None:
            changes["page_size"] = self.page_size
        return endpoint.evolve(**changes) if changes else endpoint


def _statuses(value: Iterable[int]) -> frozenset[int]:
    return frozenset(value)


@attrs.frozen(kw_only=True)
class ParentErrorPolicy:
    """Which failures of a parent's child read skip that parent instead of failing the read.

    ``skip_statuses`` (typically ``{403, 404}``) are skipped at once; with
    ``skip_server_errors`` a 5xx that persisted through every retry is skipped too. Skipped
    parents are logged, sent to the progress sink and passed to ``on_skip``. The default
    skips nothing. When every parent of a read is skipped for a 401 or 403, the read fails
    with that error instead (the credentials reach none of the children).

    .. versionadded:: 0.1
    """

    skip_statuses: frozenset[int] = attrs.field(factory=frozenset, converter=_statuses)
    skip_server_errors: bool = False

    def skips(self, error: BaseException) -> bool:
        """Whether ``error`` from a child read skips its parent."""
        if not isinstance(error, HTTPStatusError):
            return False
        if error.status in self.skip_statuses:
            return True
        return self.skip_server_errors and isinstance(error, ServerError)


@attrs.frozen(kw_only=True)
class SkippedParent:
    """A parent whose children were not read, and why.

    .. versionadded:: 0.1
    """

    parent: str
    value: str
    status: int | None
    reason: str


def _names(value: Iterable[str]) -> tuple[str, ...]:
    return (value,) if isinstance(value, str) else tuple(value)


def _renames(value: Mapping[str, str]) -> dict[str, str]:
    return dict(value)


def _selector(value: str | Selector) -> Selector:
    return value if isinstance(value, Selector) else Selector(value)


@attrs.frozen(kw_only=True)
class DependentEndpoint:
    """How a child endpoint hangs off a parent endpoint.

    ``resolve_field`` (a JSON path into the parent row, like ``"slug"`` or ``"owner.login"``)
    fills the child's ``{resolve_param}`` placeholder, or, when the child path has none, is
    sent as the query parameter ``resolve_param``. ``include_from_parent`` fields are copied
    onto each child row as ``_<parent_name>_<field>``; ``renames`` maps a parent field to
    another column name instead (``{"id": "project_id"}``). ``page_size_param`` overrides the
    child's page-size parameter name. ``max_workers`` bounds concurrent child reads.

    .. versionadded:: 0.1
    """

    parent_name: str
    resolve_param: str
    resolve_field: Selector = attrs.field(converter=_selector)
    include_from_parent: tuple[str, ...] = attrs.field(default=(), converter=_names)
    renames: Mapping[str, str] = attrs.field(factory=dict, converter=_renames)
    parent_overrides: EndpointOverrides | None = None
    child_overrides: EndpointOverrides | None = None
    page_size_param: str | None = None
    parent_errors: ParentErrorPolicy = attrs.field(factory=ParentErrorPolicy)
    max_workers: int = DEFAULT_MAX_WORKERS

    def __attrs_post_init__(self) -> None:
        stray = set(self.renames) - set(self.include_from_parent)
        if stray:
            raise ValueError(
                f"renames {sorted(stray)} name parent fields that are not in"
                f" include_from_parent {list(self.include_from_parent)}; rename keys are"
                " parent field names, such as {'id': 'project_id'}"
            )
        columns = [
            parent_column(self.parent_name, f, self.renames) for f in self.include_from_parent
        ]
        if len(set(columns)) != len(columns):
            raise ValueError(f"two parent fields would land in the same column: {columns}")
        if self.max_workers < 1:
            raise ValueError(f"max_workers must be at least 1, not {self.max_workers}")


def parent_column(parent_name: str, field: str, renames: Mapping[str, str] | None = None) -> str:
    """The child-row column of parent ``field``: its rename, else ``_<parent>_<field>``.

    .. versionadded:: 0.1
    """
    if renames and field in renames:
        return renames[field]
    return f"_{parent_name}_{field}"


def parent_columns(row: Mapping[str, Any], dependent: DependentEndpoint) -> dict[str, Any]:
    """The columns a parent ``row`` adds to each of its child rows (renames applied).

    .. versionadded:: 0.1
    """
    return {
        parent_column(dependent.parent_name, field, dependent.renames): row.get(field)
        for field in dependent.include_from_parent
    }


def dependent_endpoints(
    parent: Endpoint, child: Endpoint, dependent: DependentEndpoint
) -> tuple[Endpoint, Endpoint]:
    """The parent and child as the fan-out reads them: overrides applied, and the child's
    static placeholders filled so only ``{resolve_param}`` (if any) is left.

    Raises :class:`ValueError` when the pieces do not fit (another parent name, a child
    placeholder with no value).

    .. versionadded:: 0.1
    """
    if parent.name != dependent.parent_name:
        raise ValueError(
            f"endpoint {child.name!r} depends on parent {dependent.parent_name!r}, but the"
            f" parent endpoint given is {parent.name!r}"
        )
    if dependent.parent_overrides is not None:
        parent = dependent.parent_overrides.apply(parent)
    if dependent.child_overrides is not None:
        child = dependent.child_overrides.apply(child)
    # Static placeholders first, so the resolve step sees only its own (and a static value
    # that looks like "{repo}" is already encoded and inert).
    path = fill_path(child.path, child.path_values, partial=True)
    left = placeholders(path) - {dependent.resolve_param}
    if left:
        raise ValueError(
            f"endpoint {child.name!r}: placeholders {sorted(left)} in {child.path!r} have no"
            " value; give them in the child's path_values"
        )
    changes: dict[str, Any] = {"path": path, "path_values": {}}
    if dependent.page_size_param is not None:
        changes["page_size_param"] = dependent.page_size_param
    return parent, child.evolve(**changes)


def read_dependent(
    client: RestClient,
    parent: Endpoint,
    child: Endpoint,
    dependent: DependentEndpoint,
    *,
    inputs: SourceInputs | None = None,
    on_skip: Callable[[SkippedParent], None] | None = None,
) -> Iterator[list[dict[str, Any]] | ResumePoint]:
    """Read ``child`` for every row of ``parent``; yield pages of child rows.

    ``inputs`` bounds the child reads (incremental parameters); the parent is always read
    whole. Pages of different parents interleave. After each page (and each parent whose
    children are all read) comes a :class:`~headwater.ResumePoint` holding the fan-out
    position: the parents done, and the resume state of each parent in progress. A read
    resumed from ``inputs.resume_state`` reads the parents again, skips those done, and
    continues the others from their own position.

    .. versionadded:: 0.1
    .. versionchanged:: 0.2 yields resume points and resumes.
    """
    parent, child = dependent_endpoints(parent, child, dependent)
    in_path = dependent.resolve_param in placeholders(child.path)
    runtime = client.runtime
    # Progress is the schema's, which the host names (an endpoint may be named otherwise).
    schema = inputs.schema_name if inputs is not None else child.name
    position = _FanOutPosition.of(inputs.resume_state if inputs is not None else None)

    def parents() -> Iterator[dict[str, Any]]:
        reader = PageReader(client, parent, schema=schema)
        for row in itertools.chain.from_iterable(reader):
            if _parent_key(row, dependent, child.name) not in position.done:
                yield row

    def children(row: dict[str, Any]) -> Iterator[_ChildPage]:
        value = _resolved(row, dependent, child.name)
        key = _parent_key(row, dependent, child.name)
        extra = parent_columns(row, dependent)
        reader = PageReader(
            client,
            child,
            inputs=inputs,
            path_values={dependent.resolve_param: value} if in_path else None,
            params=None if in_path else {dependent.resolve_param: query_value(value)},
            resume=position.open.get(key),
            schema=schema,
        )
        try:
            for page in reader:
                rows = [_merged(item, extra, child.name) for item in page]
                done = reader.complete
                yield _ChildPage(
                    key=key, rows=rows, resume=None if done else reader.resume_state, done=done
                )
        except HTTPStatusError as error:
            if not dependent.parent_errors.skips(error):
                raise
            skipped = SkippedParent(
                parent=dependent.parent_name,
                value=str(value),
                status=error.status,
                reason=str(error),
            )
            runtime.logger.warning(
                "%s: skipped %s %r: %s", child.name, skipped.parent, skipped.value, skipped.reason
            )
            runtime.progress.emit(
                ProgressEvent(
                    kind=ProgressKind.NOTICE,
                    schema=schema,
                    detail=f"skipped {skipped.parent} {skipped.value!r} (HTTP {error.status})",
                )
            )
            if on_skip is not None:
                on_skip(skipped)
            refused = error if error.kind in _ACCESS_KINDS else None
            yield _ChildPage(key=key, rows=None, resume=None, done=True, refused=refused)
            return
        yield _ChildPage(key=key, rows=None, resume=None, done=True)

    resumed = bool(position.done or position.open)
    ended = 0
    refused: list[HTTPStatusError] = []
    for page in parallel_chain(parents(), children, max_workers=dependent.max_workers):
        if page.rows:
            yield page.rows
        if page.rows is None:
            ended += 1
            if page.refused is not None:
                refused.append(page.refused)
        position.advance(page)
        yield ResumePoint(position.state())
    if refused and len(refused) == ended and not resumed:
        # Every parent refused: not some hidden parents but credentials without access to
        # the children at all. Skipping them all would write an empty table without a word.
        last = refused[-1]
        raise type(last)(
            f"every one of the {ended} {dependent.parent_name} answered HTTP {last.status} for"
            f" its {child.name}; check the credentials' access (scopes, roles) to"
            f" {child.name}. Last: {last}",
            status=last.status or 0,
            url=last.url,
            body_excerpt=last.body_excerpt,
        )


@attrs.frozen
class _ChildPage:
    """A page of one parent's children (``rows``), or the end of them (``rows=None``);
    ``done`` once the parent's last page is read."""

    key: str
    rows: list[dict[str, Any]] | None
    resume: dict[str, Any] | None
    done: bool
    refused: HTTPStatusError | None = None
    """Set on the end of a parent skipped because the API refused access (401, 403)."""


class _FanOutPosition:
    """How far a fan-out read got: parents whose children are all read, and where each
    parent in progress continues. Parents are known by their resolved value, as JSON text."""

    def __init__(self, done: list[str], open_: dict[str, dict[str, Any]]) -> None:
        self._done = done
        self.done = set(done)
        self.open = open_

    @classmethod
    def of(cls, resume: Mapping[str, Any] | None) -> _FanOutPosition:
        done = resume.get("done") if resume else None
        open_ = resume.get("open") if resume else None
        return cls(
            [str(key) for key in done] if isinstance(done, list) else [],
            {str(k): dict(v) for k, v in open_.items() if isinstance(v, Mapping)}
            if isinstance(open_, Mapping)
            else {},
        )

    def advance(self, page: _ChildPage) -> None:
        if page.done:
            self.open.pop(page.key, None)
            if page.key not in self.done:
                self.done.add(page.key)
                self._done.append(page.key)
        elif page.resume is not None:
            self.open[page.key] = page.resume

    def state(self) -> dict[str, Any]:
        return {"done": list(self._done), "open": dict(self.open)}


def _parent_key(row: Any, dependent: DependentEndpoint, child: str) -> str:
    return orjson.dumps(_resolved(row, dependent, child)).decode()


def _resolved(row: Any, dependent: DependentEndpoint, child: str) -> ParamValue:
    value = dependent.resolve_field.find(row) if isinstance(row, dict) else MISSING
    if value is MISSING or value is None or value == "":
        raise ResponseFormatError(
            f"endpoint {child!r}: a {dependent.parent_name} row has no"
            f" {dependent.resolve_field.path!r} to read its children with"
        )
    if isinstance(value, dict | list):
        raise ResponseFormatError(
            f"endpoint {child!r}: {dependent.resolve_field.path!r} of a"
            f" {dependent.parent_name} row is a {type(value).__name__}, not a value"
        )
    return cast("ParamValue", value)


def _merged(item: Any, extra: dict[str, Any], child: str) -> dict[str, Any]:
    if not isinstance(item, dict):
        raise ResponseFormatError(
            f"endpoint {child!r}: a row is a JSON {type(item).__name__}, not an object, so"
            " parent fields cannot be added to it"
        )
    # Parent columns win over a child field of the same name: a rename is an explicit choice.
    return {**item, **extra}
