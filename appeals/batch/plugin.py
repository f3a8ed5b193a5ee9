"""The batch plug-in: what this package registers at start-up."""


def register() -> None:
    pass
