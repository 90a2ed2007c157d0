"""The few exceptions services raise; each has a stable code for programs and a Chinese message for people.

They are mapped once to HTTP statuses (hotline/app.py) and to bot replies (bot/).
"""


class HotlineError(Exception):
    status = 400
    code = "error"

    def __init__(self, message: str, code: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        if code:
            self.code = code


class ValidationFailed(HotlineError):
    status = 422
    code = "invalid_input"


class PayloadTooLarge(HotlineError):
    status = 413
    code = "too_large"


class NotFound(HotlineError):
    status = 404
    code = "not_found"


class Forbidden(HotlineError):
    status = 403
    code = "forbidden"


class InvalidTransition(HotlineError):
    status = 409
    code = "invalid_transition"


class Conflict(HotlineError):
    status = 409
    code = "conflict"


class Unauthenticated(HotlineError):
    status = 401
    code = "unauthenticated"


class RateLimited(HotlineError):
    status = 429
    code = "rate_limited"


class Unavailable(HotlineError):
    status = 503
    code = "unavailable"


class StorageFull(HotlineError):
    status = 507
    code = "storage_full"
