"""The guide's rate-limit table."""
RATE_LIMITS = {
    "auth_login": "3/hour",
    "auth_register": "2/hour",
    "generation_create": "10/hour",
    "api_standard": "100/minute",
    "password_reset": "3/hour",
}
