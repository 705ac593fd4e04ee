"""Project-wide API behaviour shared by every app's endpoints."""

from __future__ import annotations

from typing import Any

from django.core.exceptions import ValidationError as DjangoValidationError
from rest_framework.exceptions import ValidationError
from rest_framework.response import Response
from rest_framework.views import exception_handler as drf_exception_handler


def exception_handler(exc: Exception, context: dict[str, Any]) -> Response | None:
    """DRF's handler, plus: a Django ``ValidationError`` raised by a service answers 400 with its messages.

    Services validate with Django's ValidationError (they are shared with the admin, pages and commands), so
    API views call them directly instead of each translating the error.
    """
    if isinstance(exc, DjangoValidationError):
        exc = ValidationError(exc.message_dict if hasattr(exc, "error_dict") else exc.messages)
    return drf_exception_handler(exc, context)
