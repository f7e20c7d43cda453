"""API-wide behaviour: every error is a 4xx (or 503) with a message, never a bare 500."""

import logging
from typing import Any

from django.core.exceptions import RequestDataTooBig
from django.core.exceptions import ValidationError as DjangoValidationError
from django.db import DatabaseError
from rest_framework import status
from rest_framework.response import Response
from rest_framework.views import exception_handler as drf_exception_handler

logger = logging.getLogger(__name__)


def exception_handler(exc: Exception, context: dict[str, Any]) -> Response:
    response = drf_exception_handler(exc, context)
    if response is not None:
        return response  # DRF's own 4xx: validation, authentication, permission, not found
    if isinstance(exc, RequestDataTooBig):
        return Response(
            {"detail": "The request body is larger than the API accepts. Send less in one call."},
            status=status.HTTP_413_REQUEST_ENTITY_TOO_LARGE,
        )
    if isinstance(exc, RecursionError):
        # json.loads gives up on deeply nested input with RecursionError, not ValueError,
        # so DRF's parser does not turn it into a ParseError.
        return Response(
            {"detail": "The request body is not valid for this API: JSON nested too deeply."},
            status=status.HTTP_400_BAD_REQUEST,
        )
    if isinstance(exc, DjangoValidationError):
        return Response({"detail": "; ".join(exc.messages)}, status=status.HTTP_400_BAD_REQUEST)
    if isinstance(exc, DatabaseError):
        # Includes a failed audit write: the lookup is refused rather than served unaudited.
        logger.exception("database error in API call")
        return Response(
            {"detail": "The register is unavailable: your request could not be recorded. Try again shortly."},
            status=status.HTTP_503_SERVICE_UNAVAILABLE,
        )
    # Anything else is our bug: logged with its trace, and the caller gets a message and a
    # status it can retry on instead of a bare 500.
    logger.exception("unexpected error in API call")
    return Response(
        {"detail": "The request failed because of a problem in the service. It has been logged; try again."},
        status=status.HTTP_503_SERVICE_UNAVAILABLE,
    )
