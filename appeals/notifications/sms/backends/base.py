"""The SMS backend interface."""


class BaseSmsBackend:
    def __init__(self, **kwargs):
        self.options = kwargs

    def send(self, message) -> str:
        """Deliver one SmsMessage; return the provider's id for it.

        Raise TransientDeliveryError (retry later) or PermanentDeliveryError (give up).
        """
        raise NotImplementedError

    def lookup(self, message) -> bool | None:
        """Did an earlier attempt for message.out_id reach the provider?

        Asked only when a worker died mid-send. True: it was sent; False: it was not;
        None: this backend cannot tell (the message is then not resent blindly).
        """
        return None
