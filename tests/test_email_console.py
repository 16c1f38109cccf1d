"""`make serve` writes emails to its console, which is the server's log: the console backend
it uses (recruitment.email_backends) keeps the tokens of patients' links out of it, and
everything else in the email in."""

import re
from io import StringIO

from django.core.mail import EmailMultiAlternatives

from recruitment.email_backends import RedactingConsoleEmailBackend
from recruitment.intake.withdraw import withdraw_token_make
from recruitment.models import Participant
from tests.factories import ldn_form_data
from tests.test_settings import read_settings

FORM_URL = "/studies/ldn-mecfs/interest/"
BACKEND = "recruitment.email_backends.RedactingConsoleEmailBackend"


def sent_through_the_backend(client, settings, django_capture_on_commit_callbacks, capsys):
    """Send the form as a patient does, with the backend writing to the console."""
    settings.EMAIL_BACKEND = BACKEND
    html = client.get(FORM_URL).content.decode()
    issued = re.search(r'name="form_issued" value="([^"]+)"', html).group(1)
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(FORM_URL, ldn_form_data(form_issued=issued, token="t-1"))
    assert response.status_code == 302
    return capsys.readouterr().out


def test_the_confirmation_email_reaches_the_console_without_its_withdraw_token(
    client, ldn_study, settings, django_capture_on_commit_callbacks, capsys
):
    out = sent_through_the_backend(client, settings, django_capture_on_commit_callbacks, capsys)

    participant = Participant.objects.get()
    # The signed link's payload (pk and nonce; the signature and time follow it) is gone.
    payload = withdraw_token_make(participant=participant).split(":")[0]
    assert len(payload) > 10 and payload not in out
    assert re.findall(r"/withdraw/\S*", out) == ["/withdraw/[redacted]/"]
    # The rest of the email is there, as sent.
    assert "To: ann.lee@example.com" in out
    assert "Hello Ann," in out
    assert f"Your screening number is {participant.screening_number}." in out
    assert "Open this link to withdraw your interest." in out
    assert "  http://testserver/withdraw/[redacted]/\n" in out


def test_a_resume_link_and_an_html_part_are_redacted_too(capsys):
    link = "https://trial.example.edu/studies/ldn-mecfs/interest/resume/Zm9v.Ym-Fy_Yg:1s2t3u/"
    message = EmailMultiAlternatives(
        "Your saved answers", f"Open this link:\n{link}\nThanks.", to=["ann.lee@example.com"]
    )
    message.attach_alternative(f'<a href="{link}">Finish the form</a>', "text/html")
    stream = StringIO()

    sent = RedactingConsoleEmailBackend(stream=stream).send_messages([message])

    out = stream.getvalue()
    assert sent == 1
    assert "Zm9v" not in out and "1s2t3u" not in out
    assert out.count("/studies/ldn-mecfs/interest/resume/[redacted]/") == 2
    assert "Open this link:" in out and "Finish the form" in out
    assert message.body == f"Open this link:\n{link}\nThanks."  # the message sent is untouched


def test_make_serve_writes_emails_through_the_redacting_backend():
    import subprocess

    from tests.test_serving import ROOT
    from tests.test_settings import clean_env

    result = subprocess.run(
        ["make", "--dry-run", "--always-make", "serve"],  # noqa: S607 (make from PATH)
        cwd=ROOT,
        env=clean_env(),
        capture_output=True,
        text=True,
        timeout=60,
    )

    gunicorn = [line for line in result.stdout.splitlines() if "bin/gunicorn" in line]
    assert len(gunicorn) == 1
    assert f'EMAIL_BACKEND="${{EMAIL_BACKEND:-{BACKEND}}}"' in gunicorn[0]


def test_development_keeps_django_s_console_backend_so_links_can_be_clicked():
    assert read_settings("EMAIL_BACKEND", DEBUG="1") == {
        "EMAIL_BACKEND": "django.core.mail.backends.console.EmailBackend"
    }
