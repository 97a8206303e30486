import pytest


@pytest.fixture
def world(db):  # type: ignore[no-untyped-def]
    # Imports register places and hazards without checklist items: skip loading them.
    from bihuan.testing import build_world

    return build_world(with_checklists=False)
