"""Keyboard focus is visible wherever it lands: the ring stands out from what is around it (WCAG 1.4.11)."""

import re

import pytest

from tests.browser.conftest import log_in

pytestmark = pytest.mark.browser


def luminance(rgb: str) -> float:
    channels = [int(n) / 255 for n in re.findall(r"\d+", rgb)[:3]]
    linear = [c / 12.92 if c <= 0.03928 else ((c + 0.055) / 1.055) ** 2.4 for c in channels]
    return 0.2126 * linear[0] + 0.7152 * linear[1] + 0.0722 * linear[2]


def contrast(a: str, b: str) -> float:
    high, low = sorted((luminance(a), luminance(b)), reverse=True)
    return (high + 0.05) / (low + 0.05)


RING_AND_GROUND = """el => {
  let ground = el.parentElement;
  const clear = node => getComputedStyle(node).backgroundColor === "rgba(0, 0, 0, 0)";
  while (ground && clear(ground)) ground = ground.parentElement;
  return [getComputedStyle(el).outlineColor, getComputedStyle(ground || document.body).backgroundColor];
}"""


def test_the_focus_ring_contrasts_with_the_card_and_with_the_top_bar(page, seeded):
    log_in(page, "eve")
    page.goto("/findings/?status=open")
    for target in (page.locator("#id_q"), page.locator("tr.finding-row td.finding a").first,
                   page.locator(".topbar nav a").first):  # fmt: skip
        target.focus()
        page.keyboard.press("Shift+Tab")
        page.keyboard.press("Tab")  # focus from the keyboard, so :focus-visible applies
        ring, ground = page.evaluate(RING_AND_GROUND, target.element_handle())
        assert contrast(ring, ground) >= 3, (ring, ground)
