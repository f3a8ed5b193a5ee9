"""How a delivery attempt can fail: worth retrying later, or never; and, for SMS failover,
whose fault it was and whether the provider may have taken the message anyway.

`ambiguous`: the request may have reached the provider and been accepted (a read timeout,
a connection dropped after sending, an HTTP 5xx, a provider "internal timeout"). Such a
message must not be handed to another provider before the first one is asked about it.

`provider_fault`: the provider, not the message, is the problem (unreachable, throttling
the account, bad credentials, out of balance). It counts against the provider's circuit
breaker and lets the message try another provider. A refusal of the message itself (an
invalid number, the number's own daily limit) is not the provider's fault: another
provider would refuse it too.
"""


class DeliveryError(Exception):
    retryable = False

    def __init__(self, message: str, *, code: str = "", ambiguous: bool = False, provider_fault: bool = True):
        self.code = code
        self.ambiguous = ambiguous
        self.provider_fault = provider_fault
        super().__init__(f"{code}: {message}" if code else message)


class TransientDeliveryError(DeliveryError):
    """The provider is busy, throttling or unreachable: retry with back-off."""

    retryable = True


class PermanentDeliveryError(DeliveryError):
    """The provider refused the message itself (bad number, template, credentials)."""
