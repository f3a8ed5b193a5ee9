"""The applicant's recovery plan: per incident kind, the steps that get the account back and keep it,
with dates, a pre-submit self-check and reminders. Reads several capabilities."""
