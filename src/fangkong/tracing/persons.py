"""Who a case or contact is: a registry person when the registry knows them, else an unidentified person.

A person with an ID number is looked up in the registry (``core.people.search``) and registered there
(``core.people.register``) when they live in the investigator's jurisdiction and the address is known.
Everyone else (no ID number, or living elsewhere) gets a tracing-local :class:`UnidentifiedPerson`,
encrypted like the registry's records; no ID number is ever invented. Codes of places must exist
(``check_places``), and one ID number is one unidentified record: met again, the record is reused, and
merged into the registry person when they are registered.

Merging later: an unidentified record carrying an ID number is matched to the registry by its keyed hash
(``merge_by_id_number``, run by ``fangkong tracing merge``); one without is merged by an investigator who
has found the person (``merge``). Either way the tracing rows that named the record are re-pointed to
the registry person and the record keeps ``person_id`` as the trace of the merge.
"""

from __future__ import annotations

import datetime as dt
import re
import unicodedata
from collections.abc import Iterable, Mapping
from dataclasses import dataclass

import phonenumbers
from sqlalchemy import select, update
from sqlalchemy.orm import Session

from fangkong.core import clock, jurisdictions, people
from fangkong.core.auth import Principal
from fangkong.core.crypto import PersonalData, Vault, mask_name
from fangkong.core.errors import Conflict, InvalidInput, NotFound, RowError
from fangkong.core.events import EventBus
from fangkong.core.i18n import Message
from fangkong.core.idnumber import InvalidIdNumber, mask_id_number, validate_id_number
from fangkong.core.models import Jurisdiction, Level
from fangkong.core.phone import InvalidPhone, mask_phone, normalise_mobile
from fangkong.core.scope import path_in_scope, under
from fangkong.tracing.models import Case, Contact, Exposure, UnidentifiedPerson
from fangkong.tracing.rules import subject_key

MAX_NAME = 50
MAX_ADDRESS = 200


@dataclass(frozen=True, slots=True)
class PersonInput:
    """What an investigator knows about someone; any part may be missing."""

    name: str = ""
    id_number: str = ""
    phone: str = ""
    sex: str = ""
    age: int | None = None
    community_code: str = ""
    address: str = ""
    residence_code: str = ""
    # Shown where no name is known (e.g. a line list's own case number).
    label: str = ""
    # A registry person the investigator picked (found by ID number on the page): used as is.
    person_id: int | None = None


@dataclass(frozen=True, slots=True)
class Subject:
    person_id: int | None
    unidentified_id: int | None
    jurisdiction_id: int
    jpath: str
    residence_jurisdiction_id: int | None = None

    @property
    def key(self) -> str:
        return subject_key(self.person_id, self.unidentified_id)


@dataclass(frozen=True, slots=True)
class CleanPerson:
    """A validated :class:`PersonInput`: normalised ID and phone, sex from the ID when it has one."""

    name: str
    id_number: str
    phone: str
    sex: str | None
    age: int | None
    community_code: str
    address: str
    residence_code: str
    label: str


def norm(text: str) -> str:
    return unicodedata.normalize("NFKC", text or "").strip()


# Plain 11-digit input, the common case, is checked against the library's own mobile pattern directly;
# anything else takes the full phonenumbers parse (~100 us a number, which dominates large imports).
def _mobile_pattern() -> re.Pattern[str]:
    metadata = phonenumbers.PhoneMetadata.metadata_for_region("CN")
    mobile = metadata.mobile if metadata is not None else None
    pattern = mobile.national_number_pattern if mobile is not None else None
    return re.compile(pattern if isinstance(pattern, str) else "(?!)")


_CN_MOBILE = _mobile_pattern()


def _mobile(text: str) -> str:
    if len(text) == 11 and text.isascii() and text.isdigit() and _CN_MOBILE.fullmatch(text):
        return text
    return normalise_mobile(text)


_SEX = {"M": "M", "F": "F", "男": "M", "女": "F", "MALE": "M", "FEMALE": "F"}


def clean(
    data: PersonInput, row: int, errors: list[RowError], today: dt.date | None = None
) -> CleanPerson | None:
    """Validate one person's fields, appending every problem (named by row and field) to ``errors``."""
    before = len(errors)
    name, id_number, phone_raw = norm(data.name), norm(data.id_number).upper(), norm(data.phone)
    sex: str | None = _SEX.get(norm(data.sex).upper()) if data.sex else None
    if data.sex and sex is None:
        errors.append(RowError(row, "sex", Message("“{value}” is not M/F (男/女)", value=data.sex)))
    age = data.age
    if id_number:
        try:
            info = validate_id_number(id_number, today=today)
        except InvalidIdNumber as exc:
            errors.append(RowError(row, "id_number", exc.text))
        else:
            if sex is not None and sex != info.sex:
                errors.append(
                    RowError(
                        row,
                        "sex",
                        Message(
                            "“{value}” contradicts the ID number ({sex})",
                            value=data.sex,
                            sex=Message("male" if info.sex == "M" else "female"),
                        ),
                    )
                )
            sex = info.sex
            day = today or clock.today()
            birth = info.birth_date
            age = day.year - birth.year - ((day.month, day.day) < (birth.month, birth.day))
    phone = ""
    if phone_raw:
        try:
            phone = _mobile(phone_raw)
        except InvalidPhone as exc:
            errors.append(RowError(row, "phone", exc.text))
    if len(name) > MAX_NAME:
        errors.append(RowError(row, "name", Message("longer than {limit} characters", limit=MAX_NAME)))
    address = norm(data.address)
    if len(address) > MAX_ADDRESS:
        errors.append(RowError(row, "address", Message("longer than {limit} characters", limit=MAX_ADDRESS)))
    if age is not None and not 0 <= age <= 130:
        errors.append(RowError(row, "age", Message("{value} is not a plausible age", value=age)))
    if not (name or id_number or phone or data.label):
        errors.append(RowError(row, "name", "give at least a name, an ID number or a phone number"))
    if len(errors) > before:
        return None
    return CleanPerson(
        name,
        id_number,
        phone,
        sex,
        age,
        norm(data.community_code),
        address,
        norm(data.residence_code),
        norm(data.label)[:60],
    )


def unidentified_columns(vault: Vault, person: CleanPerson) -> dict[str, object]:
    """Column values of an unidentified-person row (encrypted, hashed, masked)."""
    label = mask_name(person.name) if person.name else (person.label or mask_phone(person.phone) or "?")
    return {
        "pii": vault.encrypt_person(
            PersonalData(person.id_number, person.name, person.phone, person.address)
        ),
        "id_hash": vault.keyed_hash(person.id_number) if person.id_number else None,
        "phone_hash": vault.keyed_hash(person.phone) if person.phone else None,
        "name_hash": vault.keyed_hash(person.name) if person.name else None,
        "label": label[:60],
        "id_masked": mask_id_number(person.id_number) if person.id_number else None,
        "phone_masked": mask_phone(person.phone) if person.phone else None,
        "sex": person.sex,
        "age": person.age,
    }


def _place(session: Session, code: str) -> tuple[int, str] | None:
    if not code:
        return None
    node = jurisdictions.by_code(session, code)
    return (node.id, node.path) if node is not None else None


def places_by_code(session: Session, codes: Iterable[str]) -> dict[str, Jurisdiction]:
    """The jurisdictions these codes name, by code: one query for a form, one per thousand distinct
    codes for a whole file."""
    wanted = sorted({code for code in codes if code})
    found: dict[str, Jurisdiction] = {}
    for start in range(0, len(wanted), 1000):
        found.update(
            (node.code, node)
            for node in session.scalars(
                select(Jurisdiction).where(Jurisdiction.code.in_(wanted[start : start + 1000]))
            )
        )
    return found


def place_problems(person: CleanPerson, places: Mapping[str, Jurisdiction], row: int = 1) -> list[RowError]:
    """A community code must name a community and a residence code a jurisdiction that exists.

    Without this a mistyped code (330106999999) was kept silently and the person stayed unplaced.
    ``places`` holds at least the jurisdictions of the person's codes that exist (``places_by_code``).
    """
    errors: list[RowError] = []
    if person.community_code:
        node = places.get(person.community_code)
        if node is None:
            errors.append(
                RowError(
                    row,
                    "community_code",
                    Message("no community has the code {code}", code=person.community_code),
                )
            )
        elif node.level != Level.community:
            errors.append(
                RowError(
                    row,
                    "community_code",
                    Message("{code} ({name}) is not a community", code=node.code, name=node.name),
                )
            )
    if person.residence_code and person.residence_code not in places:
        errors.append(
            RowError(
                row,
                "residence_code",
                Message("no jurisdiction has the code {code}", code=person.residence_code),
            )
        )
    return errors


def check_places(session: Session, person: CleanPerson, row: int = 1) -> list[RowError]:
    """The place codes of one person checked (``place_problems``); an import checks a whole file's codes
    with one ``places_by_code`` instead."""
    return place_problems(
        person, places_by_code(session, (person.community_code, person.residence_code)), row
    )


def resolve(
    session: Session,
    vault: Vault,
    bus: EventBus,
    principal: Principal,
    data: PersonInput,
    *,
    row: int = 1,
    register_residents: bool = False,
) -> Subject:
    """Find or register the person, or keep them as an unidentified person (see the module docstring).

    With ``register_residents`` (a case report), someone with an ID number who lives in a community of
    the caller's jurisdiction must come with a name and an address, so that they enter the registry and
    are found there, instead of being kept quietly as unidentified.
    """
    if data.person_id is not None:
        view = people.get(session, principal, data.person_id)
        return Subject(view.id, None, view.jurisdiction_id, _jpath_of(session, view.jurisdiction_id))
    errors: list[RowError] = []
    person = clean(data, row, errors)
    if person is None:
        raise InvalidInput(errors)
    errors = check_places(session, person, row)
    if errors:
        raise InvalidInput(errors)
    if person.id_number:
        found = people.search(session, vault, principal, person.id_number, size=1)
        if found.items:
            view = found.items[0]
            return Subject(view.id, None, view.jurisdiction_id, _jpath_of(session, view.jurisdiction_id))
        communities = people.communities_in_scope(session, principal.jpath)
        if register_residents and person.community_code in communities:
            needed = [
                RowError(row, name, Message("needed to register this resident in the registry"))
                for name, value in (("name", person.name), ("address", person.address))
                if not value
            ]
            if needed:
                raise InvalidInput(needed)
        known = _unidentified_by_id(session, vault, principal, person.id_number)
        if person.community_code in communities and person.address and person.name:
            try:
                view = people.register(
                    session,
                    vault,
                    bus,
                    principal,
                    {
                        "id_number": person.id_number,
                        "name": person.name,
                        "phone": person.phone,
                        "community_code": person.community_code,
                        "address": person.address,
                    },
                )
            except Conflict:
                pass  # registered in another jurisdiction: kept here as unidentified, merged there
            else:
                jpath = communities[person.community_code][1]
                if known is not None:
                    # Traced before under the same ID number: those rows now name the registry person.
                    _repoint(session, {known.id: (view.id, view.jurisdiction_id, jpath)})
                return Subject(view.id, None, view.jurisdiction_id, jpath)
        if known is not None:
            return Subject(
                None, known.id, known.jurisdiction_id, known.jpath, known.residence_jurisdiction_id
            )
    return create_unidentified(session, vault, principal, person)


def _unidentified_by_id(
    session: Session, vault: Vault, principal: Principal, id_number: str
) -> UnidentifiedPerson | None:
    """The unmerged unidentified record in scope with this ID number: one person is one record."""
    return session.scalar(
        select(UnidentifiedPerson)
        .where(
            UnidentifiedPerson.id_hash == vault.keyed_hash(id_number),
            UnidentifiedPerson.person_id.is_(None),
            under(UnidentifiedPerson.jpath, principal.jpath),
        )
        .order_by(UnidentifiedPerson.id)
        .limit(1)
    )


def _jpath_of(session: Session, jurisdiction_id: int) -> str:
    from fangkong.core.models import Jurisdiction

    node = session.get(Jurisdiction, jurisdiction_id)
    assert node is not None  # foreign key
    return node.path


def create_unidentified(session: Session, vault: Vault, principal: Principal, person: CleanPerson) -> Subject:
    """An unidentified-person record, responsible where they live if that is in scope, else here."""
    jurisdiction_id, jpath = principal.jurisdiction_id, principal.jpath
    residence: int | None = None
    for code in (person.community_code, person.residence_code):
        place = _place(session, code)
        if place is None:
            continue
        if path_in_scope(place[1], principal.jpath):
            jurisdiction_id, jpath = place
        else:
            residence = place[0]
        break
    record = UnidentifiedPerson(
        jurisdiction_id=jurisdiction_id,
        jpath=jpath,
        residence_jurisdiction_id=residence,
        **unidentified_columns(vault, person),
    )
    session.add(record)
    session.flush()
    return Subject(None, record.id, jurisdiction_id, jpath, residence)


def subject_of_case(case: Case) -> Subject:
    return Subject(case.person_id, case.unidentified_id, case.jurisdiction_id, case.jpath)


def labels(session: Session, principal: Principal, keys: list[str]) -> dict[str, str]:
    """Masked display names for subject keys in scope (one query per kind)."""
    return masked_labels(session, principal.jpath, keys)


def masked_labels(session: Session, scope_path: str, keys: list[str]) -> dict[str, str]:
    """Masked display names for subject keys of registry people under ``scope_path`` (and every
    unidentified record, which tracing itself keeps)."""
    person_ids = [int(k[2:]) for k in keys if k.startswith("p:")]
    unidentified_ids = [int(k[2:]) for k in keys if k.startswith("u:")]
    found: dict[str, str] = {}
    for pid, view in people.views_by_ids(session, scope_path, person_ids).items():
        found[f"p:{pid}"] = view.name
    for start in range(0, len(unidentified_ids), 1000):
        rows = session.execute(
            select(UnidentifiedPerson.id, UnidentifiedPerson.label).where(
                UnidentifiedPerson.id.in_(unidentified_ids[start : start + 1000])
            )
        )
        found.update((f"u:{uid}", label) for uid, label in rows)
    return found


def get_unidentified(session: Session, principal: Principal, unidentified_id: int) -> UnidentifiedPerson:
    record = session.get(UnidentifiedPerson, unidentified_id)
    if record is None or not path_in_scope(record.jpath, principal.jpath):
        raise NotFound(f"unidentified person {unidentified_id} not found")
    return record


def reveal_unidentified(vault: Vault, record: UnidentifiedPerson) -> PersonalData:
    return vault.decrypt_person(record.pii)


def merge(session: Session, principal: Principal, unidentified_id: int, person_id: int) -> int:
    """Merge an unidentified record into a registry person in scope; returns the rows re-pointed."""
    record = get_unidentified(session, principal, unidentified_id)
    target = people.get(session, principal, person_id)
    if record.person_id is not None:
        raise Conflict(Message("this unidentified person was already merged into a registry record"))
    return _repoint(
        session, {record.id: (target.id, target.jurisdiction_id, _jpath_of(session, target.jurisdiction_id))}
    )


def merge_by_id_number(session: Session, principal: Principal) -> int:
    """Merge every unmerged record in scope whose ID number the registry now knows (set-based)."""
    rows = list(
        session.execute(
            select(UnidentifiedPerson.id, UnidentifiedPerson.id_hash).where(
                under(UnidentifiedPerson.jpath, principal.jpath),
                UnidentifiedPerson.person_id.is_(None),
                UnidentifiedPerson.id_hash.is_not(None),
            )
        )
    )
    known = people.ids_by_id_hash(session, principal.jpath, [h for _, h in rows if h])
    targets = {uid: known[h] for uid, h in rows if h in known}
    return _repoint(session, targets) if targets else 0


def _repoint(session: Session, targets: dict[int, tuple[int, int, str]]) -> int:
    from fangkong.core.clock import utcnow

    changed = 0
    for uid, (person_id, jurisdiction_id, jpath) in targets.items():
        old_key, new_key = subject_key(None, uid), subject_key(person_id, None)
        clash = session.scalar(
            select(Contact.case_id).where(
                Contact.subject_key == new_key,
                Contact.case_id.in_(select(Contact.case_id).where(Contact.subject_key == old_key)),
            )
        )
        if clash is not None:
            raise Conflict(
                Message(
                    "case {case} already has this person as a contact twice; merge those contacts first",
                    case=clash,
                )
            )
        moved = {"person_id": person_id, "unidentified_id": None, "subject_key": new_key}
        for model in (Case, Contact):
            result = session.execute(
                update(model)
                .where(model.subject_key == old_key)
                .values(**moved, jurisdiction_id=jurisdiction_id, jpath=jpath)
            )
            changed += result.rowcount or 0  # type: ignore[attr-defined]
        result = session.execute(update(Exposure).where(Exposure.subject_key == old_key).values(**moved))
        changed += result.rowcount or 0  # type: ignore[attr-defined]
        session.execute(
            update(UnidentifiedPerson)
            .where(UnidentifiedPerson.id == uid)
            .values(person_id=person_id, merged_at=utcnow())
        )
    return changed


def people_who_are_cases(session: Session, person_ids: Iterable[int]) -> set[int]:
    """Those of the registry people who are cases (any classification but excluded): isolated or in
    hospital, they are not in a screening round of their area."""
    from fangkong.tracing.models import Classification

    wanted = sorted(set(person_ids))
    found: set[int] = set()
    for start in range(0, len(wanted), 1000):
        found.update(
            pid
            for pid in session.scalars(
                select(Case.person_id).where(
                    Case.person_id.in_(wanted[start : start + 1000]),
                    Case.classification != Classification.excluded,
                )
            )
            if pid is not None
        )
    return found
