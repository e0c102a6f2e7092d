"""The personal-data lifecycle: retention rules and their nightly job, the end-of-emergency purge with
its deletion report, merging duplicate people with an undo, and access outside one's jurisdiction with
a stated reason ("break the glass").

This capability is cross-cutting by nature and holds the one allowed exception to the house rule that a
capability never writes another's tables: to merge, delete or anonymise a person it reads and writes the
person-linked columns of every table, found from the SQLAlchemy metadata (foreign keys to ``people``
and ``person_id`` columns), through ``Table`` objects only: it never imports another capability's
models, so a table added tomorrow is covered without a hand list that rots (see ``service/linkage.py``).
"""
