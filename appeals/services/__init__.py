"""Every write goes through a function here: keyword-only, atomic, audited."""
