"""Fixtures for the evidence suite (the completeness guard is on, as in production).

`attach_required_evidence` and the `complete_draft` fixture live in tests/builders.py and
tests/conftest.py; this name stays for the suite's modules that import it from here.
"""

from tests.builders import attach_required_evidence

__all__ = ["attach_required_evidence"]
