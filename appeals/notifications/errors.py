"""How a delivery attempt can fail: worth retrying later, or never."""


class DeliveryError(Exception):
    retryable = False

    def __init__(self, message: str, *, code: str = ""):
        self.code = code
        super().__init__(f"{code}: {message}" if code else message)


class TransientDeliveryError(DeliveryError):
    """The provider is busy, throttling or unreachable: retry with back-off."""

    retryable = True


class PermanentDeliveryError(DeliveryError):
    """The provider refused the message itself (bad number, template, credentials)."""
