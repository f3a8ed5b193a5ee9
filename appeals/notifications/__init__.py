"""Outbound messages: SMS backends (configured like EMAIL_BACKEND), email, and the outbox."""
