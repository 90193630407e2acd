"""Cross-cutting web helpers: htmx page-or-partial, i18n, security headers, charts, errors."""
