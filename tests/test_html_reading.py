"""The test helper that blanks random tokens before absence checks."""

from tests.html_reading import without_random_tokens


def test_random_tokens_are_blanked_and_names_contact_details_and_urls_are_kept():
    page = (
        '<input name="csrfmiddlewaretoken" value="q7LeeZ0rT9xWm2Kc4Vb8Nn1Hh5Jj3Gg6Ff0Dd2Ss">'
        " Ann Lee ann.lee@example.com 205-555-0134 LDN-S-0001"
        ' <a href="/admin/recruitment/participant/?q=Lee">/resume/Xy_9-LeeAbCdEfGhIjKlMnOpQr/</a>'
    )

    kept = without_random_tokens(page)

    assert "q7Lee" not in kept and "9-Lee" not in kept
    assert kept.count("[token]") == 2
    for value in ("Ann Lee", "ann.lee@example.com", "205-555-0134", "LDN-S-0001", "?q=Lee"):
        assert value in kept
