"""Policy files -> rules: loading and validation, the compiled pack cache, the project config, schema generation."""
