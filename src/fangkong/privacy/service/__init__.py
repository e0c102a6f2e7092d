"""Use cases of the personal-data lifecycle, one module each: ``retention`` (rules, the nightly job and
its dry run), ``emergency`` (close and purge, the deletion report), ``merge`` (duplicates, merge, undo),
``access`` (break the glass) and ``linkage`` (where people are referenced, found from the metadata)."""
