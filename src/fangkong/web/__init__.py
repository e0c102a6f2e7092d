"""The web shell: templates, static files and vendored JavaScript."""
