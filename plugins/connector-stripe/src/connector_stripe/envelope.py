"""Stripe's error envelope: the API's own words in every permanent failure's message.

Stripe answers errors as ``{"error": {"type", "code", "message", "param", "doc_url", ...}}``
(api_inventory.md, "Errors"). :func:`stripe_message` is the client's ``error_message``
reader, so a message ends with ``type (code): message`` instead of the raw JSON; real code,
because a long body is cut off and must still be read.
"""

from __future__ import annotations

import json
import re
from typing import Any

__all__ = ["stripe_message"]

_MESSAGE = re.compile(r'"message"\s*:\s*"((?:[^"\\]|\\.)*)')
_FIELD = {name: re.compile(rf'"{name}"\s*:\s*"([^"\\]*)"') for name in ("type", "code")}


def stripe_message(body: str) -> str | None:
    """``type (code): message`` from Stripe's error envelope, or ``None`` if it has none.

    ``body`` is the start of the error body the client kept; a long body is cut off, so the
    fields are read by pattern when the JSON does not parse.
    """
    fields: dict[str, Any] = {}
    try:
        parsed = json.loads(body)
    except ValueError:
        match = _MESSAGE.search(body)
        if match is None:
            return None
        fields["message"] = match.group(1).replace('\\"', '"')
        for name, pattern in _FIELD.items():
            found = pattern.search(body)
            fields[name] = found.group(1) if found else None
    else:
        error = parsed.get("error") if isinstance(parsed, dict) else None
        if not isinstance(error, dict) or not error.get("message"):
            return None
        fields = error
    kind = fields.get("type") or "error"
    code = f" ({fields['code']})" if fields.get("code") else ""
    return f"{kind}{code}: {fields['message']}"
