"""Records management: 3-2-1 backups with a monthly restore drill, and retention (personal data
of closed cases erased after PERSONAL_DATA_RETENTION_DAYS unless under legal hold; the audit
trail kept at least AUDIT_RETENTION_DAYS; sessions and expired tokens purged).

Sits above the capabilities (it reads every capability's rows to back them up and erase them)
and below the shell; see the import-linter contract in pyproject.toml.
"""
