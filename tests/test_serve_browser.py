"""The audition page in a real browser: headless Chromium driven by Selenium, against a real `vcfx serve`.

Skipped only where no Chromium and chromedriver are installed (CI installs the Debian packages
`chromium` and `chromium-driver`, see .ci/run).
"""

from __future__ import annotations

import shutil
import tempfile
import time

import pytest

import vcfx

from servers import start, stop

from selenium import webdriver
from selenium.webdriver.chrome.service import Service
from selenium.webdriver.common.by import By
from selenium.webdriver.support.ui import Select

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser") or shutil.which("google-chrome")
DRIVER = shutil.which("chromedriver")
pytestmark = pytest.mark.skipif(CHROMIUM is None or DRIVER is None,
                                reason="no chromium/chromedriver (apt-get install chromium chromium-driver)")
FLAGS = ("--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
         "--disable-background-networking", "--disable-component-update", "--disable-sync",
         "--window-size=1500,1300",
         "--use-fake-device-for-media-stream", "--use-fake-ui-for-media-stream")  # a microphone that beeps
WAIT_S = 120  # a render on a busy machine; the page itself has no time limit


@pytest.fixture(scope="module")
def server():
    running = start()
    try:
        yield running
    finally:
        stop(running)


@pytest.fixture(scope="module")
def browser():
    options = webdriver.ChromeOptions()
    options.binary_location = CHROMIUM
    for flag in FLAGS:
        options.add_argument(flag)
    profile = tempfile.mkdtemp(prefix="vcfx-chromium-")
    options.add_argument(f"--user-data-dir={profile}")
    driver = webdriver.Chrome(service=Service(DRIVER), options=options)
    try:
        yield driver
    finally:
        driver.quit()
        shutil.rmtree(profile, ignore_errors=True)


def wait_for(driver, script: str, what: str):
    """Poll a JavaScript expression until it is truthy (WAIT_S at most)."""
    deadline = time.monotonic() + WAIT_S
    while time.monotonic() < deadline:
        value = driver.execute_script(f"return {script}")
        if value:
            return value
        time.sleep(0.1)
    status = driver.find_element(By.ID, "status").text
    raise AssertionError(f"the page never showed {what}; its status line says: {status}")


def open_page(driver, server, fragment: str = ""):
    driver.get("about:blank")  # so that a new fragment loads the page anew
    driver.get(server.url + fragment)
    wait_for(driver, "document.body.dataset.ready === 'true'", "that it is ready")


def test_the_page_loads_with_the_token_and_not_without(browser, server):
    browser.get(server.base + "/")
    assert "needs its token" in browser.find_element(By.TAG_NAME, "body").text
    open_page(browser, server)
    assert browser.title == "vcfx audition"
    engines = [o.get_attribute("value") for o in browser.find_elements(By.CSS_SELECTOR, "#engine option")]
    assert engines == [""] + vcfx.chain.engines()
    assert browser.find_element(By.ID, "status").text == f"voice: {vcfx.example_voice().duration_s:.2f} s, 22050 Hz"


def test_one_control_group_per_effect_with_the_declared_ranges(browser, server):
    open_page(browser, server)
    groups = browser.find_elements(By.CSS_SELECTOR, "#palette .palette-effect")
    assert [g.get_attribute("data-effect") for g in groups] == vcfx.effects()
    for index, name in enumerate(vcfx.effects()):
        browser.find_element(By.CSS_SELECTOR, f'.palette-effect[data-effect="{name}"] button').click()
        card = browser.find_element(By.CSS_SELECTOR, f'#chain .effect[data-index="{index}"]')
        assert card.get_attribute("data-effect") == name
        for param in vcfx.effect_class(name).params:
            row = card.find_element(By.CSS_SELECTOR, f'.param[data-param="{param.name}"]')
            if param.file:
                kind = "input[type=file]" if param.file == "data" else ".hint"
                assert row.find_elements(By.CSS_SELECTOR, kind), (name, param.name)
            elif param.type is bool:
                box = row.find_element(By.CSS_SELECTOR, "input[type=checkbox]")
                assert box.is_selected() == param.default
            elif param.choices:
                options = [o.get_attribute("value") for o in row.find_elements(By.TAG_NAME, "option")]
                assert [o for o in options if o] == list(param.choices), (name, param.name)
            elif param.type in (int, float) and param.low is not None and param.high is not None:
                slider = row.find_element(By.CSS_SELECTOR, "input[type=range]")
                assert float(slider.get_attribute("min")) == param.low, (name, param.name)
                assert float(slider.get_attribute("max")) == param.high, (name, param.name)
                if param.default is not None:
                    assert float(slider.get_attribute("value")) == pytest.approx(param.default)
                assert param.unit in row.text
            else:
                assert row.find_element(By.CSS_SELECTOR, "input.text"), (name, param.name)
            shown = row.find_element(By.CSS_SELECTOR, ".range").text
            assert (param.doc if param.file == "data" else param.range_text) in shown, (name, param.name)


def test_a_render_plays_with_the_input_duration_and_ab_keeps_the_position(browser, server, tmp_path):
    open_page(browser, server, "#chain=pitch_shift%3Dsemitones%3D4&seed=0")
    browser.find_element(By.ID, "render").click()
    wait_for(browser, "document.body.dataset.rendered", "a rendered result")
    duration = wait_for(browser, "isFinite(document.getElementById('result-audio').duration) && "
                                 "document.getElementById('result-audio').duration", "the result's duration")
    assert duration == pytest.approx(vcfx.example_voice().duration_s, abs=1e-3)
    played = browser.execute_async_script("""
        const done = arguments[arguments.length - 1];
        const a = document.getElementById('result-audio');
        a.muted = true;
        a.play().then(() => setTimeout(() => { a.pause(); done(a.currentTime); }, 400),
                      (e) => done('refused: ' + e.message));
    """)
    assert not isinstance(played, str), played
    assert played > 0.1
    # A/B: the original takes over at the result's position
    browser.execute_script("const a = document.getElementById('result-audio'); a.currentTime = 1.5;")
    assert "B (result)" in browser.find_element(By.ID, "ab").text
    browser.find_element(By.ID, "ab").click()
    at = browser.execute_script("return document.getElementById('original-audio').currentTime")
    assert at == pytest.approx(1.5, abs=0.05)
    assert "A (original)" in browser.find_element(By.ID, "ab").text
    cents = browser.find_element(By.ID, "pitch-change").text
    assert cents.endswith("cents") and abs(float(cents.split()[0]) - 400) < 20
    assert browser.find_element(By.ID, "spec-text").get_attribute("value") == "pitch_shift=semitones=4"
    assert 'effect = "pitch_shift"' in browser.find_element(By.ID, "preset-text").get_attribute("value")
    assert "chain=pitch_shift%3Dsemitones%3D4" in browser.current_url
    browser.save_screenshot(str(tmp_path / "serve.png"))


def test_an_out_of_range_value_shows_the_error_next_to_its_field(browser, server):
    open_page(browser, server, "#chain=pitch_shift%3Dsemitones%3D4&seed=0")
    field = browser.find_element(By.CSS_SELECTOR, '#chain .effect[data-index="0"] .param[data-param="semitones"] input.text')
    field.clear()
    field.send_keys("40")
    with pytest.raises(vcfx.ParameterError) as expected:
        vcfx.effect("pitch_shift", semitones=40)
    error = wait_for(browser, "document.querySelector('[data-error-for=\"chain.0.semitones\"]').textContent",
                     "the range error")
    assert error == str(expected.value) == "semitones=40 is outside [-24, 24]"


def test_a_text_file_named_wav_shows_a_clear_error(browser, server, tmp_path):
    open_page(browser, server)
    fake = tmp_path / "notes.wav"
    fake.write_text("these are my notes, not a recording\n" * 50)
    browser.find_element(By.ID, "voice-file").send_keys(str(fake))
    error = wait_for(browser, "document.getElementById('error-audio').textContent", "the upload error")
    assert error.startswith("cannot read notes.wav as audio")
    assert str(tmp_path) not in error


def test_a_recording_made_in_the_page_becomes_the_voice(browser, server):
    open_page(browser, server)
    browser.find_element(By.ID, "record").click()
    wait_for(browser, "document.getElementById('record').textContent === 'stop'", "the recorder running")
    time.sleep(1.5)
    browser.find_element(By.ID, "record").click()
    status = wait_for(browser, "document.getElementById('status').textContent.startsWith('voice:') && "
                               "document.querySelector('input[name=voice][value=recording]').checked && "
                               "document.getElementById('status').textContent", "the recording measured")
    seconds = float(status.split()[1])
    assert 1.0 < seconds < 3.0, status  # about the 1.5 s recorded


def test_a_preset_fills_the_chain_and_the_link_holds_it(browser, server):
    open_page(browser, server)
    name = sorted(vcfx.presets())[0]
    expected = vcfx.preset(name)
    Select(browser.find_element(By.ID, "preset")).select_by_visible_text(name)
    wait_for(browser, f"document.querySelectorAll('#chain .effect').length === {len(expected)}", "the preset's effects")
    cards = browser.find_elements(By.CSS_SELECTOR, "#chain .effect")
    assert [c.get_attribute("data-effect") for c in cards] == [e.name for e in expected]
    link = browser.current_url
    open_page(browser, server, "#" + link.split("#", 1)[1])  # the link alone rebuilds the same chain
    cards = browser.find_elements(By.CSS_SELECTOR, "#chain .effect")
    assert [c.get_attribute("data-effect") for c in cards] == [e.name for e in expected]
