"""E-mail notifications: content-free messages that link to what needs attention."""
