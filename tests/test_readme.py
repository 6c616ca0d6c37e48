"""The READMEs' links lead somewhere in this repository: a fresh clone has no sibling folders."""

import re

import pytest

from tests.support.sandbox import REPO_ROOT

READMES = ["README.md", "sandbox/README.md"]
LINK = re.compile(r"\]\(([^)\s]+)\)")


@pytest.mark.parametrize("readme", READMES)
def test_every_relative_link_is_a_file_of_this_repository(readme):
    path = REPO_ROOT / readme
    targets = [
        target.split("#")[0]
        for target in LINK.findall(path.read_text())
        if not target.startswith(("http://", "https://", "#", "mailto:"))
    ]
    assert targets, "expected the README to link its documents"
    for target in targets:
        resolved = (path.parent / target).resolve()
        assert resolved.is_relative_to(REPO_ROOT.resolve()), f"{target} is outside the repository"
        assert resolved.is_file(), f"{target} does not exist"
