"""The provider's webhook: the replies people send to our number (Twilio posts `From` and
`Body`). Only STOP and START words are acted on; no body and no number is logged or kept."""

import logging

from django.conf import settings
from django.core.exceptions import ValidationError
from django.http import HttpResponse, HttpResponseForbidden
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_POST

from recruitment.contact import phone_e164
from recruitment.texts import services
from recruitment.texts.signatures import twilio_signature_valid

logger = logging.getLogger(__name__)

# An empty TwiML answer: Twilio sends no reply of ours (its own STOP reply is the carrier's).
EMPTY_TWIML = '<?xml version="1.0" encoding="UTF-8"?><Response></Response>'


@csrf_exempt  # posted by the provider, who proves itself with its signature instead
@require_POST
def inbound(request):
    params = {name: request.POST.get(name, "") for name in request.POST}
    if not twilio_signature_valid(
        url=request.build_absolute_uri(),
        params=params,
        auth_token=settings.TEXT_TWILIO_AUTH_TOKEN,
        signature=request.headers.get("X-Twilio-Signature", ""),
    ):
        logger.warning("Inbound text refused: the signature does not match")
        return HttpResponseForbidden("Signature does not match.")
    try:
        phone = phone_e164(params.get("From", ""))
    except ValidationError:  # a number we cannot read is not one we text
        phone = ""
    outcome = services.REPLY_OTHER
    if phone:
        outcome = services.text_reply_record(phone=phone, body=params.get("Body", ""))
    logger.info("Inbound text handled: %s", outcome)
    return HttpResponse(EMPTY_TWIML, content_type="text/xml")
