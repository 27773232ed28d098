"""Rule pack revisions (DOMAIN.md, "Rule packs"): revisions keep their numbers, the first is
frozen, an unknown one is refused, and every rule a later revision adds is cited."""

from __future__ import annotations

from datetime import date

import pytest

from ledger.errors import InvalidField
from ledger.rulepacks import LATEST_REVISION, PACKS, check_revision, pack_for

AS_OF = date(2026, 11, 23)


def test_the_revisions_of_a_pack_keep_their_numbers_and_the_first_is_frozen() -> None:
    (revisions,) = PACKS
    assert [pack.revision for pack in revisions] == [1, 2]
    assert pack_for(AS_OF, 1).refused_interview_deduction is None
    assert pack_for(AS_OF).revision == LATEST_REVISION == 2


@pytest.mark.parametrize("revision", [0, 3, -1])
def test_an_unknown_revision_is_refused_naming_the_parameter(revision: int) -> None:
    with pytest.raises(InvalidField) as refused:
        check_revision(revision)
    assert refused.value.field == "rule_revision"


def test_every_rule_of_revision_2_is_cited() -> None:
    pack = pack_for(AS_OF, 2)
    added = [
        getattr(pack, name)
        for name in pack.__struct_fields__
        if getattr(pack_for(AS_OF, 1), name) is None
    ]
    assert added
    for rule in added:
        assert rule.paragraph
        assert rule.source
