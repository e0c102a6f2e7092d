"""The protocol engine: control protocols as data (YAML files) and the pure rules computed from them.

Pure modules here (no database, no web): ``schema`` (the file model), ``loader`` (files with line-exact
errors), ``plan`` (management plans), ``classifier`` (close contacts), ``diff`` (protocol comparison) and
``cli``. The capability's database and web rooms sit beside them and call these functions.
"""
