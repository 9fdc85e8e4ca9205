"""Trust and school codes: they go into case references and the audit trail."""

import pytest

from tracker.errors import ValidationFailed
from tracker.orgs.services import add_school, create_trust


@pytest.mark.parametrize(
    "code",
    [
        pytest.param("A", id="too short"),
        pytest.param("ABCDEFGHIJKLM", id="too long"),
        pytest.param("ÉCOLE", id="accented letter"),
        pytest.param("ＡＢ１", id="full-width letters and digit"),
        pytest.param("AB-1", id="punctuation"),
        pytest.param("A B", id="space"),
    ],
)
def test_codes_are_two_to_twelve_plain_letters_or_digits(db, make, code):
    with pytest.raises(ValidationFailed, match=r"2 to 12 letters \(A to Z\) or digits"):
        create_trust(name="A Trust", code=code)
    db.session.rollback()
    trust = make.trust()
    with pytest.raises(ValidationFailed, match=r"2 to 12 letters \(A to Z\) or digits"):
        add_school(trust, name="A School", code=code)
    db.session.rollback()


def test_a_plain_code_is_accepted_in_upper_case(db):
    trust = create_trust(name="A Trust", code="hmat2")
    school = add_school(trust, name="A School", code="nfp")
    assert (trust.code, school.code) == ("HMAT2", "NFP")
    db.session.rollback()
