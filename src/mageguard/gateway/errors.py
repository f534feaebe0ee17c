"""The one error a request can end with, whatever step refused it.

Each step raises a `GatewayError` with a machine `code` (it lands in the audit event's
`reason`) and a message meant for the caller; the protocol the caller spoke renders it in
its own error format (OpenAI's `{"error": {...}}`, Anthropic's `{"type": "error", ...}`).
Messages never quote the request's content.
"""

from __future__ import annotations

from mageguard.errors import MageguardError

# HTTP status -> the error `type` each API uses for it
OPENAI_TYPES = {
    400: "invalid_request_error",
    401: "authentication_error",
    403: "permission_error",
    404: "not_found_error",
    408: "timeout_error",
    413: "invalid_request_error",
    415: "invalid_request_error",
    422: "invalid_request_error",
    429: "rate_limit_error",
    451: "content_policy_error",
}
ANTHROPIC_TYPES = {
    400: "invalid_request_error",
    401: "authentication_error",
    403: "permission_error",
    404: "not_found_error",
    408: "timeout_error",
    413: "request_too_large",
    415: "invalid_request_error",
    422: "invalid_request_error",
    429: "rate_limit_error",
    451: "invalid_request_error",
    503: "overloaded_error",
    529: "overloaded_error",
}


class GatewayError(MageguardError):
    def __init__(self, status: int, code: str, message: str, *, param: str | None = None) -> None:
        super().__init__(message)
        self.status = status
        self.code = code
        self.message = message
        self.param = param

    @property
    def openai_type(self) -> str:
        return OPENAI_TYPES.get(
            self.status, "api_error" if self.status >= 500 else "invalid_request_error"
        )

    @property
    def anthropic_type(self) -> str:
        return ANTHROPIC_TYPES.get(
            self.status, "api_error" if self.status >= 500 else "invalid_request_error"
        )


def bad_request(
    message: str, param: str | None = None, code: str = "invalid_request"
) -> GatewayError:
    return GatewayError(400, code, message, param=param)
