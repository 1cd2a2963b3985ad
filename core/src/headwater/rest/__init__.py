"""The shared REST machinery: declare endpoints, and read them safely and fast.

A connector declares its API once (:class:`ClientConfig`: base URL, headers, retries) and each
endpoint as data (:class:`Endpoint`: path, selector, paginator, page size, keys, incremental
parameters; :class:`DependentEndpoint` for fan-out), and its source as a :class:`RestSource`
over that catalog: which config fields sign requests (:class:`AuthFrom`), choose the host
(:class:`BaseUrlFrom`) and fill paths (:class:`PathValues`), and how credentials are checked
(:class:`CredentialCheck`).
:func:`endpoint_response` and :func:`dependent_response` turn them into the
:class:`~headwater.SourceResponse` the host reads. Underneath, :class:`RestClient` sends
every request through the :class:`~headwater.Runtime`, signs only requests to the configured
origin, retries what is transient (with stamina) and raises the typed errors of
:mod:`headwater.errors`. How-to and examples: ``docs/rest.md``.

Importing this package imports httpx, orjson and stamina; importing :mod:`headwater` alone
does not import this package.

.. versionadded:: 0.1
"""

from __future__ import annotations

from headwater.rest._auth import (
    ApiKeyAuth,
    Auth,
    AuthFrom,
    BasicAuth,
    BearerAuth,
    Signer,
    SigningContext,
    TokenRequester,
)
from headwater.rest._base_url import BaseUrlFrom
from headwater.rest._check import CredentialCheck
from headwater.rest._client import ApiResponse, ClientConfig, RestClient
from headwater.rest._endpoint import Endpoint, ParamValue, RowNormalizer
from headwater.rest._fanout import (
    DependentEndpoint,
    EndpointOverrides,
    ParentErrorPolicy,
    SkippedParent,
    dependent_endpoints,
    parent_column,
    parent_columns,
    read_dependent,
)
from headwater.rest._logs import HttpxUrlRedaction, redact_httpx_log
from headwater.rest._oauth2 import OAuth2ClientCredentials, OAuth2RefreshToken
from headwater.rest._origin import ForeignLinks
from headwater.rest._paginators import (
    CursorPaginator,
    HasMorePaginator,
    LinkHeaderPaginator,
    NextUrlPaginator,
    OffsetPaginator,
    Page,
    PageContext,
    PageNumberPaginator,
    PageRequest,
    PageState,
    Paginator,
    SinglePagePaginator,
)
from headwater.rest._params import (
    Bounds,
    EpochMilliseconds,
    EpochSeconds,
    IncrementalParams,
    Iso8601,
    ValueFormat,
    comparable,
    incremental_bounds,
    incremental_params,
)
from headwater.rest._path_values import PathValues
from headwater.rest._paths import encode_segment, fill_path
from headwater.rest._query import QueryTemplate, with_params
from headwater.rest._reader import HTTP_PAGE, PageReader, select_rows
from headwater.rest._resource import dependent_response, endpoint_response, response_for
from headwater.rest._retry import RetryPolicy, parse_retry_after
from headwater.rest._selectors import Selector, SelectorError
from headwater.rest._source import CatalogEntry, FanOut, RestSource
from headwater.rest._workers import DEFAULT_MAX_WORKERS, parallel_chain

__all__ = [
    "ApiKeyAuth",
    "ApiResponse",
    "Auth",
    "AuthFrom",
    "BaseUrlFrom",
    "BasicAuth",
    "BearerAuth",
    "Bounds",
    "CatalogEntry",
    "ClientConfig",
    "CredentialCheck",
    "CursorPaginator",
    "DEFAULT_MAX_WORKERS",
    "DependentEndpoint",
    "Endpoint",
    "EndpointOverrides",
    "EpochMilliseconds",
    "EpochSeconds",
    "FanOut",
    "ForeignLinks",
    "HTTP_PAGE",
    "HasMorePaginator",
    "HttpxUrlRedaction",
    "IncrementalParams",
    "Iso8601",
    "LinkHeaderPaginator",
    "NextUrlPaginator",
    "OAuth2ClientCredentials",
    "OAuth2RefreshToken",
    "OffsetPaginator",
    "Page",
    "PageContext",
    "PageNumberPaginator",
    "PageReader",
    "PageRequest",
    "PageState",
    "Paginator",
    "ParamValue",
    "ParentErrorPolicy",
    "PathValues",
    "QueryTemplate",
    "RestClient",
    "RestSource",
    "RetryPolicy",
    "RowNormalizer",
    "Selector",
    "SelectorError",
    "Signer",
    "SigningContext",
    "SinglePagePaginator",
    "SkippedParent",
    "TokenRequester",
    "ValueFormat",
    "comparable",
    "dependent_endpoints",
    "dependent_response",
    "encode_segment",
    "endpoint_response",
    "fill_path",
    "incremental_bounds",
    "incremental_params",
    "parallel_chain",
    "parent_column",
    "parent_columns",
    "parse_retry_after",
    "read_dependent",
    "redact_httpx_log",
    "response_for",
    "select_rows",
    "with_params",
]
