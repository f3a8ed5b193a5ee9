"""Batch review when a wave hits: alike open appeals grouped, recommended and confirmed as a group,
each case still moving on its own. Reads several capabilities."""
