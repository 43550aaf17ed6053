"""The API description at /docs in a real browser: vendored Swagger UI, under the app's CSP."""

from urllib.parse import urlsplit


def test_the_api_description_renders_from_our_own_files_under_the_csp(page, live_server):
    requested = []
    page.on("request", lambda request: requested.append(request.url))
    page.goto("/docs")
    page.locator(".opblock").first.wait_for()
    description = page.request.get("/openapi.json").json()
    operations = sum(len(methods) for methods in description["paths"].values())
    assert page.locator(".opblock").count() == operations  # every operation of the API
    assert "Hotline" in page.locator(".info .title").inner_text()
    page.locator(".opblock-summary", has_text="/healthz").first.click()
    page.locator(".opblock-body").first.wait_for()  # an operation opens
    hosts = {urlsplit(url).netloc for url in requested if not url.startswith("data:")}
    assert hosts == {urlsplit(live_server.url).netloc}  # nothing from a CDN
    # The page fixture fails the test on any console error, a CSP violation included.


def test_there_is_no_second_description_page(page):
    assert page.goto("/redoc").status == 404
    page.console_errors.clear()  # Chromium logs the 404
