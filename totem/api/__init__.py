"""HTTP building blocks shared by every Totem service."""

from totem.api.errors import ApiError, error_response, invalid_parameter
from totem.api.service import create_service_app
from totem.api.validation import json_body, parse_json, validate

__all__ = [
    "ApiError",
    "create_service_app",
    "error_response",
    "invalid_parameter",
    "json_body",
    "parse_json",
    "validate",
]
