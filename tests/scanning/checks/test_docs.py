"""docs/checks.md is generated from the registry and must be current."""

from pathlib import Path

from django.core.management import call_command

from posture.scanning.checks import load_catalogue
from posture.scanning.checks.docs import render_markdown

DOC = Path(__file__).resolve().parents[3] / "docs" / "checks.md"


def test_the_committed_checks_doc_is_current():
    assert DOC.read_text(encoding="utf-8") == render_markdown(), (
        "docs/checks.md is stale: run `python manage.py checks_doc`"
    )


def test_the_doc_describes_every_check_with_its_metadata():
    text = render_markdown()
    for check in load_catalogue():
        section = text.split(f'<a id="{check.id}"></a>', 1)[1].split("<a id=", 1)[0]
        assert check.title in section
        assert f"**Severity**: {check.severity}" in section
        assert "**Frameworks**" in section
        assert "**Remediation**" in section


def test_the_doc_explains_disagreements_and_system_rbac():
    text = render_markdown()
    assert "## Where tools disagree" in text
    assert "## How Kubernetes' own RBAC is recognised" in text


def test_the_command_reports_a_stale_file(tmp_path, capsys):
    target = tmp_path / "checks.md"
    call_command("checks_doc", output=str(target))
    call_command("checks_doc", output=str(target), check=True)
    assert "is current" in capsys.readouterr().out
