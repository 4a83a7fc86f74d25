#!/usr/bin/env bash
# The documentation site: mkdocs in strict mode, so a broken page, link, nav entry or API docstring fails.
set -euo pipefail
if ! python -c "import mkdocs, material, mkdocstrings_handlers.python" >/dev/null 2>&1; then
  python -m pip install -q -e ".[test]"
fi
site="$(mktemp -d)"
trap 'rm -rf "$site"' EXIT
NO_MKDOCS_2_WARNING=1 python -m mkdocs build --strict --site-dir "$site"  # not --quiet: it hides the warnings strict mode counts
echo "docs: $(find "$site" -name index.html | wc -l) pages built in strict mode"
