"""A stand-in for Twilio's Messages API on loopback (http.server in a thread): it checks the
basic auth and the form fields, and answers as Twilio does (201 and a JSON body with the
message's sid; 400 and an error code; 503), as each test scripts it. Never the network."""

import base64
import json
import threading
import urllib.parse
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

SID = "AC" + "1" * 32
TOKEN = "stand-in-auth-token"
FROM = "+12055550100"


@dataclass
class StandIn:
    """Scripted answers, in order (the last repeats): (status, JSON body)."""

    answers: list = field(default_factory=lambda: [(201, {"sid": "SM" + "a" * 32})])
    received: list = field(default_factory=list)  # (path, auth ok, form fields)

    def answer(self):
        return self.answers.pop(0) if len(self.answers) > 1 else self.answers[0]


def handler_for(stand_in: StandIn):
    class Handler(BaseHTTPRequestHandler):
        def do_POST(self):  # noqa: N802
            length = int(self.headers.get("Content-Length", 0))
            form = dict(urllib.parse.parse_qsl(self.rfile.read(length).decode()))
            expected = "Basic " + base64.b64encode(f"{SID}:{TOKEN}".encode()).decode()
            auth_ok = self.headers.get("Authorization") == expected
            stand_in.received.append((self.path, auth_ok, form))
            if not auth_ok:
                status, body = 401, {"code": 20003, "message": "Authenticate"}
            elif self.path != f"/2010-04-01/Accounts/{SID}/Messages.json":
                status, body = 404, {"code": 20404, "message": "Not found"}
            elif not all(form.get(name) for name in ("To", "From", "Body")):
                status, body = 400, {"code": 21604, "message": "A field is missing"}
            else:
                status, body = stand_in.answer()
            payload = json.dumps(body).encode()
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(payload)))
            self.end_headers()
            self.wfile.write(payload)

        def log_message(self, *args):  # quiet
            pass

    return Handler


@pytest.fixture
def twilio(settings):
    """The stand-in, and the settings that send texts to it through the Twilio backend."""
    stand_in = StandIn()
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler_for(stand_in))
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    settings.TEXT_BACKEND = "recruitment.texts.backends.TwilioTextBackend"
    settings.TEXT_TWILIO_ACCOUNT_SID = SID
    settings.TEXT_TWILIO_AUTH_TOKEN = TOKEN
    settings.TEXT_FROM_NUMBER = FROM
    settings.TEXT_API_BASE_URL = f"http://127.0.0.1:{server.server_port}"
    settings.TEXT_TIMEOUT = 5
    try:
        yield stand_in
    finally:
        server.shutdown()
        server.server_close()
