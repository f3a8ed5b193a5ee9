"""Signed decision webhooks: endpoints per enterprise or platform, events delivered through the outbox."""
