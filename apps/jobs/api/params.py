"""Job parameters from an API request body, whatever its encoding."""

from __future__ import annotations

from typing import Any

from rest_framework.exceptions import ValidationError
from rest_framework.request import Request


def request_params(request: Request) -> dict[str, Any]:
    """The request body as a plain dict (a form-encoded body is a QueryDict of lists)."""
    data = request.data
    if hasattr(data, "dict"):
        return data.dict()
    if not isinstance(data, dict):
        raise ValidationError("expected a JSON object of parameters")
    return dict(data)
