"""The web app in headless Chromium: label, build, see feeds change, reload, restart, two tabs."""

from __future__ import annotations

import httpx
import pytest

pytestmark = pytest.mark.browser


@pytest.fixture()
def page(browser):
    context = browser.new_context(viewport={"width": 1400, "height": 1000})
    page = context.new_page()
    page.errors = []
    page.on("pageerror", lambda err: page.errors.append(str(err)))
    yield page
    context.close()
    assert not page.errors, page.errors


def tile_ids(page, selector):
    return page.eval_on_selector_all(f"{selector} .tile", "els => els.map(e => Number(e.dataset.id))")


def open_page(page, url):
    page.goto(url)
    page.wait_for_function("FS.ready === true")


def wait_saved(page):
    page.wait_for_function("FS.pending === 0")


def api_labels(server, cid):
    rows = httpx.get(f"{server.url}/api/concepts/{cid}/labels").json()
    return {r["frame_id"]: r["value"] for r in rows if r["box_id"] == 0}


def video_id(server, name):
    return next(v["id"] for v in httpx.get(f"{server.url}/api/videos").json() if v["name"] == name)


def test_annotator_loop_label_build_feeds_change_and_labels_persist(page, server, clean):
    pos, neg = clean.positive_frame_ids, clean.negative_frame_ids
    page.on("dialog", lambda dialog: dialog.accept("red square"))
    open_page(page, f"{server.url}/annotate")
    page.click("#new-concept")
    page.wait_for_function("FS.conceptId !== null")
    cid = page.evaluate("FS.conceptId")

    def seed(frame_id, key, count):
        page.fill("#frame", str(frame_id))
        page.click("#frame-go")
        page.wait_for_function(f"document.querySelector('#status').textContent.includes('frame {frame_id}')")
        page.click("#results .tile >> nth=0")
        for _ in range(count):
            page.keyboard.press(key)

    seed(min(pos), "1", 4)
    street = sorted(neg)[-1]
    seed(street, "0", 4)
    wait_saved(page)
    seeded = api_labels(server, cid)
    assert len(seeded) == 8 and all((f in pos) == bool(v) for f, v in seeded.items())

    page.keyboard.press("b")
    page.wait_for_selector("#feed-positive .tile")
    first_model = page.get_attribute("#model-info", "data-model-id")
    positive_feed = tile_ids(page, "#feed-positive")
    assert len(positive_feed) == 12 and set(positive_feed) <= pos
    assert not set(tile_ids(page, "#feed-negative")) & pos
    random_before = tile_ids(page, "#feed-random")

    page.click("#feed-positive .tile >> nth=0")
    for _ in range(3):
        page.keyboard.press("1")
    page.click("#feed-borderline .tile >> nth=0")
    for _ in range(2):
        page.keyboard.press("0" if tile_ids(page, "#feed-borderline")[page.evaluate("FS.activeGrid.cursor")] in neg
                            else "1")
    wait_saved(page)
    page.click("#build")
    page.wait_for_function(f"document.querySelector('#model-info').dataset.modelId !== '{first_model}'")
    second_model = page.get_attribute("#model-info", "data-model-id")
    page.wait_for_function(f"document.querySelector('#feeds-info').textContent.endsWith('model #{second_model}')")
    page.wait_for_function("document.querySelectorAll('#feed-random .tile').length === 12")
    assert not set(tile_ids(page, "#feed-positive")) & set(positive_feed[:3])  # labeled frames left the feed
    assert tile_ids(page, "#feed-random") != random_before
    assert "held-out AP" in page.inner_text("#model-info")

    labels = api_labels(server, cid)
    assert len(labels) == 13 and all((f in pos) == bool(v) for f, v in labels.items())
    page.reload()
    page.wait_for_function("FS.ready === true")
    n_yes = sum(labels.values())
    assert page.inner_text("#counts") == f"{n_yes} yes · {13 - n_yes} no"
    open_page(page, f"{server.url}/review?concept={cid}")
    page.wait_for_selector("#grid .tile")
    assert len(tile_ids(page, "#grid")) == 13
    assert page.locator("#grid .tile.pos").count() == n_yes


def test_bulk_labeler_keyboard_range_prelabels_and_reload(page, server, clean):
    pos = clean.positive_frame_ids
    cid = httpx.post(f"{server.url}/api/concepts", json={"name": "bulk"}).json()["id"]
    parking = video_id(server, "parking")
    open_page(page, f"{server.url}/bulk?concept={cid}&video={parking}")
    page.wait_for_selector("#grid .tile")
    shown = tile_ids(page, "#grid")
    assert len(shown) == 48
    page.click("#grid .tile >> nth=0")
    for fid in shown[:20]:
        page.keyboard.press("1" if fid in pos else "0")
    page.evaluate("setRange(90, 99)")  # the slider's handler: frames 90-99 show the red square
    page.wait_for_function("document.querySelector('#range-text').textContent.startsWith('frames 90–99')")
    page.keyboard.press("Shift+Y")
    wait_saved(page)
    labels = api_labels(server, cid)
    in_range = {r[0] for r in clean.workspace.catalog.query(
        "SELECT id FROM frames WHERE video_id = ? AND frame_index BETWEEN 90 AND 99", (parking,))}
    assert len(in_range) == 10 and set(labels) == set(shown[:20]) | in_range
    assert all((f in pos) == bool(v) for f, v in labels.items())

    # Pre-labels: build a model, select everything shown, accept with Enter.
    assert httpx.post(f"{server.url}/api/concepts/{cid}/build", json={}).status_code == 200
    page.evaluate("setRange(0, 119)")
    page.wait_for_selector("#grid .tile .pre")
    page.keyboard.press("a")
    page.keyboard.press("Enter")
    wait_saved(page)
    labels = api_labels(server, cid)
    assert set(shown) <= set(labels) and all((f in pos) == bool(v) for f, v in labels.items())

    page.reload()
    page.wait_for_function("FS.ready === true")
    on_page = page.eval_on_selector_all("#grid .tile", "els => els.map(e => [Number(e.dataset.id), e.dataset.label])")
    assert all(label == str(labels[fid]) for fid, label in on_page)


def test_two_tabs_label_concurrently_and_labels_survive_a_restart(browser, server, clean):
    pos = clean.positive_frame_ids
    cid = httpx.post(f"{server.url}/api/concepts", json={"name": "two tabs"}).json()["id"]
    context = browser.new_context(viewport={"width": 1400, "height": 1000})
    tabs = [context.new_page(), context.new_page()]
    for tab, name in zip(tabs, ("parking", "street"), strict=True):
        open_page(tab, f"{server.url}/bulk?concept={cid}&video={video_id(server, name)}")
        tab.wait_for_selector("#grid .tile")
        tab.click("#grid .tile >> nth=0")
    shown = [tile_ids(tab, "#grid")[:15] for tab in tabs]
    for k in range(15):
        for tab, ids in zip(tabs, shown, strict=True):
            tab.keyboard.press("1" if ids[k] in pos else "0")
    for tab in tabs:
        wait_saved(tab)
    expected = {f: int(f in pos) for f in shown[0] + shown[1]}
    assert api_labels(server, cid) == expected
    context.close()

    server.stop()
    server.start()
    assert api_labels(server, cid) == expected
    context = browser.new_context()
    page = context.new_page()
    open_page(page, f"{server.url}/review?concept={cid}")
    page.wait_for_selector("#grid .tile")
    assert sorted(tile_ids(page, "#grid")) == sorted(expected)
    context.close()


def test_explorer_click_a_point_and_filter(page, server, clean):
    open_page(page, f"{server.url}/")
    page.wait_for_function("E.points && E.points.id && E.points.id.length === 220")
    box = page.locator("#map").bounding_box()
    target = page.evaluate("""() => { const c = document.getElementById('map');
        const [x, y] = toScreen(c, E.points.x[5], E.points.y[5]); return [x, y, E.points.id[5]]; }""")
    page.mouse.click(box["x"] + target[0], box["y"] + target[1])
    page.wait_for_selector("#info img")
    clicked = page.evaluate("E.picked")
    detail = httpx.get(f"{server.url}/api/frames/{clicked}").json()
    assert f"frame {detail['frame_index']}" in page.inner_text("#info")
    page.click("#add-filter")
    page.select_option("#filters .filter .field", "video||video")
    page.select_option("#filters .filter .val", "street")
    page.click("#apply")
    page.wait_for_function("E.points.points === 100")
    assert "100 frames match" in page.inner_text("#match-count")
    page.click("#grid .tile >> nth=0")
    page.keyboard.press("o")
    page.wait_for_selector("#frame-modal.open img")
    assert "street" in page.inner_text("#frame-modal")
