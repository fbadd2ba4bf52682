"""The JSON API under /ai/org-usage/: routes, the OpenAPI document, the error shape, the bearer-token check and security headers."""
