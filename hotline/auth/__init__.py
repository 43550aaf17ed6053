"""Users, roles, municipality scoping, sessions and CSRF."""
