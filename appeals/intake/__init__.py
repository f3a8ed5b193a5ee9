"""Incidents pushed by the enforcement system through a service account, ready for the enterprise
admin to appeal."""
