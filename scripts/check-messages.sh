#!/usr/bin/env bash
# Extract the zh-Hans catalogue afresh and fail on any untranslated or fuzzy entry, or on a
# compiled catalogue (.mo) older than its source. The working tree is left as it was.
set -euo pipefail
cd "$(dirname "$0")/.."
PO=appeals/locale/zh_Hans/LC_MESSAGES/django.po
MO=${PO%.po}.mo
command -v msgattrib >/dev/null || { echo "check-messages: gettext is missing (apt-get install gettext)" >&2; exit 1; }
backup=$(mktemp)
cp "$PO" "$backup"
trap 'cp "$backup" "$PO"; rm -f "$backup"' EXIT
.venv/bin/python manage.py makemessages -l zh_Hans --no-obsolete -i .venv -i tests -i benchmarks \
  -i staticfiles -i media -i scripts -v0
untranslated=$(msgattrib --untranslated --no-fuzzy --no-obsolete "$PO" | grep -c '^msgid ' || true)
fuzzy=$(msgattrib --only-fuzzy --no-obsolete "$PO" | grep -c '^msgid ' || true)
# msgattrib prints the header entry too when it prints anything.
[ "$untranslated" -gt 0 ] && untranslated=$((untranslated - 1))
[ "$fuzzy" -gt 0 ] && fuzzy=$((fuzzy - 1))
stats=$(msgfmt --statistics -o /dev/null "$PO" 2>&1)
if [ "$untranslated" -ne 0 ] || [ "$fuzzy" -ne 0 ]; then
  echo "check-messages: zh-Hans catalogue incomplete after a fresh extraction: $stats" >&2
  msgattrib --untranslated --no-obsolete "$PO" | grep '^msgid ' | tail -n +2 | head -40 >&2
  echo "Run 'make messages', translate the entries (docs/glossary.md), and commit the .po and .mo." >&2
  exit 1
fi
compiled=$(mktemp)
msgfmt -o "$compiled" "$backup"
if ! cmp -s "$compiled" "$MO"; then
  rm -f "$compiled"
  echo "check-messages: $MO is not compiled from $PO; run 'make messages' and commit both." >&2
  exit 1
fi
rm -f "$compiled"
echo "zh-Hans catalogue: $stats"
