"""Keyboard-only use, a phone-width screen and the batch page's accessibility, in a real browser."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect

from batch.services import batch_submit
from tests.batch.conftest import wait_final
from tests.browser.conftest import ARTIFACTS, login, shot
from tests.browser.test_trainer_flows import restrict, update_ops
from tests.factories import PlayerFactory, WorkoutFactory
from workouts.models import Workout

pytestmark = [pytest.mark.browser, pytest.mark.worker]
PHONE = {"width": 390, "height": 844}


def focused(page, selector: str) -> bool:
    return page.evaluate("s => !!document.activeElement && document.activeElement.matches(s)", selector)


def tab_to(page, selector: str, *, limit: int = 80, back: bool = False) -> None:
    """Press Tab (Shift+Tab with back) until the focused element matches selector."""
    for _ in range(limit):
        if focused(page, selector):
            return
        page.keyboard.press("Shift+Tab" if back else "Tab")
    assert focused(page, selector), f"Tab never reached {selector}"


def focus_ring(page) -> dict:
    return page.evaluate(
        """() => { const s = getComputedStyle(document.activeElement);
                   return {style: s.outlineStyle, width: parseFloat(s.outlineWidth),
                           color: s.outlineColor}; }"""
    )


def assert_visible_focus(page) -> None:
    ring = focus_ring(page)
    assert ring["style"] != "none" and ring["width"] >= 2, ring
    # No faint rings: the colour must not be mostly transparent.
    alpha = re.search(r"rgba\([^)]*,\s*([\d.]+)\)", ring["color"])
    assert alpha is None or float(alpha.group(1)) >= 0.6, ring


def no_horizontal_scroll(page) -> None:
    sizes = page.evaluate("() => ({scroll: document.documentElement.scrollWidth, inner: window.innerWidth})")
    assert sizes["scroll"] <= sizes["inner"] + 1, sizes


def test_keyboard_only_select_range_open_escape_validate_and_run(page, trainer, team, workers):
    WorkoutFactory.create_batch(6, team=team, type=Workout.Type.STRENGTH)
    workers.start()

    page.goto("/login/")
    page.keyboard.press("Tab")
    tab_to(page, "input[name=username]")
    page.keyboard.type("alice")
    page.keyboard.press("Tab")
    page.keyboard.type("hockeyhub")
    page.keyboard.press("Enter")
    page.wait_for_url("**/workouts/**")

    count = page.get_by_test_id("selection-count")
    tab_to(page, "input[data-select-row]")
    assert_visible_focus(page)
    assert page.evaluate("document.activeElement.getAttribute('aria-label')").startswith("Select ")
    page.keyboard.press("Space")
    expect(count).to_have_text("1 of 6 selected")
    # Three rows further down (each row also holds the workout's link): Shift+Space selects the range.
    for _ in range(3):
        page.keyboard.press("Tab")
        tab_to(page, "input[data-select-row]")
    assert page.evaluate("document.activeElement.closest('tr').rowIndex") == 4
    page.keyboard.press("Shift+Space")
    expect(count).to_have_text("4 of 6 selected")
    expect(page.locator("tr.is-selected")).to_have_count(4)

    # Open the Edit dialog from the keyboard; Escape closes it and focus goes back to the opener.
    tab_to(page, "a[data-op=update]")
    assert_visible_focus(page)
    page.keyboard.press("Enter")
    dialog = page.locator("#op-modal")
    expect(dialog).to_be_visible()
    expect(dialog).to_have_accessible_name("Edit")
    assert page.evaluate("document.getElementById('op-modal').contains(document.activeElement)")
    page.keyboard.press("Escape")
    expect(dialog).to_be_hidden()
    assert focused(page, "a[data-op=update]")

    # Again; Tab stays inside the dialog (both ways round), Validate then Run by Tab + Enter.
    page.keyboard.press("Enter")
    expect(dialog).to_be_visible()
    tab_to(page, "#op_name")
    page.keyboard.type("Renamed by keyboard")
    tab_to(page, "#op-validate")
    assert_visible_focus(page)
    for _ in range(30):
        page.keyboard.press("Tab")
        assert page.evaluate("document.getElementById('op-modal').contains(document.activeElement)")
    page.keyboard.press("Shift+Tab")
    assert page.evaluate("document.getElementById('op-modal').contains(document.activeElement)")
    tab_to(page, "#op-validate")
    page.keyboard.press("Enter")
    expect(dialog.get_by_test_id("dry-run")).to_contain_text("ready to run")
    assert focused(page, "#op-validate"), "focus is lost when the dry run swaps in"
    page.keyboard.press("Tab")
    assert focused(page, "#op-run:not([disabled])")
    assert_visible_focus(page)
    shot(page, "12-keyboard-run-focused")
    page.keyboard.press("Enter")
    page.wait_for_url(re.compile(r"/batches/\d+/$"))
    expect(page.get_by_test_id("outcome")).to_contain_text("Completed", timeout=30_000)
    assert Workout.objects.filter(name="Renamed by keyboard").count() == 4


def test_phone_width_list_dialog_and_batch_page_fit_the_screen(page, trainer, team, workers):
    page.set_viewport_size(PHONE)
    workouts = WorkoutFactory.create_batch(
        3, team=team, name="A long workout name that has to wrap on a phone screen"
    )
    restrict(PlayerFactory(team=team, first_name="Mod", last_name="Ified"), severity="moderate")
    PlayerFactory(team=team, first_name="Fit", last_name="Fine")
    workers.start()
    batch = batch_submit(user=trainer, team=team, raw=update_ops(workouts, notifyOnComplete=False))

    login(page, "alice")
    page.locator("input[data-select-row]").first.check()
    expect(page.get_by_test_id("selection-count")).to_have_text("1 of 3 selected")
    no_horizontal_scroll(page)
    shot(page, "phone-workouts")

    page.click("a[data-op=assign]")
    dialog = page.locator("#op-modal")
    expect(dialog).to_be_visible()
    dialog.locator("details.advanced summary").click()
    no_horizontal_scroll(page)
    box = dialog.bounding_box()
    assert box["x"] >= 0 and box["x"] + box["width"] <= PHONE["width"] + 1, box
    body = dialog.locator(".modal__body")
    assert body.evaluate("el => el.scrollWidth <= el.clientWidth + 1"), "the dialog scrolls sideways"
    expect(dialog.locator("#op-validate")).to_be_in_viewport()
    expect(dialog.locator("#op-run")).to_be_in_viewport()
    page.screenshot(path=str(ARTIFACTS / "phone-dialog.png"))  # the viewport: the dialog is on top
    page.keyboard.press("Escape")

    wait_final(batch.pk)
    page.goto(f"/batches/{batch.pk}/")
    expect(page.get_by_test_id("outcome")).to_contain_text("Completed")
    no_horizontal_scroll(page)
    expect(page.get_by_role("progressbar", name="Batch progress")).to_be_visible()
    shot(page, "phone-batch")

    page.goto("/batches/")
    no_horizontal_scroll(page)
    shot(page, "phone-history")


def test_batch_page_announces_state_changes_politely(page, trainer, team, workers):
    workouts = Workout.objects.bulk_create(
        [Workout(team=team, name=f"W{i}", type=Workout.Type.STRENGTH) for i in range(3000)]
    )
    batch = batch_submit(user=trainer, team=team, raw=update_ops(workouts, chunkSize=1, maxConcurrency=1))
    login(page, "alice")
    page.goto(f"/batches/{batch.pk}/")
    status = page.locator("#progress-status")
    expect(status).to_have_attribute("aria-live", "polite")
    expect(status).to_have_attribute("role", "status")
    expect(status).to_have_text(f"Batch {batch.pk} is Queued")
    # Only the status line is live: the bar and the counts polled every second are not.
    assert page.locator("#progress [aria-live]").count() == 1
    assert page.locator("#progress-poll").evaluate("el => !el.closest('[aria-live]')")
    bar = page.get_by_role("progressbar", name="Batch progress")
    expect(bar).to_have_attribute("aria-valuetext", "0 of 3000 done")

    # The live region stays the same node (so assistive tech hears the change) while its text changes.
    status.evaluate("el => { el.dataset.original = '1'; }")
    workers.start()
    expect(status).to_have_text(f"Batch {batch.pk} is Running", timeout=20_000)
    expect(status).to_have_attribute("data-original", "1")
    expect(bar).not_to_have_attribute("aria-valuetext", "0 of 3000 done")
    page.get_by_role("button", name="Cancel batch").click()
    expect(page.get_by_test_id("outcome")).to_contain_text("Cancelled", timeout=30_000)
    expect(status).to_have_text(f"Batch {batch.pk} is Cancelled")
