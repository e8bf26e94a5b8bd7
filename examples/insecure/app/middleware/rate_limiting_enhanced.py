"""Rate-limit table (insecure example: login too loose, password reset missing)."""
RATE_LIMITS = {
    "auth_login": "5/hour",
    "auth_register": "2/hour",
    "generation_create": "10/hour",
    "api_standard": "100/minute",
}
