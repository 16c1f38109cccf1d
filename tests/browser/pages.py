"""What the browser journeys share: counting the pages a journey loads, and the admin's
success message."""

from urllib.parse import urlsplit

from playwright.sync_api import Page


def count_page_loads(page: Page) -> list[str]:
    """The paths of the documents the page renders from now on, in order (redirects are not
    pages). Counted on each response, which arrives before the page shows anything a test
    waits for, so the count cannot lag behind the page on a busy machine."""
    loads = []
    page.on(
        "response",
        lambda response: (
            loads.append(urlsplit(response.url).path)
            if response.request.resource_type == "document"
            and response.request.frame == page.main_frame
            and not 300 <= response.status < 400
            else None
        ),
    )
    return loads


def success_message(page: Page):
    return page.locator("ul.messagelist li.success")


def card_step(page: Page, label: str) -> None:
    """Press one of the call card's next steps (a button where it posts, a link to a form)."""
    actions = page.locator("#call-card .call-card-actions")
    actions.get_by_role("button", name=label, exact=True).or_(
        actions.get_by_role("link", name=label, exact=True)
    ).click()
