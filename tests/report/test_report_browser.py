"""The HTML report in a real browser with the network cut off: plots draw, hover shows the frame."""

from pathlib import Path

import pytest

from framesift.report import build_report

CHROMIUM = Path("/usr/bin/chromium")

pytestmark = pytest.mark.browser

POINT_POSITION = """() => {
  const gd = document.querySelectorAll('.fs-map .plotly-graph-div')[0];
  const layout = gd._fullLayout, trace = gd._fullData[1];  // trace 1: the selected frames
  const box = gd.getBoundingClientRect();
  return {x: box.left + layout._size.l + layout.xaxis.l2p(trace.x[0]),
          y: box.top + layout._size.t + layout.yaxis.l2p(trace.y[0])};
}"""


@pytest.fixture(scope="module")
def page(synthetic_run):
    if not CHROMIUM.exists():
        pytest.skip(f"{CHROMIUM} not installed")
    sync_api = pytest.importorskip("playwright.sync_api")
    html = build_report(synthetic_run.workspace, synthetic_run.run_name, maps=["pca"], pdf=False)[0]
    with sync_api.sync_playwright() as p:
        browser = p.chromium.launch(executable_path=str(CHROMIUM), args=["--no-sandbox", "--disable-gpu"])
        tab = browser.new_page(viewport={"width": 1300, "height": 900})
        requests: list[str] = []
        errors: list[str] = []
        tab.on("pageerror", lambda err: errors.append(str(err)))

        def only_local(route) -> None:
            requests.append(route.request.url)
            if route.request.url.startswith(("file:", "data:")):
                route.continue_()
            else:
                route.abort()

        tab.route("**/*", only_local)
        tab.goto(html.as_uri(), wait_until="load")
        tab.wait_for_function("document.body.dataset.ready === '1'", timeout=30_000)  # plots sized to their cells
        yield tab, requests, errors
        browser.close()


def test_report_opens_offline_without_errors(page):
    tab, requests, errors = page
    assert errors == []
    assert all(url.startswith(("file:", "data:")) for url in requests)
    drawn = tab.evaluate("document.querySelectorAll('.plotly-graph-div .main-svg').length")
    assert drawn >= 1 + 3 + 2  # a map, 3 timelines, class/metadata charts, coverage...


def test_hovering_a_selected_point_shows_its_thumbnail(page):
    tab, _, _ = page
    tab.locator("#maps").scroll_into_view_if_needed()
    target = tab.evaluate(POINT_POSITION)
    # record which point plotly reports (a neighbour may win when points overlap)
    tab.evaluate("""() => document.querySelectorAll('.fs-map .plotly-graph-div')[0]
        .on('plotly_hover', e => { window.hovered = String(e.points[0].customdata); })""")
    tab.mouse.move(target["x"] - 30, target["y"] - 30)
    tab.mouse.move(target["x"], target["y"], steps=5)
    tip = tab.locator("#fs-tip")
    tip.wait_for(state="visible", timeout=15_000)
    src = tab.locator("#fs-tip img").get_attribute("src")
    hovered = tab.evaluate("window.hovered")
    expected = tab.evaluate(f"JSON.parse(document.getElementById('fs-thumbs').textContent)['{hovered}']")
    assert src == expected and src.startswith("data:image/jpeg;base64,")
    assert "frame" in tab.locator("#fs-tip span").inner_text()
    tab.mouse.move(5, 5)
    tip.wait_for(state="hidden", timeout=15_000)
