"""The shared kernel's tables: jurisdictions, households, people, users, API tokens and the audit log.

Personal data (ID number, name, phone, address) never sits in clear text: each person has one
AES-GCM ciphertext (``pii``) holding all four, keyed hashes beside ID, phone and name for matching,
and pre-masked display forms so that list pages never need to decrypt.
"""

from __future__ import annotations

import datetime as dt
import enum

from sqlalchemy import (
    Boolean,
    Date,
    Enum,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    String,
    Text,
)
from sqlalchemy.orm import Mapped, mapped_column

from fangkong.core.clock import utcnow
from fangkong.core.db import Base, HashString, Instant, PathString


class Level(enum.StrEnum):
    """Administrative levels, top down; the value is what the database stores."""

    province = "province"
    city = "city"
    county = "county"
    township = "township"
    community = "community"


LEVEL_ORDER = {level: i for i, level in enumerate(Level)}
# GB/T 2260 codes are 6 digits down to county; township codes add 3 digits and community codes 3 more.
CODE_LENGTH = {
    Level.province: 6,
    Level.city: 6,
    Level.county: 6,
    Level.township: 9,
    Level.community: 12,
}


class Jurisdiction(Base):
    __tablename__ = "jurisdictions"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    code: Mapped[str] = mapped_column(String(12), unique=True)
    name: Mapped[str] = mapped_column(String(100))
    level: Mapped[Level] = mapped_column(Enum(Level, native_enum=False, length=12))
    parent_id: Mapped[int | None] = mapped_column(ForeignKey("jurisdictions.id"), index=True)
    # "/330000/330100/330106/": everything under a node is a prefix match on this column.
    path: Mapped[str] = mapped_column(PathString, index=True)
    # A drill's sandbox is kept out of real statistics.
    is_sandbox: Mapped[bool] = mapped_column(Boolean, default=False)


class Household(Base):
    __tablename__ = "households"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    jurisdiction_id: Mapped[int] = mapped_column(ForeignKey("jurisdictions.id"))
    jpath: Mapped[str] = mapped_column(PathString, index=True)
    address_hash: Mapped[str] = mapped_column(HashString, unique=True)
    address_cipher: Mapped[bytes] = mapped_column(LargeBinary)
    address_masked: Mapped[str] = mapped_column(String(200))


class Person(Base):
    __tablename__ = "people"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    jurisdiction_id: Mapped[int] = mapped_column(ForeignKey("jurisdictions.id"))
    jpath: Mapped[str] = mapped_column(PathString)
    household_id: Mapped[int | None] = mapped_column(ForeignKey("households.id"), index=True)
    pii: Mapped[bytes] = mapped_column(LargeBinary)
    id_hash: Mapped[str] = mapped_column(HashString, unique=True)
    phone_hash: Mapped[str | None] = mapped_column(HashString, index=True)
    name_hash: Mapped[str] = mapped_column(HashString, index=True)
    id_masked: Mapped[str] = mapped_column(String(18))
    phone_masked: Mapped[str | None] = mapped_column(String(11))
    name_masked: Mapped[str] = mapped_column(String(50))
    sex: Mapped[str] = mapped_column(String(1))
    birth_date: Mapped[dt.date] = mapped_column(Date)
    created_at: Mapped[dt.datetime] = mapped_column(Instant, default=utcnow)

    __table_args__ = (Index("ix_people_jpath_id", "jpath", "id"),)


class Role(enum.StrEnum):
    """What a user does; permissions follow from the role (see ``core.permissions``)."""

    administrator = "administrator"
    command_centre = "command_centre"
    surveillance_analyst = "surveillance_analyst"
    investigator = "investigator"
    quarantine_manager = "quarantine_manager"
    testing_coordinator = "testing_coordinator"
    laboratory = "laboratory"
    community_worker = "community_worker"
    viewer = "viewer"


class User(Base):
    __tablename__ = "users"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    username: Mapped[str] = mapped_column(String(64), unique=True)
    display_name: Mapped[str] = mapped_column(String(100))
    role: Mapped[Role] = mapped_column(Enum(Role, native_enum=False, length=32))
    jurisdiction_id: Mapped[int] = mapped_column(ForeignKey("jurisdictions.id"))
    password_hash: Mapped[str] = mapped_column(String(200))
    failed_logins: Mapped[int] = mapped_column(Integer, default=0)
    locked_until: Mapped[dt.datetime | None] = mapped_column(Instant)
    # Bumped at logout and password change: every cookie issued before is void.
    session_version: Mapped[int] = mapped_column(Integer, default=1)
    is_active: Mapped[bool] = mapped_column(Boolean, default=True)
    created_at: Mapped[dt.datetime] = mapped_column(Instant, default=utcnow)


class ApiToken(Base):
    __tablename__ = "api_tokens"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True)
    name: Mapped[str] = mapped_column(String(100))
    # SHA-256 of the token: the token itself is shown once and never stored.
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    created_at: Mapped[dt.datetime] = mapped_column(Instant, default=utcnow)
    expires_at: Mapped[dt.datetime | None] = mapped_column(Instant)


class AuditEntry(Base):
    __tablename__ = "audit_log"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    at: Mapped[dt.datetime] = mapped_column(Instant)
    actor_id: Mapped[int | None] = mapped_column(Integer)
    actor: Mapped[str] = mapped_column(String(64))
    action: Mapped[str] = mapped_column(String(64), index=True)
    object_type: Mapped[str] = mapped_column(String(64))
    object_id: Mapped[str] = mapped_column(String(64))
    jpath: Mapped[str | None] = mapped_column(PathString, index=True)
    detail: Mapped[str] = mapped_column(Text)
    ip: Mapped[str] = mapped_column(String(64))
    prev_hash: Mapped[str] = mapped_column(String(64))
    hash: Mapped[str] = mapped_column(String(64))


class AuditHead(Base):
    """One row: the chain's last link. Locking it serialises appends so the chain never forks."""

    __tablename__ = "audit_head"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    last_hash: Mapped[str] = mapped_column(String(64))
