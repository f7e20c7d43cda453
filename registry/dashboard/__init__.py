"""The value and data-quality dashboard (issue 17, docs/dashboard.md): summary tables kept
by a beat task (refresh), reads scoped to the user (selectors), and the pages (views)."""
