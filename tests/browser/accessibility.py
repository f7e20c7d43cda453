"""axe-core, from the npm registry, run against a page in the browser (WCAG 2.2 AA)."""

from pathlib import Path

from playwright.sync_api import Page

AXE = Path(__file__).resolve().parents[2] / "node_modules" / "axe-core" / "axe.min.js"
WCAG_AA_TAGS = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa", "wcag22aa"]


def assert_accessible(page: Page) -> None:
    """Fail with each rule broken and where, if axe finds any WCAG 2.2 A/AA violation."""
    # evaluate() is not subject to the page's Content-Security-Policy; a <script> tag would be.
    page.evaluate(AXE.read_text(encoding="utf-8"))
    violations = page.evaluate(
        "tags => axe.run(document, {runOnly: {type: 'tag', values: tags}}).then(r => r.violations.map("
        "v => ({id: v.id, help: v.help, nodes: v.nodes.map(n => ({target: n.target.join(' '), html: n.html}))})))",
        WCAG_AA_TAGS,
    )
    result = []
    for violation in violations:
        # govuk-frontend sets aria-expanded on a radio that reveals a conditional question: a
        # deliberate, researched exception (alphagov/govuk-frontend#979). Only that is let through.
        nodes = [
            node["target"]
            for node in violation["nodes"]
            if not (
                violation["id"] == "aria-allowed-attr"
                and "govuk-radios__input" in node["html"]
                and "aria-controls" in node["html"]
            )
        ]
        if nodes:
            result.append({**violation, "nodes": nodes})
    assert result == [], "\n".join(f"{v['id']}: {v['help']} at {v['nodes']}" for v in result)


def assert_reflows_at_320px(page: Page) -> None:
    """WCAG 2.2 1.4.10 Reflow: at 320 CSS pixels wide the page must not scroll sideways.
    Sets the viewport to 320 px wide, reloads nothing, and checks the page's own width."""
    page.set_viewport_size({"width": 320, "height": 900})
    width = page.evaluate("() => [document.documentElement.scrollWidth, window.innerWidth]")
    assert width[0] <= width[1], f"the page is {width[0]} px wide in a {width[1]} px window"
